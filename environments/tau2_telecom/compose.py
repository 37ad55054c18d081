"""New telecom tasks composed as τ²'s generator composes its own: issue × fix × persona.

τ²'s telecom tasks are named `[intent]issue1|issue2|…[PERSONA:p]` and built from base
issues, each a way to break the phone or the line (initialization actions), the way to fix
it (gold actions, the user's and the agent's) and what must hold once fixed (env
assertions). Here the parts are learned from τ²'s *train* split only: an issue's break and
fix are the actions every train task with that issue shares, beyond its intent's common
setup. A composition is a new set of issues of one intent (never a task of τ²'s test split,
nor any of its 114 base tasks) with a persona; its scenario is the closest train task's,
its fixes run in τ²'s order (by issue name). Each composition is *proven* on the domain
before it is kept: its initial state must fail an assertion, and its gold actions, run
with their requestors, must make every assertion hold.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..scene import holds

TASK_ID = re.compile(r"^\[(\w+)\](.*)\[PERSONA:(\w+)\]$")


def family(issue: str) -> str:
    """Issues that cannot happen together (τ²'s generator allows one of each): the roaming
    variants, the messaging app's permission variants."""
    for prefix in ("user_abroad_roaming", "break_app_"):
        if issue.startswith(prefix):
            return prefix
    return issue


def parse_id(task_id: str) -> tuple[str, list[str], str]:
    match = TASK_ID.match(task_id)
    if match is None:
        raise ValueError(f"not a composed telecom task id: {task_id!r}")
    return match.group(1), match.group(2).split("|"), match.group(3)


def _key(action: dict[str, Any]) -> str:
    side = action.get("env_type") or action.get("requestor")
    name = action.get("func_name") or action.get("name")
    return json.dumps([side, name, action["arguments"], action.get("assert_value")], sort_keys=True)


class Catalogue:
    """Each (intent, issue)'s break, fix and assertions, learned from τ²'s train tasks."""

    def __init__(self, tasks: list[dict[str, Any]]):
        self.tasks = tasks
        shared: dict[str, list[set[str]]] = defaultdict(list)
        checks: dict[str, list[set[str]]] = defaultdict(list)
        by_issue: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self.actions: dict[str, dict[str, Any]] = {}
        for task in tasks:
            intent, issues, _ = parse_id(task["id"])
            keys = self._keys(task)
            shared[intent].append(keys["init"])
            checks[intent].append(keys["check"])
            for issue in issues:
                by_issue[(intent, issue)].append(keys)
        self.common = {i: set.intersection(*v) for i, v in shared.items()}
        # the assertions every train task of an intent states (its own, whatever the issues)
        self.intent_checks = {i: set.intersection(*v) for i, v in checks.items()}
        self.parts = {
            k: {
                part: set.intersection(*(v[part] for v in rows))
                - (self.common[k[0]] if part == "init" else set())
                for part in ("init", "fix", "check")
            }
            for k, rows in by_issue.items()
        }

    def _keys(self, task: dict[str, Any]) -> dict[str, set[str]]:
        crit = task["evaluation_criteria"]
        out = {}
        for part, actions in (
            ("init", task["initial_state"]["initialization_actions"]),
            ("fix", crit.get("actions") or []),
            ("check", crit.get("env_assertions") or []),
        ):
            keys = set()
            for a in actions:
                key = f"{part}:{_key(a)}"  # an init action and a fix may share a call
                self.actions[key] = a
                keys.add(key)
            out[part] = keys
        return out

    def issues(self, intent: str) -> list[str]:
        return sorted(i for (t, i) in self.parts if t == intent)

    def template(self, intent: str, issues: list[str], persona: str) -> dict[str, Any]:
        """The train task of the intent and persona sharing the most issues (its scenario
        and its order of actions)."""

        def overlap(t: dict[str, Any]) -> tuple[int, int]:
            _, mine, p = parse_id(t["id"])
            return (len(set(mine) & set(issues)), p == persona)

        same = [t for t in self.tasks if parse_id(t["id"])[0] == intent]
        return max(same, key=overlap)


def compose(catalogue: Catalogue, intent: str, issues: list[str], persona: str) -> dict[str, Any]:
    """A τ²-format task for the composition (not yet proven)."""
    issues = sorted(issues)
    template = catalogue.template(intent, issues, persona)
    order = {_key(a): n for n, a in enumerate(template["initial_state"]["initialization_actions"])}
    init = [k for k in catalogue.common[intent]]
    gold = [f"fix:{_key(a)}" for a in template["evaluation_criteria"].get("actions") or []]
    fixes: list[str] = []
    checks: set[str] = set()
    for issue in issues:
        part = catalogue.parts[(intent, issue)]
        init += sorted(part["init"] - set(init), key=lambda k: order.get(k, len(order)))
        ordered = sorted(part["fix"], key=lambda k: (gold.index(k) if k in gold else len(gold), k))
        fixes += [k for k in ordered if k not in fixes]
        checks |= part["check"]
    checks |= catalogue.intent_checks[intent]
    actions = [dict(catalogue.actions[k]) for k in fixes]
    for n, a in enumerate(actions):
        a["action_id"] = f"{a['name']}_{n}"
    scenario = json.loads(json.dumps(template["user_scenario"]))
    basis = (
        ["ENV_ASSERTION", "ACTION"]
        if any(a["name"] == "transfer_to_human_agents" for a in actions)
        else ["ENV_ASSERTION"]
    )
    return {
        "id": f"[{intent}]{'|'.join(issues)}[PERSONA:{persona}]",
        "description": {
            "purpose": f"Composed by apigen-mt from τ²'s train split: {intent}.",
            "relevant_policies": None,
            "notes": None,
        },
        "user_scenario": scenario,
        "ticket": template.get("ticket"),
        "initial_state": {
            "initialization_data": None,
            "initialization_actions": [catalogue.actions[k] for k in init],
            "message_history": None,
        },
        "evaluation_criteria": {
            "actions": actions,
            "env_assertions": [catalogue.actions[k] for k in sorted(checks)],
            "communicate_info": [],
            "nl_assertions": None,
            "reward_basis": basis,
        },
    }


def prove(env, task: dict[str, Any]) -> str:
    """'' when the task is sound on the domain: its setup runs, its initial state fails an
    assertion, its gold actions (with their requestors) succeed and make all hold."""
    from apigen_mt.environments.tau2.tasks import Tau2Task, as_task
    from apigen_mt.environments.taubench import TaubenchTask, run_setup

    loaded = TaubenchTask.model_validate(as_task(Tau2Task.model_validate(task), task["id"]))
    with env.sandbox() as sandbox:
        try:
            run_setup(sandbox, loaded)
        except ValueError as exc:
            return f"setup fails: {exc}"
        if all(holds(sandbox, a) for a in loaded.tau2["env_assertions"]):
            return "nothing is broken before the fix"
        for entry in sandbox.run(loaded.actions):
            if not entry.ok:
                return f"gold action fails: {entry.name}: {entry.observation}"
        failing = [a["func_name"] for a in loaded.tau2["env_assertions"] if not holds(sandbox, a)]
        return f"still failing after the fix: {failing}" if failing else ""


class Compositions:
    """Every candidate composition of a τ² telecom task file: issue sets of one intent
    from its train split, with a persona, shuffled by `seed`; and the overlap check
    against the rest of the file (never a τ² task, nor the issue set of a test task)."""

    def __init__(self, tasks_file: Path, *, seed: int = 0, max_issues: int = 3):
        tasks = json.loads(Path(tasks_file).read_text(encoding="utf-8"))
        splits = json.loads(Path(tasks_file).with_name("split_tasks.json").read_text())
        by_id = {t["id"]: t for t in tasks}
        self.catalogue = Catalogue([by_id[i] for i in splits["train"]])
        self.taken = set(by_id)
        self.test_sets = {
            (parse_id(i)[0], frozenset(parse_id(i)[1])) for i in splits.get("test", [])
        }
        personas = sorted({parse_id(t["id"])[2] for t in self.catalogue.tasks})
        self.candidates = [
            (intent, list(issues), persona)
            for intent in sorted(self.catalogue.common)
            for size in range(1, max_issues + 1)
            for issues in itertools.combinations(self.catalogue.issues(intent), size)
            if len({family(i) for i in issues}) == len(issues)
            for persona in personas
        ]
        random.Random(seed).shuffle(self.candidates)

    def task(self, env, candidate: tuple[str, list[str], str]) -> tuple[dict[str, Any], str]:
        """The candidate's proven task, or why it is left out (then the task is {})."""
        intent, issues, persona = candidate
        if (intent, frozenset(issues)) in self.test_sets:
            return {}, "the issues of a test task"
        task = compose(self.catalogue, intent, issues, persona)
        if task["id"] in self.taken:
            return {}, "a τ² task"
        problem = prove(env, task)
        return ({}, problem.split(":")[0]) if problem else (task, "")


def new_tasks(
    env, tasks_file: Path, *, n: int, seed: int = 0, max_issues: int = 3
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """`n` proven compositions (fewer if fewer exist), none of them a τ² task; and how
    many candidates were left out, by reason."""
    compositions = Compositions(tasks_file, seed=seed, max_issues=max_issues)
    kept: list[dict[str, Any]] = []
    left_out: dict[str, int] = defaultdict(int)
    for candidate in compositions.candidates:
        if len(kept) >= n:
            break
        task, problem = compositions.task(env, candidate)
        if problem:
            left_out[problem] += 1
        else:
            kept.append(task)
    return kept, dict(left_out)
