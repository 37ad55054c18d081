"""Phase 2 with scripted roles: acceptance, each rejection reason, best-of-N, simulator
guards, the step limit, attempts, transfers."""

import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from phase2_helpers import add_task, dialogue_context, replaying_agent, scripted_user

from apigen_mt.agents import STOP, Turn
from apigen_mt.graphs.dialogue import run_dialogue, run_dialogue_attempts
from apigen_mt.graphs.human_turn import awaiting_confirmation, human_turn, leaks, user_view
from apigen_mt.testing import ScriptedChatModel


@pytest.fixture()
def cancel_task(retail_env):
    order = retail_env.master.execute(
        "SELECT order_id FROM orders WHERE status = 'pending' ORDER BY rowid LIMIT 1"
    ).fetchone()[0]
    return [
        {"name": "get_order_details", "arguments": {"order_id": order}},
        {
            "name": "cancel_pending_order",
            "arguments": {"order_id": order, "reason": "no longer needed"},
        },
    ]


async def test_dialogue_reaching_the_gold_state_is_accepted(retail_env, cancel_task):
    ctx = dialogue_context(retail_env, cancel_task, ["cancelled"])
    task = add_task(ctx, cancel_task, ["Cancelled"])
    state = await run_dialogue(ctx, task)
    assert state["accepted"] and state["ended_by"] == "user_stop"
    assert state["steps"] == 3  # agent actions, as τ-bench counts them: call, call, report
    [trajectory] = ctx.store.trajectories(task)
    assert trajectory["accepted"] == 1 and trajectory["reason"] == ""
    messages = ctx.store.transcript(state["episode_id"])
    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
        "HumanMessage",
    ]
    assert json.loads(messages[4].content)["status"] == "cancelled"
    assert ctx.sandboxes == {}  # the episode's sandbox is discarded


async def test_stopping_early_is_rejected_with_the_state_diff(retail_env, cancel_task):
    """A user who stops before the cancellation happened (and the agent never said it
    cannot): every such stop is resampled, then the turn fails as the user's, with the diff."""

    def impatient(messages):
        return STOP if len(messages) > 3 else "Cancel my order."

    ctx = dialogue_context(retail_env, cancel_task, user=impatient)
    ctx.assistant = ScriptedChatModel(responder=lambda m: AIMessage("Which order?"))
    state = await run_dialogue(ctx, add_task(ctx, cancel_task))
    assert not state["accepted"] and state["ended_by"] == "human_failure"
    assert "stopped before the task's writes happened: ['cancel_pending_order']" in state["reason"]
    assert (
        "wrong final state" in state["reason"]
        and "status: 'cancelled' -> 'pending'" in state["reason"]
    )


async def test_a_wrong_write_is_rejected_with_the_row_diff(retail_env, cancel_task):
    wrong = [
        cancel_task[0],
        {
            **cancel_task[1],
            "arguments": {**cancel_task[1]["arguments"], "reason": "ordered by mistake"},
        },
    ]
    ctx = dialogue_context(retail_env, cancel_task, agent_actions=wrong)
    state = await run_dialogue(ctx, add_task(ctx, cancel_task))
    assert not state["accepted"]
    [trajectory] = ctx.store.trajectories(state["task_id"])
    assert {(d["table"], d["column"], d["before"], d["after"]) for d in trajectory["diff"]} == {
        ("orders", "cancel_reason", "no longer needed", "ordered by mistake")
    }


async def test_an_omitted_output_is_rejected(retail_env, cancel_task):
    ctx = dialogue_context(retail_env, cancel_task, outputs=[])
    state = await run_dialogue(ctx, add_task(ctx, cancel_task, outputs=["1,234.50"]))
    assert not state["accepted"] and "missing outputs: ['1,234.50']" in state["reason"]
    # τ-bench removes commas from the agent's words, not from the expected output.
    ctx = dialogue_context(retail_env, cancel_task, outputs=["Total 1,234.50"])
    state = await run_dialogue(ctx, add_task(ctx, cancel_task, outputs=["1234.50"]))
    assert state["accepted"]


def _judge_by(rule):
    """A judge scoring each listed candidate with `rule(text)`, in one answer."""

    def respond(messages):
        listed = messages[-1].content.split("## Candidate replies\n", 1)[1]
        texts = [c.split("\n", 1)[1].strip() for c in listed.split("### Candidate ")[1:]]
        scores = {f"candidate_{i}": rule(t) for i, t in enumerate(texts, 1)}
        return json.dumps({"reasoning": "compared", **scores})

    return ScriptedChatModel(responder=respond)


async def test_best_of_n_sends_the_highest_judged_reply_after_one_judge_call():
    human = ScriptedChatModel(script=["meh", "I want to cancel order #W1.", "hello", "ok"])
    judge = _judge_by(lambda text: 9 if "#W1" in text else 2)
    choice = await human_turn(human, judge, "Cancel order #W1.", "a nurse", [], n=4)
    assert choice.text == "I want to cancel order #W1."
    assert sorted(c.score for c in choice.candidates) == [2, 2, 2, 9]
    assert len(judge.calls) == 1 and "a nurse" in judge.calls[0]["messages"][-1].content


async def test_ties_are_broken_by_the_seed():
    def pick(seed):
        human = ScriptedChatModel(script=["a", "b", "c", "d"])
        return human_turn(human, _judge_by(lambda t: 5), "x", "", [], n=4, seed=seed)

    chosen = {(await pick(seed)).text for seed in range(12)}
    assert len(chosen) > 1  # the seed decides among equals...
    assert {(await pick(3)).text for _ in range(3)} == {(await pick(3)).text}  # ...the same way


async def test_empty_replies_are_resampled_not_a_crash():
    human = ScriptedChatModel(script=["", "   ", "Hello, I need a refund."])
    choice = await human_turn(human, None, "You want a refund.", "", [], n=1)
    assert choice.text == "Hello, I need a refund." and choice.samples == 3
    human = ScriptedChatModel(responder=lambda m: " ")
    choice = await human_turn(human, None, "x", "", [], n=2, max_resamples=2)
    assert choice.text is None and "empty reply" in choice.failure and choice.samples == 6


def test_the_user_sees_words_written_beside_tool_calls_but_not_the_calls():
    call = {"name": "get_order_details", "args": {"order_id": "#W1"}, "id": "c1"}
    messages = [
        HumanMessage("Where is #W1?"),
        AIMessage("Let me look that up.", tool_calls=[call]),
        AIMessage("", tool_calls=[{**call, "id": "c2"}]),
        AIMessage([{"type": "text", "text": "It has shipped."}]),
    ]
    assert [(t.speaker, t.text) for t in user_view(messages)] == [
        ("user", "Where is #W1?"),
        ("agent", "Let me look that up."),
        ("agent", "It has shipped."),
    ]


CORPUS = json.loads((Path(__file__).parent / "data" / "stop_guard_corpus.json").read_text())


@pytest.mark.parametrize("kind", ["closings", "confirmations"])
def test_the_stop_guard_tells_closings_from_confirmation_requests(kind):
    """Only a pending confirmation of a specific write holds the user back (the old
    keyword guard refused 4 of these 43 closings and missed 9 of the 42 requests)."""
    assert len(CORPUS[kind]) >= 40
    wrong = [
        text
        for text in CORPUS[kind]
        if awaiting_confirmation([Turn(speaker="agent", text=text)]) != (kind == "confirmations")
    ]
    assert wrong == []


async def test_a_stop_after_a_polite_closing_is_taken(retail_env, cancel_task):
    ctx = dialogue_context(retail_env, cancel_task, ["cancelled"])
    agent = ctx.assistant.responder

    def polite(messages):
        reply = agent(messages)
        if not reply.tool_calls:
            reply.content += " Would you like me to help with anything else?"
        return reply

    ctx.assistant = ScriptedChatModel(responder=polite)
    state = await run_dialogue(ctx, add_task(ctx, cancel_task, ["cancelled"]))
    assert state["ended_by"] == "user_stop" and state["accepted"]


async def test_no_stop_while_a_confirmation_is_pending():
    asked = [HumanMessage("Cancel #W1"), AIMessage("I will cancel #W1. Do you confirm (yes/no)?")]
    assert awaiting_confirmation(user_view(asked))
    human = ScriptedChatModel(script=[STOP, "Yes, please go ahead."])
    choice = await human_turn(human, None, "Cancel #W1.", "", asked, n=1)
    assert choice.text == "Yes, please go ahead."
    assert any("confirmation" in c.note for c in choice.candidates)


async def test_a_verbatim_instruction_leak_is_penalised():
    instruction = (
        "You are Ava Smith in 94105 and you want to cancel order #W1 because you "
        "ordered it by mistake and you want the refund on your gift card"
    )
    human = ScriptedChatModel(script=[instruction, "Hi, I'd like to cancel an order please."])
    choice = await human_turn(human, _judge_by(lambda t: 8), instruction, "", [], n=2)
    assert choice.text == "Hi, I'd like to cancel an order please."
    assert leaks(instruction, instruction) and not leaks("cancel my order", instruction)


async def test_the_step_limit_ends_a_looping_dialogue(retail_env, cancel_task):
    ctx = dialogue_context(retail_env, cancel_task, max_steps=8, user=lambda m: "What do you need?")
    ctx.assistant = ScriptedChatModel(responder=lambda m: AIMessage("Could you tell me more?"))
    state = await run_dialogue(ctx, add_task(ctx, cancel_task))
    assert state["ended_by"] == "turn_limit" and state["steps"] == 8 and not state["accepted"]


async def test_three_attempts_keep_exactly_the_successful_trajectory(retail_env, cancel_task):
    wrong = [
        cancel_task[0],
        {
            **cancel_task[1],
            "arguments": {**cancel_task[1]["arguments"], "reason": "ordered by mistake"},
        },
    ]
    ctx = dialogue_context(retail_env, cancel_task)
    plans = iter([wrong, cancel_task, wrong])
    current = {}

    def agent(messages):
        if not any(isinstance(m, AIMessage) for m in messages):  # a new episode starts
            current["agent"] = replaying_agent(next(plans))
        return current["agent"](messages)

    ctx.assistant = ScriptedChatModel(responder=agent)
    task = add_task(ctx, cancel_task)
    states = await run_dialogue_attempts(ctx, task, attempts=3)
    assert [s["accepted"] for s in states] == [False, True, False]
    stored = ctx.store.trajectories(task)
    assert [t["attempt"] for t in stored if t["accepted"]] == [1]
    assert all(t["reason"] for t in stored if not t["accepted"])  # negatives keep their reason


async def test_identical_successes_are_marked_duplicate(retail_env, cancel_task):
    ctx = dialogue_context(retail_env, cancel_task)
    task = add_task(ctx, cancel_task)
    await run_dialogue_attempts(ctx, task, attempts=2)
    assert [t["duplicate"] for t in ctx.store.trajectories(task)] == [0, 1]


async def test_a_transfer_to_a_human_agent_ends_the_dialogue(retail_env, cancel_task):
    transfer = [{"name": "transfer_to_human_agents", "arguments": {"summary": "wants a human"}}]
    ctx = dialogue_context(retail_env, transfer, user=scripted_user("Get me a human."))
    state = await run_dialogue(ctx, add_task(ctx, transfer))
    assert state["ended_by"] == "transfer" and state["accepted"]


async def test_an_assistant_failure_is_a_recorded_end(retail_env, cancel_task):
    ctx = dialogue_context(retail_env, cancel_task)
    ctx.assistant = ScriptedChatModel(script=[ConnectionError("endpoint down")])
    state = await run_dialogue(ctx, add_task(ctx, cancel_task))
    assert state["ended_by"] == "assistant_failure" and "endpoint down" in state["reason"]
