"""Reverse task recombination: 2-3 validated blueprints of one user become one longer task.

    merge -> execution_check -> policy_check -> write_instruction -> committee
      -(Send)-> reviewers -> vote -> accept | reject

The combined trace is re-executed and re-checked, which catches conflicts between the
parts (returning and cancelling the same order); the committee then reviews the result.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from apigen_mt.agents import CombinedInstruction, RecombineInput, make_recombiner

from .blueprint import check_node, execution_stage, policy_stage, then
from .committee import add_committee, registered_reviewers
from .context import BlueprintContext
from .sampling import SampledContext
from .state import RecombineState

Ctx = Runtime[BlueprintContext]


def choose_parents(
    blueprints: list[dict[str, Any]],
    rng: random.Random,
    used: set[frozenset[str]] = frozenset(),
) -> list[str] | None:
    """2-3 accepted blueprints of one user, never a set in `used`; None when there is none.

    The parents come in the order they were proposed (attempt, round): their actions are
    concatenated in that order, so the gold order and the instruction's order agree."""
    by_user: dict[str, list[dict]] = defaultdict(list)
    for b in blueprints:
        if b["status"] == "accepted" and b["kind"] == "proposed":
            by_user[b["user_id"]].append(b)
    options = {
        user: [
            [b["id"] for b in combo]
            for k in (2, 3)
            for combo in itertools.combinations(
                sorted(bs, key=lambda b: (b.get("attempt", 0), b.get("round", 0))), k
            )
            if frozenset(b["id"] for b in combo) not in used
        ]
        for user, bs in by_user.items()
        if len(bs) >= 2
    }
    users = sorted(u for u, combos in options.items() if combos)
    if not users:
        return None
    combos = options[rng.choice(users)]
    pairs = [c for c in combos if len(c) == 2]
    triples = [c for c in combos if len(c) == 3]
    # two parents twice as often as three, as before
    pick = triples if triples and (not pairs or rng.random() < 1 / 3) else pairs
    return rng.choice(pick)


async def merge(state: RecombineState, runtime: Ctx) -> dict[str, Any]:
    ctx = runtime.context
    parents = [ctx.store.blueprint(i) for i in state["parent_ids"]]
    users = {p["user_id"] for p in parents}
    data = {
        "reasoning": "recombined from " + ", ".join(state["parent_ids"]),
        "user_id": parents[0]["user_id"],
        "instruction": " ".join(p["data"]["instruction"] for p in parents),
        "actions": [a for p in parents for a in p["data"]["actions"]],
        "outputs": list(dict.fromkeys(o for p in parents for o in p["data"]["outputs"])),
    }
    blueprint_id = ctx.store.save_blueprint(
        run_id=ctx.run_id,
        attempt=-1 - state.get("slot", 0),  # negative attempts are recombination slots
        round=1,
        user_id=data["user_id"],
        data=data,
        kind="recombined",
        parents=state["parent_ids"],
    )
    reasons = [] if len(users) == 1 else [f"recombine: parents belong to {len(users)} users"]
    if reasons:
        ctx.store.update_blueprint(blueprint_id, status="merge_failed", reasons=reasons)
    return {"blueprint_id": blueprint_id, "user_id": data["user_id"], "reasons": reasons}


async def write_instruction(state: RecombineState, runtime: Ctx) -> dict[str, Any]:
    ctx, blueprint_id = runtime.context, state["blueprint_id"]
    record = ctx.store.blueprint(blueprint_id)
    parents = [ctx.store.blueprint(i) for i in record["parents"]]
    persona = _persona_of(ctx, parents[0])
    result = await make_recombiner(ctx.recombiner or ctx.proposer).ainvoke(
        RecombineInput(
            instructions=[p["data"]["instruction"] for p in parents],
            actions=json.dumps(record["data"]["actions"]),
            outputs=record["data"]["outputs"],
            persona=persona,
        ),
        config={"tags": ["stage:recombine"]},
    )
    if not isinstance(result, CombinedInstruction):
        reasons = [f"recombiner: {result.kind}: {result.reason}"]
        ctx.store.update_blueprint(blueprint_id, status="recombiner_failed", reasons=reasons)
        return {"reasons": reasons}
    ctx.store.update_blueprint(
        blueprint_id, data={**record["data"], "instruction": result.instruction}
    )
    return {"reasons": []}


def _persona_of(ctx: BlueprintContext, parent: dict[str, Any]) -> str:
    sampled = ctx.store.context_of_attempt(ctx.run_id, parent["attempt"])
    return SampledContext.model_validate(sampled).persona if sampled else ""


async def accept(state: RecombineState, runtime: Ctx) -> dict[str, Any]:
    runtime.context.store.update_blueprint(
        state["blueprint_id"], status="accepted", stage="committee"
    )
    return {"status": "accepted"}


async def reject(state: RecombineState, runtime: Ctx) -> dict[str, Any]:
    runtime.context.store.update_blueprint(
        state["blueprint_id"], status="rejected", reasons=state.get("reasons") or []
    )
    return {"status": "rejected"}


def build_recombine_graph(*, reviewers: dict[str, Any] | None = None):
    reviewers = registered_reviewers() if reviewers is None else reviewers
    g = StateGraph(RecombineState, context_schema=BlueprintContext)
    sequence = {
        "merge": merge,
        "execution_check": check_node("execution", execution_stage),
        "policy_check": check_node("policy", policy_stage),
        "write_instruction": write_instruction,
    }
    for name, there in itertools.pairwise([*sequence, "committee"]):
        g.add_node(name, then(sequence[name], there, "reject"), destinations=(there, "reject"))
    g.add_node("accept", accept)
    g.add_node("reject", reject)
    add_committee(g, reviewers, on_pass="accept", on_fail="reject")
    g.add_edge(START, "merge")
    g.add_edge("accept", END)
    g.add_edge("reject", END)
    return g.compile(name="recombine")


async def run_recombination(
    ctx: BlueprintContext, parent_ids: list[str], graph=None, slot: int = 0, config=None
) -> RecombineState:
    graph = graph or build_recombine_graph()
    return await graph.ainvoke({"parent_ids": parent_ids, "slot": slot}, context=ctx, config=config)
