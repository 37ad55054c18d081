"""`apigen-mt audit`: is each task solvable, and solvable one way only?

k independent solver dialogues per task (the solver is the assistant role, on any model;
it never sees the gold — no dialogue's agent does), run as an evaluation. Then, per task:

- `unsolved`: no solver reached the gold state in k tries; the diff of the closest attempt
  (fewest differing rows) says what the gold wants that no solver did;
- `ambiguous`: solvers whose dialogues ended properly (the user stopped, no user-side
  failure) reached *different* final states: the instruction allows more than one outcome;
- the deterministic flags (apigen_mt.task_defects.audit_flags): gold writes that fail,
  gold actions that break the policy rules.

Each task's solve rate is stored (table `audits`) with the solver's model, for curricula.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from pydantic import BaseModel

from .environments import Environment
from .graphs.audit import TaskAudit, judge_task
from .store import RunStore


class AuditReport(BaseModel):
    audit_id: str
    model: str
    tasks: list[TaskAudit]

    @property
    def flagged(self) -> list[TaskAudit]:
        return [t for t in self.tasks if t.flags]

    def summary(self) -> dict[str, Any]:
        kinds: dict[str, int] = defaultdict(int)
        for t in self.tasks:
            for f in t.flags:
                kinds[f.split(":")[0]] += 1
        return {
            "audit_id": self.audit_id,
            "model": self.model,
            "tasks": len(self.tasks),
            "flagged": len(self.flagged),
            "flags": dict(kinds),
            "solve_rates": {t.task: t.solve_rate for t in self.tasks},
        }


def audit_report(store: RunStore, env: Environment, audit_id: str, model: str) -> AuditReport:
    """The flags of an audit run (an evaluation whose trials were the solver's), saved in
    the store's `audits` table."""
    by_task: dict[str, list[dict]] = defaultdict(list)
    for t in store.run_trajectories(audit_id):
        by_task[t["task_id"]].append(t)
    out = [
        judge_task(env, task["data"].get("source") or task["id"], task["data"], by_task[task["id"]])
        for task in store.tasks(audit_id)
    ]
    report = AuditReport(audit_id=audit_id, model=model, tasks=out)
    store.save_audit(report.audit_id, model, [t.model_dump() for t in out])
    return report


def render_flagged(report: AuditReport) -> list[str]:
    lines = []
    for t in report.flagged:
        lines.append(f"{t.task}: solved {t.solved}/{t.trials}")
        lines += [f"    {f}" for f in t.flags]
        for change in t.closest_diff[:6]:
            lines.append(f"    closest attempt vs gold: {json.dumps(change)[:200]}")
    return lines
