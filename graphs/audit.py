"""Auditing a task: the deterministic defects of its gold, and what k solver dialogues
say about it (unsolved, ambiguous). Used by `apigen-mt audit` and `generate --audit k`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from apigen_mt.agents import Action, Blueprint
from apigen_mt.environments import Environment
from apigen_mt.environments.taubench import TaubenchTask

from .checks import policy_check

PROPER_ENDINGS = ("user_stop", "agent_stop", "transfer")


class TaskAudit(BaseModel):
    task: str  # the task's source: FILE#i, FILE#<τ² id>, or a run's task id
    trials: int
    solved: int
    solve_rate: float
    flags: list[str]  # unsolved | ambiguous | gold write fails: ... | policy: ...
    closest_diff: list[dict[str, Any]] = []  # for an unsolved task
    final_states: int = 0  # distinct final states of the properly ended dialogues


def audit_flags(env: Environment, task: TaubenchTask) -> list[str]:
    """The deterministic part of an audit: what makes a task's gold unreachable or wrong
    whatever the agent does. A gold write that fails (the state it asks for cannot be
    reached by those calls), and gold actions that break the domain's executable policy.
    Not flagged: tasks without writes (a refusal is a fine task) and failing gold reads."""
    found = []
    with env.sandbox() as sandbox:
        for entry in sandbox.run(task.actions):
            if entry.writes and not entry.ok:
                found.append(f"gold write fails: {entry.name}: {entry.observation[:120]}")
    bp = Blueprint(
        reasoning="",
        user_id=task.user_id or "",
        instruction=task.instruction,
        actions=[Action(name=a.name, arguments=a.arguments) for a in task.actions],
        outputs=task.outputs,
    )
    found += [f"policy: {r}" for r in policy_check(bp, env)]
    return found


def judge_task(
    env: Environment, name: str, task: dict[str, Any], trials: list[dict[str, Any]]
) -> TaskAudit:
    """A task's audit from its solver dialogues (trajectory rows) and its gold."""
    solved = sum(t["accepted"] for t in trials)
    flags = audit_flags(env, TaubenchTask.model_validate(task))
    proper = {
        t["state_hash"]
        for t in trials
        if t["ended_by"] in PROPER_ENDINGS and t.get("side") != "user" and t.get("state_hash")
    }
    closest: list[dict] = []
    if trials and not solved:
        flags.insert(0, f"unsolved: 0 of {len(trials)} solver dialogues reached the gold state")
        closest = min((t["diff"] for t in trials), key=len)
    if len(proper) > 1:
        flags.insert(0, f"ambiguous: properly ended dialogues reached {len(proper)} final states")
    return TaskAudit(
        task=name,
        trials=len(trials),
        solved=solved,
        solve_rate=solved / len(trials) if trials else 0.0,
        flags=flags,
        closest_diff=closest,
        final_states=len(proper),
    )
