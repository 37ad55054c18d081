"""Phase 1 end to end with scripted models: accept, repair by feedback, policy, committee
votes, round limit, parallel committee, and user-added reviewers and stages."""

import json
import random

from phase1_helpers import (
    APPROVE,
    REJECT,
    another_customers_order,
    attempt_where,
    blueprint,
    cancel_pending,
    context,
    models,
    orders_with,
    records_in,
    unknown_tool,
)

from apigen_mt.agents import Review
from apigen_mt.graphs.blueprint import build_blueprint_graph, run_blueprint_attempt
from apigen_mt.graphs.sampling import sample_context
from apigen_mt.testing import ScriptedChatModel


def has_pending(records):
    return bool(orders_with(records, "pending"))


async def test_good_blueprint_accepted_in_round_one(retail_env):
    proposer, reviewers, feedback = models(cancel_pending)
    ctx = context(retail_env, proposer, reviewers, feedback)
    attempt = attempt_where(ctx, has_pending)
    state = await run_blueprint_attempt(ctx, attempt)
    assert state["status"] == "accepted" and state["round"] == 1
    record = ctx.store.blueprint(state["blueprint_id"])
    assert record["status"] == "accepted" and record["stage"] == "committee"
    assert "cancelled" in record["diff_text"] and record["diff"]
    assert len(ctx.store.reviews(state["blueprint_id"])) == 3
    assert len(feedback.calls) == 0
    assert len(ctx.examples.validated) == 1  # joins the few-shot pool


async def test_invalid_tool_is_fixed_after_feedback(retail_env):
    proposer, reviewers, feedback = models([unknown_tool, cancel_pending])
    ctx = context(retail_env, proposer, reviewers, feedback)
    state = await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending))
    assert state["status"] == "accepted" and state["round"] == 2
    first = ctx.store.blueprint(state["history"][0]["blueprint_id"])
    assert first["status"] == "format_failed"
    assert any("unknown tool 'refund_everything'" in r for r in first["reasons"])
    assert "refund_everything" in feedback.calls[0]["messages"][-1].content
    second_prompt = proposer.calls[1]["messages"][-1].content
    assert "## Feedback to address in this round" in second_prompt
    assert "fix what they name" in second_prompt and "refund_everything" in second_prompt
    assert "Failure reasons:\n- format: action 0 uses unknown tool" in second_prompt  # raw too
    grounded = feedback.calls[0]["messages"][-1].content
    user = first["user_id"]
    assert "## The user and their records\n" in grounded and user in grounded.split("## Tools")[0]
    assert "- cancel_pending_order (write)" in grounded and "## Policy\n- " in grounded


async def test_reviewers_see_the_records_and_what_each_gold_call_returned(retail_env):
    proposer, reviewers, feedback = models(cancel_pending)
    ctx = context(retail_env, proposer, reviewers, feedback)
    state = await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending))
    prompt = reviewers[0].calls[0]["messages"][-1].content
    system = reviewers[0].calls[0]["messages"][0].content
    records = prompt.split("## Records it was built from\n")[1].split("\n\n## ")[0]
    assert state["user_id"] in records and "pending" in records
    trace = prompt.split("## What each call returned\n")[1].split("\n\n## ")[0]
    assert trace.startswith("1. cancel_pending_order(") and '"status": "cancelled"' in trace
    assert "leave out look-ups, authentication and confirmation" in system
    assert "identified by email" not in prompt  # authenticate_first: conversations only


def other_users_order(ctx):
    def propose(messages):
        records = records_in(messages)
        order = another_customers_order(ctx.env, records)
        return blueprint(
            records,
            [
                {
                    "name": "cancel_pending_order",
                    "arguments": {"order_id": order, "reason": "no longer needed"},
                }
            ],
        )

    return propose


async def test_policy_violation_is_named_in_the_feedback_prompt(retail_env):
    proposer, reviewers, feedback = models([])
    ctx = context(retail_env, proposer, reviewers, feedback)
    proposer.script.extend([other_users_order(ctx), cancel_pending])
    state = await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending))
    assert state["status"] == "accepted" and state["round"] == 2
    first = ctx.store.blueprint(state["history"][0]["blueprint_id"])
    assert first["status"] == "policy_failed" and first["stage"] == "execution"
    assert "policy [one_customer_only]" in feedback.calls[0]["messages"][-1].content


async def test_committee_split_two_to_one_is_resolved_by_majority(retail_env):
    yes = ScriptedChatModel(responder=lambda m: json.dumps(APPROVE))
    no = ScriptedChatModel(responder=lambda m: json.dumps(REJECT))
    proposer, _, feedback = models(cancel_pending)
    ctx = context(retail_env, proposer, [yes, yes, no], feedback)
    state = await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending))
    assert state["status"] == "accepted"
    assert sorted(r["scores"]["correctness"] for r in state["reviews"]) == [0, 1, 1]

    proposer, _, feedback = models(cancel_pending)
    ctx = context(retail_env, proposer, [no, no, yes], feedback, max_rounds=1)
    state = await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending))
    assert state["status"] == "rejected"
    record = ctx.store.blueprint(state["blueprint_id"])
    assert any("the majority judged the blueprint incorrect" in r for r in record["reasons"])


def test_a_blueprint_judged_incorrect_never_passes_whatever_the_total():
    from apigen_mt.graphs.committee import vote

    def review(correct: int) -> dict:
        scores = {"correctness": correct, "completeness": 1, "satisfaction": 1, "creativity": 1}
        return {"ok": True, "scores": scores}

    accepted, majority, reason = vote([review(0), review(0), review(1)], threshold=3)
    assert not accepted and sum(majority.values()) == 3  # the total alone would pass
    assert reason == "committee: the majority judged the blueprint incorrect"
    assert vote([review(1), review(1), review(0)], threshold=3)[0]
    low = [{"ok": True, "scores": {**review(1)["scores"], "creativity": 0, "satisfaction": 0}}]
    assert vote(low, threshold=3)[2] == (
        "committee: score 2/4 below 3 (majority said no to satisfaction, creativity)"
    )


async def test_round_limit_rejects_and_keeps_every_reason(retail_env):
    proposer, reviewers, feedback = models(unknown_tool)
    ctx = context(retail_env, proposer, reviewers, feedback)  # retail: 3 rounds
    state = await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending))
    assert state["status"] == "rejected" and len(proposer.calls) == 3
    assert [h["round"] for h in state["history"]] == [1, 2, 3]
    final = ctx.store.blueprint(state["blueprint_id"])
    assert final["status"] == "rejected"
    assert [r.split(":")[0] for r in final["reasons"] if "unknown tool" in r] == [
        "round 1",
        "round 2",
        "round 3",
    ]
    assert len(feedback.calls) == 2  # no plan after the last round


async def test_proposer_garbage_is_a_recorded_reason_not_a_crash(retail_env):
    proposer, reviewers, feedback = models(["not json", "still not json", cancel_pending])
    ctx = context(retail_env, proposer, reviewers, feedback)
    state = await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending))
    assert state["status"] == "accepted" and state["round"] == 2
    failed = ctx.store.blueprint(state["history"][0]["blueprint_id"])
    assert failed["status"] == "proposer_failed" and "invalid_output" in failed["reasons"][0]


async def test_committee_reviews_in_parallel(retail_env):
    proposer, reviewers, feedback = models(cancel_pending, delay=0.2)
    ctx = context(retail_env, proposer, reviewers, feedback, committee_size=3)
    state = await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending))
    assert state["status"] == "accepted"
    assert reviewers[0].max_in_flight == 3  # three reviewer calls in flight at once


async def test_custom_reviewer_and_stage_are_nodes_and_count(retail_env):
    def strict_reviewer(x):  # a plain Python check as a committee member
        ok = int("cancel" not in x.blueprint)
        return Review(
            reflection="no cancellations",
            correctness=ok,
            completeness=ok,
            satisfaction=ok,
            creativity=ok,
        )

    def instruction_mentions_user(bp, env):
        return [] if bp.user_id in bp.instruction else ["instruction: does not name the user"]

    graph = build_blueprint_graph(
        reviewers={"strict": strict_reviewer}, stages={"names_user": instruction_mentions_user}
    )
    mermaid = graph.get_graph().draw_mermaid()
    assert "review_strict" in mermaid and "stage_names_user" in mermaid
    yes = ScriptedChatModel(responder=lambda m: json.dumps(APPROVE))
    proposer, _, feedback = models(cancel_pending)
    # One LLM judge says yes, the strict reviewer says no: 1-1 is no majority -> rejected.
    ctx = context(retail_env, proposer, [yes], feedback, committee_size=1, max_rounds=1)
    state = await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending), graph=graph)
    assert {r["reviewer"] for r in state["reviews"]} == {"reviewer_0", "strict"}
    assert state["status"] == "rejected"
    # The custom stage runs before the committee and its reason is recorded.
    proposer, _, feedback = models(cancel_without_naming_the_user)
    ctx = context(retail_env, proposer, [yes], feedback, committee_size=1, max_rounds=1)
    state = await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending), graph=graph)
    record = ctx.store.blueprint(state["blueprint_id"])
    assert record["status"] == "rejected"
    assert any("instruction: does not name the user" in r for r in record["reasons"])


def cancel_without_naming_the_user(messages):
    records = records_in(messages)
    order = orders_with(records, "pending")[0]
    return blueprint(
        records,
        [
            {
                "name": "cancel_pending_order",
                "arguments": {"order_id": order, "reason": "no longer needed"},
            }
        ],
        instruction="Cancel my order please.",
    )


async def test_sampling_is_deterministic_for_a_seed(retail_env):
    proposer, reviewers, feedback = models(cancel_pending)
    a = context(retail_env, proposer, reviewers, feedback, seed=7)
    b = context(retail_env, proposer, reviewers, feedback, seed=7)
    c = context(retail_env, proposer, reviewers, feedback, seed=8)

    def sample(ctx):
        return sample_context(ctx.env, ctx.graph, ctx.examples, random.Random(f"{ctx.seed}:0"))

    assert sample(a) == sample(b) != sample(c)


async def test_outputs_must_come_from_what_the_calls_return_or_be_computed(retail_env):
    def with_outputs(outputs, computations=()):
        def propose(messages):
            bp = json.loads(cancel_pending(messages))
            return json.dumps({**bp, "outputs": outputs, "computations": list(computations)})

        return propose

    proposer, reviewers, feedback = models(with_outputs(["9999.99"]))
    ctx = context(retail_env, proposer, reviewers, feedback, max_rounds=1)
    state = await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending))
    record = ctx.store.blueprint(state["blueprint_id"])
    assert state["status"] == "rejected" and record["stage"] == "format"  # failed execution
    assert any(
        "execution: output '9999.99' does not occur in what the calls return" in r
        for r in record["reasons"]
    )
    said = with_outputs(["cancelled"])  # occurs in the cancellation's result
    proposer, reviewers, feedback = models(said)
    ctx = context(retail_env, proposer, reviewers, feedback)
    assert (await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending)))["status"] == (
        "accepted"
    )


async def test_the_walk_is_the_core_and_the_proposer_sees_the_whole_policy(retail_env):
    proposer, reviewers, feedback = models(cancel_pending)
    ctx = context(retail_env, proposer, reviewers, feedback)
    state = await run_blueprint_attempt(ctx, attempt_where(ctx, has_pending))
    prompt = proposer.calls[0]["messages"][-1].content
    system = proposer.calls[0]["messages"][0].content
    assert prompt.startswith("## Policy (every rule applies)\n" + retail_env.domain.policy)
    assert "## Rules this task should exercise\n- " in prompt
    core = prompt.split("## The task's core\n")[1].split("\n\n## ")[0]
    assert core.startswith("Build the task around these writes, in this order:\n1. ")
    assert "identity details the policy requires" in system
    seeds = "\n".join(ctx.examples.seeds)
    assert (
        "Your email is " in seeds
        and "zip code" in seeds
        and "You are " + state["user_id"] not in seeds
    )
    record = ctx.store.blueprint(state["blueprint_id"])
    assert (
        record["writes"] == 1
        and record["rules_in_play"] >= 1
        and record["target_writes"] in range(1, 5)
    )
    targets = {
        sample_context(ctx.env, ctx.graph, ctx.examples, random.Random(f"0:{i}")).target_writes
        for i in range(40)
    }
    assert targets == {1, 2, 3, 4}  # the size of the task varies across attempts


def test_airline_records_carry_real_candidate_flights(airline_env):
    from apigen_mt.environments.airline import records as airline_records

    seen = 0
    with airline_env.sandbox() as sandbox:
        for i in range(10):
            _, text = airline_env.domain.tasks.sample_records(sandbox.db, random.Random(i))
            for route, flights in json.loads(text)["candidate_flights"].items():
                origin, destination = route.split("-")
                for f in flights:
                    info = airline_records.flight(sandbox.db, f["flight_number"])
                    day = airline_records.flight_date(sandbox.db, f["flight_number"], f["date"])
                    assert (info["origin"], info["destination"]) == (origin, destination)
                    assert day["status"] == "available" and day["prices"] == f["prices"]
                    seen += 1
    assert seen >= 10
