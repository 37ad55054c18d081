"""Phase-1 funnel: proposed -> format -> execution -> policy -> committee -> accepted.

    python bench/phase1_funnel.py [--attempts 30]            scripted models (a mix of
                                                              good and broken blueprints)
    python bench/phase1_funnel.py --embedded --attempts 10   the embedded SmolLM2 model

Prints the funnel and, per attempt, how far it got and the first reason it failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from apigen_mt.environments import Environment
from apigen_mt.graphs.blueprint import build_blueprint_graph, run_blueprint_attempt
from apigen_mt.graphs.context import BlueprintContext
from apigen_mt.store import RunStore
from apigen_mt.testing import ScriptedChatModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from phase1_helpers import (
    APPROVE,
    PLAN,
    another_customers_order,
    blueprint,
    orders_with,
    records_in,
)


def scripted_proposer(env: Environment, rng: random.Random):
    """Proposals like a fallible LLM's: mostly sound, sometimes broken in each way."""

    def propose(messages):
        records = records_in(messages)
        pending, delivered = orders_with(records, "pending"), orders_with(records, "delivered")
        roll = rng.random()
        if roll < 0.15:
            return "Sure! Here is a task: cancel something."  # unparsable
        if roll < 0.3:
            return blueprint(records, [{"name": "refund_order", "arguments": {}}])
        if roll < 0.45 and delivered:  # executes? no: delivered orders cannot be cancelled
            return blueprint(
                records,
                [
                    {
                        "name": "cancel_pending_order",
                        "arguments": {"order_id": delivered[0], "reason": "no longer needed"},
                    }
                ],
            )
        if roll < 0.55:  # another customer's order: runs, but breaks the policy
            return blueprint(
                records,
                [
                    {
                        "name": "cancel_pending_order",
                        "arguments": {
                            "order_id": another_customers_order(env, records),
                            "reason": "no longer needed",
                        },
                    }
                ],
            )
        if pending:
            return blueprint(
                records,
                [
                    {
                        "name": "cancel_pending_order",
                        "arguments": {"order_id": pending[0], "reason": "ordered by mistake"},
                    }
                ],
                f"You are {records['user_id']}; cancel {pending[0]}, ordered by mistake.",
            )
        address = {
            "address1": "12 Pine Lane",
            "address2": "",
            "city": "Austin",
            "state": "TX",
            "country": "USA",
            "zip": "78701",
        }
        return blueprint(
            records,
            [
                {
                    "name": "modify_user_address",
                    "arguments": {"user_id": records["user_id"], **address},
                }
            ],
        )

    return propose


def scripted_reviewer(rng: random.Random):
    def review(messages):
        return json.dumps(
            APPROVE if rng.random() < 0.8 else {**APPROVE, "correctness": 0, "completeness": 0}
        )

    return review


async def run(args) -> None:
    env = Environment.generated("retail", seed=0)
    store = RunStore(Path(tempfile.mkdtemp()) / "run.sqlite")
    rng = random.Random(args.seed)
    if args.embedded:
        from apigen_mt.endpoints import resolved_endpoint
        from apigen_mt.models import chat_model, committee_models
        from apigen_mt.settings import load_settings
        from apigen_mt.usage import UsageLedger

        ledger = UsageLedger()
        with resolved_endpoint(load_settings({})) as settings:
            ctx = BlueprintContext(
                env=env,
                store=store,
                proposer=chat_model("proposer", settings, ledger=ledger),
                reviewers=committee_models(settings, 3, ledger=ledger),
                feedback=chat_model("feedback", settings, ledger=ledger),
                seed=args.seed,
                run_id="embedded",
            )
            await attempts(ctx, args)
            print(f"tokens by role: { {r: u.model_dump() for r, u in ledger.by_role().items()} }")
    else:
        ctx = BlueprintContext(
            env=env,
            store=store,
            proposer=ScriptedChatModel(responder=scripted_proposer(env, rng)),
            reviewers=[ScriptedChatModel(responder=scripted_reviewer(rng))],
            feedback=ScriptedChatModel(responder=lambda m: json.dumps(PLAN)),
            seed=args.seed,
            run_id="scripted",
        )
        await attempts(ctx, args)


async def attempts(ctx: BlueprintContext, args) -> None:
    graph = build_blueprint_graph(reviewers={}, stages={})
    start = time.perf_counter()
    for attempt in range(args.attempts):
        t = time.perf_counter()
        state = await run_blueprint_attempt(ctx, attempt, graph=graph)
        last = ctx.store.blueprint(state["blueprint_id"])
        first_reason = next((r for h in state.get("history", []) for r in h.get("reasons", [])), "")
        print(
            f"attempt {attempt:2d}: {state['status']:8s} rounds={state['round']} "
            f"furthest={max_stage(ctx, state)} {time.perf_counter() - t:6.1f}s  "
            f"{first_reason[:110]}"
        )
        assert last
    funnel = ctx.store.funnel(ctx.run_id)
    print(
        f"funnel ({args.attempts} attempts, {time.perf_counter() - start:.1f}s): "
        + " -> ".join(f"{k} {v}" for k, v in funnel.items())
    )
    print(f"accepted_attempts: {funnel['accepted']}/{args.attempts}")


def max_stage(ctx: BlueprintContext, state) -> str:
    order = ["", "propose", "format", "execution", "policy", "committee"]
    stages = [ctx.store.blueprint(h["blueprint_id"])["stage"] for h in state.get("history", [])]
    return max(stages, key=order.index) or "none"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--attempts", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--embedded", action="store_true", help="use the embedded local model")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
