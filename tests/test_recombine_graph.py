"""Reverse task recombination with scripted models."""

import json
import random

from phase1_helpers import APPROVE, PLAN, context, orders_with

from apigen_mt.graphs.recombine import choose_parents, run_recombination
from apigen_mt.graphs.sampling import api_graph_of, example_pool_of
from apigen_mt.testing import ScriptedChatModel


def _user_with(env, *statuses):
    for (user_id,) in env.master.execute("SELECT user_id FROM users ORDER BY rowid"):
        orders = {
            s: [
                r[0]
                for r in env.master.execute(
                    "SELECT order_id FROM orders WHERE user_id = ? AND status = ? ORDER BY rowid",
                    [user_id, s],
                )
            ]
            for s in set(statuses)
        }
        if all(len(orders[s]) >= statuses.count(s) for s in statuses):
            return user_id, orders
    raise AssertionError("no such user")


def _accepted(ctx, user_id, actions, instruction):
    data = {
        "reasoning": "r",
        "user_id": user_id,
        "instruction": instruction,
        "actions": actions,
        "outputs": [],
    }
    bid = ctx.store.save_blueprint(
        run_id=ctx.run_id, attempt=0, round=1, user_id=user_id, data=data
    )
    ctx.store.update_blueprint(bid, status="accepted", stage="committee")
    return bid


def _ctx(env):
    recombiner = ScriptedChatModel(
        responder=lambda m: json.dumps(
            {"reasoning": "two requests", "instruction": "You want both things done."}
        )
    )
    reviewer = ScriptedChatModel(responder=lambda m: json.dumps(APPROVE))
    feedback = ScriptedChatModel(responder=lambda m: json.dumps(PLAN))
    return context(env, ScriptedChatModel(), [reviewer], feedback, recombiner=recombiner)


async def test_compatible_blueprints_are_combined_and_accepted(retail_env):
    ctx = _ctx(retail_env)
    user, orders = _user_with(retail_env, "pending", "pending")
    a = _accepted(
        ctx,
        user,
        [
            {
                "name": "cancel_pending_order",
                "arguments": {"order_id": orders["pending"][0], "reason": "no longer needed"},
            }
        ],
        "Cancel the first.",
    )
    b = _accepted(
        ctx,
        user,
        [
            {
                "name": "cancel_pending_order",
                "arguments": {"order_id": orders["pending"][1], "reason": "ordered by mistake"},
            }
        ],
        "Cancel the second.",
    )
    state = await run_recombination(ctx, [a, b])
    assert state["status"] == "accepted"
    record = ctx.store.blueprint(state["blueprint_id"])
    assert record["kind"] == "recombined" and record["parents"] == [a, b]
    assert len(record["data"]["actions"]) == 2
    assert record["data"]["instruction"] == "You want both things done."
    recombiner_prompt = ctx.recombiner.calls[0]["messages"][-1].content
    assert "Cancel the first." in recombiner_prompt and "Cancel the second." in recombiner_prompt


async def test_conflicting_blueprints_are_rejected(retail_env):
    ctx = _ctx(retail_env)
    user, orders = _user_with(retail_env, "pending")
    order = orders["pending"][0]
    cancel = _accepted(
        ctx,
        user,
        [
            {
                "name": "cancel_pending_order",
                "arguments": {"order_id": order, "reason": "no longer needed"},
            }
        ],
        "Cancel it.",
    )
    move = _accepted(
        ctx,
        user,
        [
            {
                "name": "modify_pending_order_address",
                "arguments": {
                    "order_id": order,
                    "address1": "1 Elm Street",
                    "address2": "",
                    "city": "Austin",
                    "state": "TX",
                    "country": "USA",
                    "zip": "78701",
                },
            }
        ],
        "Ship it elsewhere.",
    )
    state = await run_recombination(ctx, [cancel, move])
    assert state["status"] == "rejected"
    record = ctx.store.blueprint(state["blueprint_id"])
    assert record["status"] == "rejected"
    assert any("non-pending order cannot be modified" in r for r in record["reasons"])
    assert ctx.recombiner.calls == []  # rejected before any LLM was asked


async def test_parents_of_different_users_are_refused(retail_env):
    ctx = _ctx(retail_env)
    rows = retail_env.master.execute(
        "SELECT order_id, user_id FROM orders WHERE status = 'pending' GROUP BY user_id LIMIT 2"
    ).fetchall()
    ids = [
        _accepted(
            ctx,
            u,
            [
                {
                    "name": "cancel_pending_order",
                    "arguments": {"order_id": o, "reason": "no longer needed"},
                }
            ],
            "x",
        )
        for o, u in rows
    ]
    state = await run_recombination(ctx, ids)
    assert state["status"] == "rejected"
    assert (
        "recombine: parents belong to 2 users"
        in ctx.store.blueprint(state["blueprint_id"])["reasons"]
    )


def test_parent_choice_needs_two_validated_blueprints_of_one_user():
    rows = [
        {"id": "a", "user_id": "u", "status": "accepted", "kind": "proposed"},
        {"id": "b", "user_id": "u", "status": "rejected", "kind": "proposed"},
        {"id": "c", "user_id": "v", "status": "accepted", "kind": "proposed"},
    ]
    assert choose_parents(rows, random.Random(0)) is None
    rows[1]["status"] = "accepted"
    assert sorted(choose_parents(rows, random.Random(0))) == ["a", "b"]
    assert orders_with({"orders": {"#1": {"status": "pending"}}}, "pending") == ["#1"]


def test_a_parent_set_is_never_chosen_twice_and_keeps_the_proposal_order():
    rows = [
        {
            "id": i,
            "user_id": "u",
            "status": "accepted",
            "kind": "proposed",
            "attempt": n,
            "round": 1,
        }
        for i, n in (("c", 7), ("a", 2), ("b", 5))
    ]
    used: set[frozenset[str]] = set()
    seen = []
    for j in range(6):
        parents = choose_parents(rows, random.Random(j), used)
        if parents is None:
            break
        used.add(frozenset(parents))
        seen.append(parents)
    assert len(seen) == 4 and len({frozenset(p) for p in seen}) == 4  # 3 pairs, 1 triple
    order = {"a": 2, "b": 5, "c": 7}
    assert all([order[i] for i in p] == sorted(order[i] for i in p) for p in seen)


def test_a_runs_user_pool_makes_users_come_back(retail_env):
    from apigen_mt.graphs.sampling import sample_context, user_pool

    pool = user_pool(retail_env, n=20, recombine_rate=0.25, seed=3)
    assert len(pool) == 10 and len(set(pool)) == 10  # ceil(20 / (1 + 4 * 0.25))
    assert pool == user_pool(retail_env, n=20, recombine_rate=0.25, seed=3)
    assert user_pool(retail_env, n=20, recombine_rate=0.0, seed=3) is None
    graph, examples = api_graph_of(retail_env), example_pool_of(retail_env)
    users = [
        sample_context(retail_env, graph, examples, random.Random(f"3:{i}"), users=pool).user_id
        for i in range(20)
    ]
    assert set(users) <= set(pool) and len(users) - len(set(users)) >= 5  # revisits
