"""τ-bench v1's test tasks against their τ²-bench versions: which v1 tasks were defective
(their gold changed in τ²), and which of them our checks flag beforehand.

τ² (and then τ³) fixed tasks by hand; a v1 task whose gold writes differ from its τ²
version's had a wrong expected action, a data error or an ambiguity that the fix resolved.
Our checks are the deterministic part of `apigen-mt audit` (`audit_flags`: gold writes that
fail, gold actions that break the domain's policy rules) on the v1 task against v1's data;
`validate`'s generation stages are counted beside them (`checks="validate"`). The table
counts how many changed tasks they flag (caught), how many they miss, and how many unchanged
tasks they flag (false alarms).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .environments import Environment
from .environments.taubench import load_tasks
from .graphs.audit import audit_flags
from .validate import validate_tasks


class DefectRow(BaseModel):
    domain: str
    checks: str = "audit"
    v1_tasks: int
    matched: int  # v1 tasks with a τ² version
    changed: int  # ... whose gold writes changed in τ²
    flagged: int  # v1 tasks our checks flag
    caught: int  # changed and flagged
    missed: int  # changed, not flagged
    false_alarms: int  # unchanged, flagged
    flagged_by_stage: dict[str, int]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[#\w]+", text.lower()))


def _writes(actions: list[dict[str, Any]], write_names: set[str]) -> list[str]:
    return sorted(
        json.dumps([a["name"], a["arguments"]], sort_keys=True)
        for a in actions
        if a["name"] in write_names
    )


def match_tasks(v1: list[dict], tau2: list[dict]) -> dict[int, int]:
    """v1 index -> τ² index, by the words the instructions share (greedy, best first): τ²
    reworded the instructions but kept their ids, names and amounts."""
    v1_words = [_words(t["instruction"]) for t in v1]
    t2_words = [_words(json.dumps(t["user_scenario"])) for t in tau2]
    scores = sorted(
        (
            (len(a & b) / len(a | b), i, j)
            for i, a in enumerate(v1_words)
            for j, b in enumerate(t2_words)
        ),
        reverse=True,
    )
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for score, i, j in scores:
        if score < 0.3:
            break
        if i not in pairs and j not in used:
            pairs[i] = j
            used.add(j)
    return pairs


def defect_table(
    domain: str, taubench_dir: Path, tau2_dir: Path, checks: str = "audit"
) -> DefectRow:
    """One domain's row. `checks`: "audit" (audit_flags) or "validate" (every stage of the
    generation linter, which also refuses tasks without writes and τ-bench's totals)."""
    v1_path = taubench_dir / domain / "tasks_test.json"
    v1 = json.loads(v1_path.read_text())
    tau2 = json.loads((tau2_dir / "tau2" / "domains" / domain / "tasks.json").read_text())
    env = Environment.from_taubench(domain, taubench_dir / domain)
    writes = set(env.domain.tools.write_names)
    pairs = match_tasks(v1, tau2)
    changed = {
        i
        for i, j in pairs.items()
        if _writes(v1[i]["actions"], writes)
        != _writes(tau2[j]["evaluation_criteria"].get("actions") or [], writes)
    }
    tasks = load_tasks(v1_path)
    if checks == "validate":
        flags = {v.index: [f"{v.failed_stage}:"] if v.failed_stage else []
                 for v in validate_tasks(env, tasks)}  # fmt: skip
    else:
        flags = {i: audit_flags(env, t) for i, t in enumerate(tasks)}
    flagged = {i for i, f in flags.items() if f}
    by_stage: dict[str, int] = {}
    for found in flags.values():
        for kind in {f.split(":")[0] for f in found}:
            by_stage[kind] = by_stage.get(kind, 0) + 1
    matched = set(pairs)
    return DefectRow(
        domain=domain,
        checks=checks,
        v1_tasks=len(v1),
        matched=len(matched),
        changed=len(changed),
        flagged=len(flagged),
        caught=len(changed & flagged),
        missed=len(changed - flagged),
        false_alarms=len((matched - changed) & flagged),
        flagged_by_stage=by_stage,
    )


def markdown(rows: list[DefectRow]) -> str:
    head = (
        "| domain | checks | v1 tasks | with a τ² version | gold changed in τ² | flagged | "
        "changed & flagged | changed, missed | unchanged, flagged (false alarms) |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    return head + "".join(
        f"| {r.domain} | {r.checks} | {r.v1_tasks} | {r.matched} | {r.changed} | {r.flagged} "
        f"| {r.caught} | {r.missed} | {r.false_alarms} |\n"
        for r in rows
    )
