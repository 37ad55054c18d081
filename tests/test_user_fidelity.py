"""User-simulator fidelity: invented facts and premature stops are caught on every turn (a
failing candidate is resampled, a turn with none that passes fails as the user's), the stop
guard reads the domain's write tools, and every rejected dialogue says who failed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from phase2_helpers import add_task, dialogue_context
from tau2_reference import tasks_file

from apigen_mt.agents import STOP
from apigen_mt.environments import get_domain
from apigen_mt.graphs.dialogue import run_dialogue
from apigen_mt.graphs.human_turn import UserChecks, human_turn
from apigen_mt.graphs.user_fidelity import awaiting_write_confirmation, invented_facts
from apigen_mt.report import failures_by_side, user_fidelity
from apigen_mt.testing import ScriptedChatModel

CORPUS = json.loads((Path(__file__).parent / "data" / "stop_guard_corpus.json").read_text())
WRITES = tuple(
    sorted(
        set(get_domain("retail").tools.write_names) | set(get_domain("airline").tools.write_names)
    )
)


@pytest.fixture
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


@pytest.mark.parametrize(
    ("reply", "invented"),
    [
        ("My order number is #W9999999.", ["#W9999999"]),
        ("You can reach me at ann.lee@example.com", ["ann.lee@example.com"]),
        ("It was $1,399.00 in total.", ["1,399.00"]),  # $1,299 is known, as a number
        ("The passenger is Maria Garcia, born 1990-04-02.", ["1990-04-02", "Maria Garcia"]),
        ("My order is #W2378156 and it cost 1299, my zip is 19122.", []),  # all known
        ("Yes, please cancel it. Thanks, that's all.", []),
    ],
)
def test_facts_the_user_was_never_given_are_found(reply, invented):
    known = ["You are Yusuf Rossi in zip code 19122. Your order #W2378156 cost $1,299."]
    assert invented_facts(reply, known) == invented


def _instruction_sentences():
    """Every sentence of τ²'s retail and airline user instructions, said in the first person:
    a user who says only what the instruction says."""
    for domain in ("retail", "airline"):
        path = tasks_file(domain)  # skips where τ²'s data is absent
        for task in json.loads(path.read_text()):
            ins = task["user_scenario"]["instructions"]
            text = "\n".join(v or "" for v in ins.values())
            for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
                if sentence.strip():
                    yield text, sentence.replace("You are", "I am").replace("Your ", "My ")


def test_no_check_fires_on_a_user_who_only_says_what_the_instruction_says():
    said = list(_instruction_sentences())
    fired = [s for text, s in said if invented_facts(s, [text])]
    assert len(said) > 1000 and fired == []


@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_the_stop_guard_holds_the_user_only_for_this_domains_writes(kind):
    held = [t for t in CORPUS[kind] if awaiting_write_confirmation(t, WRITES)]
    assert held == (CORPUS[kind] if kind == "confirmations" else [])


def test_the_stop_guard_knows_what_a_domain_can_write():
    asked = "Shall I cancel the order for you?"
    assert awaiting_write_confirmation(asked, ("cancel_pending_order",))
    assert not awaiting_write_confirmation(asked, ("book_reservation",))  # not a write here
    assert not awaiting_write_confirmation("Shall I look up your order?", WRITES)  # a read
    assert not awaiting_write_confirmation(
        "Would you like me to transfer you to a human agent?", WRITES
    )


async def test_an_invented_id_is_resampled_and_recorded():
    turns = [
        HumanMessage("Hi, I want to cancel an order."),
        AIMessage("Sure, what is the order id?"),
    ]
    human = ScriptedChatModel(script=["It is #W1234567.", "It is #W2378156."])
    checks = UserChecks(write_names=WRITES, gold_actions=[], trace=[])
    choice = await human_turn(human, None, "Cancel order #W2378156.", "", turns, n=1, checks=checks)
    assert choice.text == "It is #W2378156."
    assert choice.fidelity() == {"rejected": {"invented_fact": 1}, "flags": [], "sent": True}


async def test_a_user_who_keeps_inventing_fails_the_turn_as_the_users(retail_env, cancel_task):
    def liar(messages):
        return "My order is #W0000001 and my email is made.up@example.com."

    ctx = dialogue_context(retail_env, cancel_task, user=liar, max_resamples=1)
    task_id = add_task(ctx, cancel_task, instruction="Cancel your pending order.")
    state = await run_dialogue(ctx, task_id)
    assert state["ended_by"] == "human_failure" and state["side"] == "user"
    assert "states facts it was never given" in state["reason"]
    (row,) = ctx.store.trajectories(task_id)
    assert row["side"] == "user" and row["fidelity"][0]["rejected"] == {"invented_fact": 2}
    assert failures_by_side([row]) == {"user": 1}
    assert user_fidelity([row]) == {"invented_fact": 2, "turns": 1}


async def test_a_stop_after_the_agent_says_it_cannot_is_taken(retail_env, cancel_task):
    def user(messages):
        said = [m.content for m in messages if isinstance(m, HumanMessage)]
        return STOP if len(said) > 1 else "Please cancel my pending order."

    ctx = dialogue_context(retail_env, cancel_task, user=user)
    ctx.assistant = ScriptedChatModel(
        responder=lambda m: AIMessage("I'm sorry, I cannot cancel this order.")
    )
    state = await run_dialogue(ctx, add_task(ctx, cancel_task))
    assert state["ended_by"] == "user_stop" and not state["accepted"]
    assert state["side"] == "agent"  # the agent refused a cancellation the task wants


async def test_an_accepted_dialogue_has_no_side(retail_env, cancel_task):
    ctx = dialogue_context(retail_env, cancel_task)
    state = await run_dialogue(ctx, add_task(ctx, cancel_task))
    assert state["accepted"] and state["side"] == ""
    (row,) = ctx.store.trajectories(state["task_id"])
    assert row["side"] == "" and row["fidelity"] and all(t["sent"] for t in row["fidelity"])


async def test_the_optional_request_judge_flags_a_user_asking_beyond_the_instruction(
    retail_env, cancel_task
):
    def user(messages):
        said = [m.content for m in messages if isinstance(m, HumanMessage)]
        if said and "All done" in said[-1]:
            return STOP
        return "Cancel my pending order, and also upgrade my other order to express shipping."

    def judge(messages):
        reply = messages[-1].content.split("## The customer's reply\n", 1)[1]
        beyond = "express shipping" in reply
        return AIMessage(json.dumps({"reasoning": "compared", "asks_beyond_instruction": beyond}))

    ctx = dialogue_context(retail_env, cancel_task, user=user)
    ctx.request_judge = ScriptedChatModel(responder=judge)
    state = await run_dialogue(ctx, add_task(ctx, cancel_task, instruction="Cancel your order."))
    (row,) = ctx.store.trajectories(state["task_id"])
    assert row["fidelity"][0]["flags"] == ["asks_beyond_instruction"]
    assert user_fidelity([row])["asks_beyond_instruction"] == 1
    # off by default: no call, no flag
    ctx = dialogue_context(retail_env, cancel_task, user=user)
    state = await run_dialogue(ctx, add_task(ctx, cancel_task, instruction="Cancel your order."))
    (row,) = ctx.store.trajectories(state["task_id"])
    assert all(t["flags"] == [] for t in row["fidelity"])
