"""A τ² task's reward for a finished dialogue: the deterministic components
(environments/tau2/rewards.py) plus NL_ASSERTION from the `nl_judge` role."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from apigen_mt.agents import NLJudgeInput, RoleFailure, make_nl_judge, verdicts_for
from apigen_mt.agents.acting_user import agent_view
from apigen_mt.environments.scene import holds
from apigen_mt.environments.tau2.rewards import Tau2Reward, combine

# How a dialogue may end and still be scored (τ²: the agent's or the user's stop).
SCORED_ENDINGS = ("user_stop", "transfer", "agent_stop")


def agent_tool_calls(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """Every tool call of the episode, the agent's and (dual control) the user's, as τ²'s
    ACTION check takes them from both."""
    return [
        {"name": c["name"], "arguments": c["args"]}
        for m in messages
        if isinstance(m, AIMessage)
        for c in m.tool_calls
    ]


def env_assertion_checks(sandbox, tau2: dict[str, Any]) -> list[dict[str, Any]]:
    """τ²'s env assertions on the episode's final state: {assertion, met} each (one that
    fails to run is not met, as τ² scores it)."""
    return [
        {
            "assertion": f"{a['env_type']}.{a['func_name']}({a['arguments']})",
            "met": holds(sandbox, a),
        }
        for a in tau2.get("env_assertions") or []
    ]


def render_conversation(messages: list[BaseMessage]) -> str:
    """`role: content` lines, as τ² shows a trajectory to its NL judge."""
    lines = []
    for m in messages:
        if isinstance(m, HumanMessage):
            lines.append(f"user: {m.content}")
        elif isinstance(m, AIMessage):
            calls = [{"name": c["name"], "arguments": c["args"]} for c in m.tool_calls]
            text = str(m.content or "")
            lines.append(
                f"assistant: {text}" + (f" [tool calls: {json.dumps(calls)}]" if calls else "")
            )
        elif isinstance(m, ToolMessage):
            lines.append(f"tool: {m.content}")
    return "\n".join(lines)


async def tau2_reward(
    tau2: dict[str, Any],
    messages: list[BaseMessage],
    *,
    db_match: bool,
    ended_by: str,
    nl_judge_model,
    env_checks: list[dict[str, Any]] | None = None,
) -> Tau2Reward:
    """τ²'s reward for `messages`. NL assertions are judged only when the basis has
    NL_ASSERTION and the task states some; a judge that fails scores the component 0,
    with its reason recorded."""
    cut_off = "" if ended_by in SCORED_ENDINGS else ended_by or "no ending"
    verdicts = None
    assertions = tau2.get("nl_assertions") or []
    if "NL_ASSERTION" in (tau2.get("reward_basis") or []) and assertions and not cut_off:
        if nl_judge_model is None:
            verdicts = [
                {"assertion": a, "met": False, "why": "no nl_judge model configured"}
                for a in assertions
            ]
        else:
            answer = await make_nl_judge(nl_judge_model).ainvoke(
                NLJudgeInput(conversation=render_conversation(messages), assertions=assertions)
            )
            if isinstance(answer, RoleFailure):
                verdicts = [{"assertion": a, "met": False, "why": str(answer)} for a in assertions]
            else:
                verdicts = verdicts_for(assertions, answer)
    said = [str(m.content) for m in agent_view(messages) if isinstance(m, AIMessage) and m.content]
    return combine(
        tau2,
        db_match=db_match,
        agent_messages=said,
        tool_calls=agent_tool_calls(messages),
        nl_assertions=verdicts,
        cut_off=cut_off,
        env_assertions=env_checks,
    )


def failure_reasons(reward: Tau2Reward) -> list[str]:
    """Why a τ² reward is below 1, in words a report can count."""
    if reward.note:
        return [reward.note]
    out = [f"{name} 0" for name, value in reward.components.items() if value < 1]
    missing = [c["info"] for c in reward.communicate if not c["met"]]
    if missing and "COMMUNICATE" in reward.components:
        out.append(f"not communicated: {missing}")
    unmet = [v["assertion"] for v in reward.nl_assertions if not v["met"]]
    if unmet:
        out.append(f"NL assertions not met: {unmet}")
    failed = [c["assertion"] for c in reward.env_assertions if not c["met"]]
    if failed and "ENV_ASSERTION" in reward.components:
        out.append(f"env assertions not met: {failed}")
    missed = [a["name"] for a in reward.actions if not a["met"]]
    if missed and "ACTION" in reward.components:
        out.append(f"actions not taken: {missed}")
    return out
