"""The user's turn in a dual-control domain (τ²'s telecom): the simulated user answers the
agent with text, or acts on its own side of the sandbox with its own tools and sees the
results (the agent sees neither), as many rounds as it needs, then says something.

    human -> user_tools -> human -> ... -> human (text) -> assistant

Steps: under τ²'s protocol every message counts, the user's tool calls and their results
included, as τ² counts them; under ours steps are agent actions, and the user's tool
rounds of one turn are capped at MAX_USER_TOOL_ROUNDS instead. Best-of-N and the user
guards do not apply to these turns: one sample per step (a tool call is checked by running
it, not by a judge), the fidelity checks recorded on the text reply as flags.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.types import Command

from apigen_mt.agents import HumanInput, RoleFailure, is_stop
from apigen_mt.agents.acting_user import (
    ActingUser,
    acting_user_system,
    is_user_side,
    user_side,
)
from apigen_mt.agents.tau2_user import is_tau2_stop
from apigen_mt.tools import ToolUnavailable
from apigen_mt.tools.langchain_tools import invalid_call_observation

from .human_turn import check_reply, leaks, user_view

MAX_USER_TOOL_ROUNDS = 10  # the user's tool rounds in one turn (our protocol)


def _end(update: dict[str, Any]) -> Command:
    return Command(update=update, goto="verify")


def _rounds_this_turn(messages) -> int:
    """The user's tool rounds since the agent last spoke or acted."""
    rounds = 0
    for m in reversed(messages):
        if is_user_side(m):
            rounds += isinstance(m, AIMessage)
        elif isinstance(m, AIMessage):
            break
    return rounds


async def acting_human(state, ctx, task, messages) -> Command:
    """One step of a user with tools: tool calls go to `user_tools`, text to the agent."""
    tau2 = ctx.protocol == "tau2"
    if tau2 and state["steps"] >= ctx.max_steps:
        return _end({"ended_by": "turn_limit"})
    if not tau2 and _rounds_this_turn(messages) >= MAX_USER_TOOL_ROUNDS:
        too_many = f"human: {MAX_USER_TOOL_ROUNDS} tool rounds in one turn"
        return _end({"ended_by": "human_failure", "reason": too_many})
    system = acting_user_system(task["instruction"], ctx.tau2_guidelines if tau2 else None)
    user = ActingUser(ctx.human, system, ctx.env.domain.user_tools.openai_schemas())
    reply = await user.ainvoke(messages)
    if isinstance(reply, RoleFailure):
        return _end({"ended_by": "human_failure", "reason": str(reply)})
    steps = state["steps"] + (1 if tau2 else 0)
    if reply.tool_calls or reply.invalid_tool_calls:
        ctx.say(state["episode_id"], [user_side(
            AIMessage(str(reply.content or ""), tool_calls=reply.tool_calls,
                      invalid_tool_calls=reply.invalid_tool_calls)
        )])  # fmt: skip
        return Command(update={"steps": steps}, goto="user_tools")
    text = reply.text.strip()
    if not text:
        return _end({"ended_by": "human_failure", "reason": "human: empty reply"})
    turns = user_view(messages)
    check, _ = check_reply(text, turns, HumanInput(instruction=task["instruction"]), None)
    flags = [f for f in (check, "copied_instruction" if leaks(text, task["instruction"]) else "")
             if f]  # fmt: skip
    ctx.fidelity.setdefault(state["episode_id"], []).append(
        {
            "rejected": {},
            "flags": flags,
            "sent": True,
            "user_tool_calls": _rounds_this_turn(messages),
        }
    )
    ctx.say(state["episode_id"], [HumanMessage(text)])
    stopped = is_tau2_stop(text) if tau2 else is_stop(text)
    if stopped:
        return _end({"ended_by": "user_stop", "steps": steps})
    return Command(update={"steps": steps}, goto="assistant")


async def user_tools(state, runtime) -> Command:
    """Run the user's tool calls on the user's side of the sandbox; the results go back to
    the user (never to the agent)."""
    ctx = runtime.context
    request = ctx.last_message(state["episode_id"])
    sandbox = ctx.sandboxes[state["sandbox_id"]]
    answers = []
    try:
        for call in request.tool_calls:
            entry = sandbox.call(call["name"], call["args"], requestor="user")
            answers.append(ToolMessage(entry.observation, tool_call_id=call["id"] or "",
                                       name=call["name"]))  # fmt: skip
    except ToolUnavailable as exc:
        return _end({"ended_by": "tool_failure", "reason": f"user tools: {exc}"})
    for call in request.invalid_tool_calls:
        answers.append(ToolMessage(invalid_call_observation(call), tool_call_id=call["id"] or "",
                                   name=str(call["name"] or "")))  # fmt: skip
    ctx.say(state["episode_id"], [user_side(a) for a in answers])
    steps = state["steps"] + (1 if ctx.protocol == "tau2" else 0)
    return Command(update={"steps": steps}, goto="human")


def user_tool_calls(messages) -> list[dict[str, Any]]:
    """The user's tool calls in a transcript (τ²'s ACTION check counts them with the
    agent's)."""
    return [
        {"name": c["name"], "arguments": c["args"], "requestor": "user"}
        for m in messages
        if is_user_side(m) and isinstance(m, AIMessage)
        for c in m.tool_calls
    ]
