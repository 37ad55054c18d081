"""τ²'s reward components that need no model: DB, COMMUNICATE, ACTION, and their product.

As τ² computes them (its evaluator): DB is 1 when the episode's final database equals the
one the gold actions give after the task's initial state; COMMUNICATE is 1 when each
`communicate_info` string occurs, lower-cased, in some agent message lower-cased with its
commas removed; ACTION is 1 when each gold action matches some tool call made, comparing
only its `compare_args` (all the call's arguments when those are not given). The reward is
the product of the components the task's `reward_basis` names; NL_ASSERTION comes from the
`nl_judge` role (agents/nl_judge.py). An episode cut off (step limit, a role or tool that
failed) scores 0, as τ² scores any ending but the agent's or the user's stop.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

COMPONENTS = ("DB", "ENV_ASSERTION", "COMMUNICATE", "ACTION", "NL_ASSERTION")


class Tau2Reward(BaseModel):
    """One trial's τ² reward, with every component computed and what each check found."""

    reward: float
    reward_basis: list[str]
    components: dict[str, float] = Field(default_factory=dict)  # those in the basis
    communicate: list[dict[str, Any]] = Field(default_factory=list)  # {info, met}
    actions: list[dict[str, Any]] = Field(default_factory=list)  # {action_id, name, met}
    nl_assertions: list[dict[str, Any]] = Field(default_factory=list)  # {assertion, met, why}
    env_assertions: list[dict[str, Any]] = Field(default_factory=list)  # {assertion, met}
    note: str = ""  # e.g. why the episode scored 0 whatever it reached


def communicate_checks(infos: list[str], agent_messages: list[str]) -> list[dict[str, Any]]:
    said = [m.lower().replace(",", "") for m in agent_messages]
    return [{"info": info, "met": any(info.lower() in m for m in said)} for info in infos]


def action_matches(gold: dict[str, Any], call: dict[str, Any]) -> bool:
    """τ²'s `Action.compare_with_tool_call`."""
    if gold["name"] != call["name"]:
        return False
    keys = call["arguments"].keys() if gold.get("compare_args") is None else gold["compare_args"]
    if not keys:
        return True
    theirs = {k: v for k, v in call["arguments"].items() if k in keys}
    wanted = {k: v for k, v in gold["arguments"].items() if k in keys}
    return theirs == wanted


def action_checks(gold: list[dict[str, Any]], calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "action_id": g.get("action_id", ""),
            "name": g["name"],
            "requestor": g.get("requestor", "assistant"),
            "met": any(action_matches(g, c) for c in calls),
        }
        for g in gold
    ]


def combine(
    tau2: dict[str, Any],
    *,
    db_match: bool,
    agent_messages: list[str],
    tool_calls: list[dict[str, Any]],
    nl_assertions: list[dict[str, Any]] | None,
    cut_off: str = "",
    env_assertions: list[dict[str, Any]] | None = None,
) -> Tau2Reward:
    """The reward for a task's criteria (`TaubenchTask.tau2`). `nl_assertions` are the
    judge's verdicts (None when the basis has no NL_ASSERTION or the task none to judge)."""
    basis = list(tau2.get("reward_basis") or ["DB", "COMMUNICATE"])
    communicate = communicate_checks(tau2.get("communicate_info") or [], agent_messages)
    actions = action_checks(tau2.get("actions") or [], tool_calls)
    verdicts = nl_assertions or []
    values = {
        "DB": float(db_match),
        "COMMUNICATE": float(all(c["met"] for c in communicate)),
        "ACTION": float(all(a["met"] for a in actions)),
        "NL_ASSERTION": float(all(v["met"] for v in verdicts)),
        # each of the task's env assertions on the final state (none: 1, as τ² scores it)
        "ENV_ASSERTION": float(all(c["met"] for c in env_assertions or [])),
    }
    components = {c: values[c] for c in COMPONENTS if c in basis}
    reward = 1.0
    for value in components.values():
        reward *= value
    if cut_off:
        reward = 0.0
    return Tau2Reward(
        reward=reward,
        reward_basis=basis,
        components=components,
        communicate=communicate,
        actions=actions,
        nl_assertions=verdicts,
        env_assertions=env_assertions or [],
        note=f"cut off ({cut_off}): scores 0, as in τ²" if cut_off else "",
    )
