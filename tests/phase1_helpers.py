"""Scripted phase-1 models grounded in the records the proposer is shown."""

from __future__ import annotations

import json
import random

from apigen_mt.graphs.context import BlueprintContext
from apigen_mt.graphs.sampling import sample_context
from apigen_mt.store import RunStore
from apigen_mt.testing import ScriptedChatModel

APPROVE = {
    "reflection": "matches",
    "correctness": 1,
    "completeness": 1,
    "satisfaction": 1,
    "creativity": 1,
    "total": 4,
    "correction": "",
}
REJECT = {
    "reflection": "wrong ids",
    "correctness": 0,
    "completeness": 0,
    "satisfaction": 0,
    "creativity": 1,
    "total": 1,
    "correction": "use the user's own order",
}
PLAN = {"summary": "the checks agree the blueprint is invalid", "plan": ["fix what they name"]}


def records_in(messages) -> dict:
    text = messages[-1].content
    if "## The user and their records\n" not in text:
        text = next(m.content for m in messages if "## The user and their records\n" in m.content)
    body = text.split("## The user and their records\n", 1)[1].split("\n\n## ", 1)[0]
    return json.loads(body)


def orders_with(records: dict, status: str) -> list[str]:
    return [oid for oid, o in records["orders"].items() if o["status"] == status]


def blueprint(records: dict, actions: list[dict], instruction: str = "") -> str:
    return json.dumps(
        {
            "reasoning": "scripted",
            "user_id": records["user_id"],
            "instruction": instruction or f"You are {records['user_id']}; see actions.",
            "actions": actions,
            "outputs": [],
        }
    )


def cancel_pending(messages) -> str:
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
        f"You are {records['user_id']} and no longer need order {order}.",
    )


def another_customers_order(env, records: dict) -> str:
    """A pending order of some other user: cancelling it runs, but breaks the policy."""
    return env.master.execute(
        "SELECT order_id FROM orders WHERE status = 'pending' "
        "AND user_id != ? ORDER BY rowid LIMIT 1",
        [records["user_id"]],
    ).fetchone()[0]


def unknown_tool(messages) -> str:
    return blueprint(records_in(messages), [{"name": "refund_everything", "arguments": {}}])


def models(proposer, reviewer=APPROVE, *, delay: float = 0.0):
    """(proposer, [reviewer], feedback) scripted models."""
    propose = ScriptedChatModel(
        script=proposer if isinstance(proposer, list) else [],
        responder=None if isinstance(proposer, list) else proposer,
    )
    review = ScriptedChatModel(responder=lambda m: json.dumps(reviewer), delay=delay)
    plan = ScriptedChatModel(responder=lambda m: json.dumps(PLAN))
    return propose, [review], plan


def context(env, proposer, reviewers, feedback, **kw) -> BlueprintContext:
    return BlueprintContext(
        env=env, store=RunStore(), proposer=proposer, reviewers=reviewers, feedback=feedback, **kw
    )


def attempt_where(ctx: BlueprintContext, predicate, limit: int = 200) -> int:
    """The first attempt index whose sampled user satisfies `predicate(records)`."""
    for attempt in range(limit):
        sampled = sample_context(
            ctx.env, ctx.graph, ctx.examples, random.Random(f"{ctx.seed}:{attempt}")
        )
        if predicate(json.loads(sampled.records)):
            return attempt
    raise AssertionError("no attempt samples a suitable user")
