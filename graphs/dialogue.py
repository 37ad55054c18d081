"""Phase 2 as a state machine: simulated human <-> assistant <-> tools, then verify.

    human -> assistant -> tools -> assistant -> ... -> human -> ... -> verify

The transcript lives in the run store (state holds its id) and the episode's sandbox in
the context (state holds its id). A dialogue ends on the user's ###STOP###, a transfer to a
human agent, the step limit (agent actions, as τ-bench counts steps), or a role that cannot
answer; `verify` then compares the final database with the gold replay and checks the
expected outputs.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any, Literal

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from apigen_mt.agents import HumanInput, RoleFailure, is_stop
from apigen_mt.agents.acting_user import agent_view
from apigen_mt.agents.request_judge import RequestInput, RequestVerdict, make_request_judge
from apigen_mt.agents.tau2_user import (
    TAU2_GREETING,
    TAU2_STOP_TOKENS,
    Tau2User,
    is_tau2_stop,
    tau2_user_system,
)
from apigen_mt.environments.taubench import run_setup
from apigen_mt.tools import ToolUnavailable
from apigen_mt.tools.langchain_tools import run_tool_calls

from .context import DialogueContext
from .failure_side import failure_side
from .human_turn import UserChecks, check_reply, human_turn, leaks, user_view
from .state import DialogueState
from .tau2_reward import env_assertion_checks, failure_reasons, tau2_reward
from .user_tools import acting_human, user_tools
from .verify import verify

Ctx = Runtime[DialogueContext]
TRANSFER_TOOL = "transfer_to_human_agents"


async def human(
    state: DialogueState, runtime: Ctx
) -> Command[Literal["assistant", "user_tools", "verify"]]:
    # No step check here: as in τ-bench, the user answers the agent's last action.
    ctx, task = runtime.context, runtime.context.task(state["task_id"])
    messages = ctx.transcript(state["episode_id"])
    if ctx.env.domain.user_tools is not None:  # dual control: the user acts on its side too
        return await acting_human(state, ctx, task, messages)
    if ctx.protocol == "tau2":
        return await _tau2_human(state, ctx, task, messages)
    choice = await human_turn(
        ctx.human,
        ctx.judge,
        task["instruction"],
        task.get("persona", ""),
        messages,
        n=ctx.best_of_n,
        max_resamples=ctx.max_resamples,
        seed=f"{ctx.seed}:{state['task_id']}:{state.get('attempt', 0)}",
        checks=_user_checks(ctx, state, task),
    )
    record = choice.fidelity()
    judged = choice.text is not None and ctx.request_judge is not None
    if judged and await asks_beyond(ctx.request_judge, task["instruction"], choice.text):
        record["flags"].append("asks_beyond_instruction")
    ctx.fidelity.setdefault(state["episode_id"], []).append(record)
    if choice.text is None:
        return _end({"ended_by": "human_failure", "reason": choice.failure})
    ctx.say(state["episode_id"], [HumanMessage(choice.text)])
    if is_stop(choice.text):
        return _end({"ended_by": "user_stop"})
    return Command(goto="assistant")


async def asks_beyond(model, instruction: str, reply: str) -> bool:
    """The request judge's verdict; a judge that fails flags nothing."""
    verdict = await make_request_judge(model).ainvoke(
        RequestInput(instruction=instruction, reply=reply)
    )
    return isinstance(verdict, RequestVerdict) and verdict.asks_beyond_instruction


def _user_checks(ctx, state: DialogueState, task: dict[str, Any]) -> UserChecks:
    return UserChecks(
        write_names=tuple(ctx.env.domain.tools.write_names),
        gold_actions=task["actions"],
        trace=ctx.sandboxes[state["sandbox_id"]].trace,
    )


async def _tau2_human(state: DialogueState, ctx, task, messages) -> Command:
    """τ²'s user turn: one sample, no guards; any of its three tokens ends the episode; a
    step (τ² counts every message), checked before the turn as τ²'s orchestrator does."""
    if state["steps"] >= ctx.max_steps:
        return _end({"ended_by": "turn_limit"})
    system = tau2_user_system(ctx.tau2_guidelines, task["instruction"])
    turns = user_view(messages)
    reply = await Tau2User(ctx.human, system).ainvoke(turns)
    if isinstance(reply, RoleFailure):
        return _end({"ended_by": "human_failure", "reason": str(reply)})
    # τ²'s protocol rejects nothing: the checks are recorded on the reply as flags
    check, _ = check_reply(reply, turns, HumanInput(instruction=task["instruction"]),
                           _user_checks(ctx, state, task))  # fmt: skip
    flags = [
        f for f in (check, "copied_instruction" if leaks(reply, task["instruction"]) else "") if f
    ]
    ctx.fidelity.setdefault(state["episode_id"], []).append(
        {"rejected": {}, "flags": flags, "sent": True}
    )
    ctx.say(state["episode_id"], [HumanMessage(reply)])
    if is_tau2_stop(reply):
        return _end({"ended_by": "user_stop", "steps": state["steps"] + 1})
    return Command(update={"steps": state["steps"] + 1}, goto="assistant")


async def assistant(
    state: DialogueState, runtime: Ctx
) -> Command[Literal["tools", "human", "verify"]]:
    ctx = runtime.context
    tau2 = ctx.protocol == "tau2"
    if state["steps"] >= ctx.max_steps:
        return _end({"ended_by": "turn_limit"})
    if tau2 and state.get("errors", 0) >= ctx.max_errors:
        return _end({"ended_by": "error_limit"})
    transcript = agent_view(ctx.transcript(state["episode_id"]))  # not the user's side
    reply = await ctx.agent.ainvoke(transcript)
    if _is_empty(reply):  # never hand the user an empty agent message: resample once
        reply = await ctx.agent.ainvoke(transcript)
        if _is_empty(reply):
            empty = "assistant: empty reply, twice"
            return _end({"ended_by": "assistant_failure", "reason": empty})
    if isinstance(reply, RoleFailure):
        return _end({"ended_by": "assistant_failure", "reason": str(reply)})
    ctx.say(state["episode_id"], [reply])
    calls = reply.tool_calls or reply.invalid_tool_calls
    # τ² counts a step per message; τ-bench, per agent action
    steps = state["steps"] + (1 if tau2 else agent_actions(reply))
    if tau2 and TAU2_STOP_TOKENS[0] in reply.text:
        return _end({"ended_by": "agent_stop", "steps": steps})
    return Command(update={"steps": steps}, goto="tools" if calls else "human")


async def tools(
    state: DialogueState, runtime: Ctx, config: RunnableConfig
) -> Command[Literal["assistant", "verify"]]:
    ctx = runtime.context
    request = ctx.last_message(state["episode_id"])
    sandbox = ctx.sandboxes[state["sandbox_id"]]
    try:
        answers = await run_tool_calls(request, ctx.env.domain.tools, sandbox.executor, config)
    except ToolUnavailable as exc:  # a world's tool server failed: end the episode, say why
        return _end({"ended_by": "tool_failure", "reason": f"tools: {exc}"})
    ctx.say(state["episode_id"], answers)
    if ctx.protocol == "tau2":  # a transfer is the user's to end (###TRANSFER###)
        failed = sum(str(a.content).startswith("Error") for a in answers)
        update = {"steps": state["steps"] + 1, "errors": state.get("errors", 0) + failed}
        return Command(update=update, goto="assistant")
    if any(c["name"] == TRANSFER_TOOL for c in request.tool_calls):
        return _end({"ended_by": "transfer"})
    return Command(goto="assistant")


async def verify_node(state: DialogueState, runtime: Ctx) -> dict[str, Any]:
    ctx, task = runtime.context, runtime.context.task(state["task_id"])
    messages = ctx.transcript(state["episode_id"])
    said = [str(m.content) for m in agent_view(messages) if isinstance(m, AIMessage) and m.content]
    tau2 = task.get("tau2")
    verdict = verify(
        ctx.env,
        ctx.sandboxes[state["sandbox_id"]],
        task["actions"],
        task.get("outputs", []),
        said,
        gold_hash=task.get("gold_hash"),
        prepare=(lambda gold: run_setup(gold, task)) if tau2 else None,
    )
    ended_by = state.get("ended_by", "")
    reasons = [r for r in (state.get("reason", ""), verdict.reason) if r]
    # τ-bench's reward; how the dialogue ended is recorded. An episode whose tools failed
    # is never kept, whatever state it reached.
    accepted = verdict.accepted and ended_by != "tool_failure"
    reward = None
    if tau2:  # τ²'s reward instead: the product of its reward basis' components
        reward = await tau2_reward(
            tau2, messages, db_match=verdict.state_matches, ended_by=ended_by,
            nl_judge_model=ctx.nl_judge,
            env_checks=env_assertion_checks(ctx.sandboxes[state["sandbox_id"]], tau2),
        )  # fmt: skip
        accepted = reward.reward == 1.0 and ended_by != "tool_failure"
        reasons = [r for r in (state.get("reason", ""),) if r] + failure_reasons(reward)
        exact = task.get("exact_state")  # a generated task: the proven state, too
        if exact and not verdict.state_matches:
            accepted = False
        if not verdict.state_matches and ("DB" in reward.components or exact):
            reasons.append(verdict.reason)
    fidelity = ctx.fidelity.pop(state["episode_id"], [])
    side = "" if accepted else failure_side(ended_by, "; ".join(reasons), fidelity, task)
    fingerprint = _fingerprint(messages)
    duplicate = accepted and ctx.store.has_accepted(state["task_id"], fingerprint)
    ctx.store.save_trajectory(
        state["episode_id"],
        task_id=state["task_id"],
        attempt=state.get("attempt", 0),
        accepted=int(accepted),
        ended_by=ended_by,
        steps=state.get("steps", 0),
        reason="; ".join(reasons),
        missing_outputs=verdict.missing_outputs,
        diff=verdict.diff,
        fingerprint=fingerprint,
        duplicate=int(duplicate),
        fidelity=fidelity,
        side=side,
        state_hash=verdict.state_hash,
        **({"reward": reward.reward, "reward_info": reward.model_dump()} if reward else {}),
    )
    return {"accepted": accepted, "reason": "; ".join(reasons), "side": side}


def agent_actions(reply: AIMessage) -> int:
    """Steps as τ-bench counts them: agent actions, each tool call (one whose arguments
    are not valid JSON too) or a reply to the user; user turns and tool results are free."""
    return len(reply.tool_calls) + len(reply.invalid_tool_calls) or 1


def _is_empty(reply: AIMessage | RoleFailure) -> bool:
    return (
        isinstance(reply, AIMessage)
        and not reply.text.strip()
        and not reply.tool_calls
        and not reply.invalid_tool_calls
    )


def _fingerprint(messages) -> str:
    """Identity of a trajectory: what was said and which calls were made, in order."""
    parts = [
        (
            type(m).__name__,
            str(m.content),
            [(c["name"], c["args"]) for c in getattr(m, "tool_calls", []) or []],
        )
        for m in messages
        if not isinstance(m, ToolMessage)
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _end(update: dict[str, Any]) -> Command:
    """The dialogue is over (how is in `update`): verify it."""
    return Command(update=update, goto="verify")


def build_dialogue_graph():
    g = StateGraph(DialogueState, context_schema=DialogueContext)
    g.add_node("human", human)
    g.add_node("assistant", assistant)
    g.add_node("tools", tools)
    g.add_node("user_tools", user_tools)  # dual control: the user's own tool calls
    g.add_node("verify", verify_node)
    # Each node names its successor with a `Command` (the Literal in its return type draws
    # the edges): LangGraph runs no routing step and re-reads no state between nodes.
    g.add_edge(START, "human")
    g.add_edge("verify", END)
    return g.compile(name="dialogue")


async def run_dialogue(
    ctx: DialogueContext, task_id: str, attempt: int = 0, graph=None, config: dict | None = None
) -> DialogueState:
    """One attempt in its own sandbox, discarded afterwards."""
    graph = graph or build_dialogue_graph()
    sandbox = ctx.env.sandbox()
    run_setup(sandbox, ctx.task(task_id))  # a τ² task's initial state (none otherwise)
    ctx.sandboxes[sandbox.id] = sandbox
    episode_id = f"{task_id}:{attempt}:{uuid.uuid4().hex[:8]}"
    ctx.live[episode_id] = []  # a new episode: nothing said yet
    if ctx.protocol == "tau2":  # τ²'s conversations open with the agent's greeting
        ctx.say(episode_id, [AIMessage(TAU2_GREETING)])
    try:
        return await graph.ainvoke(
            {
                "task_id": task_id,
                "episode_id": episode_id,
                "sandbox_id": sandbox.id,
                "attempt": attempt,
                "steps": 0,
            },
            context=ctx,
            # at most a user turn, an agent turn and a tools turn per agent action
            config={**(config or {}), "recursion_limit": 3 * ctx.max_steps + 10},
        )
    finally:
        ctx.sandboxes.pop(sandbox.id, None)
        ctx.forget(episode_id, task_id)
        sandbox.close()


async def run_dialogue_attempts(
    ctx: DialogueContext, task_id: str, attempts: int = 3, graph=None
) -> list[DialogueState]:
    """Up to `attempts` dialogues for one task; every outcome is stored with its reason."""
    graph = graph or build_dialogue_graph()
    return [await run_dialogue(ctx, task_id, i, graph) for i in range(attempts)]
