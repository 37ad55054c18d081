"""Phase 1 as a state machine: sample context, propose, validate, review, vote, feedback.

    sample_context -> propose -> format_check -> execution_check -> policy_check
      -> [extra stages] -> committee -(Send)-> reviewer x N, [extra reviewers] -> vote
      -> accept | feedback -> propose  (until the round limit, then rejected)

Build with `build_blueprint_graph()`; run one attempt with `run_blueprint_attempt`.
"""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from apigen_mt.agents import (
    Blueprint,
    FeedbackInput,
    FeedbackPlan,
    ProposerInput,
    make_feedback,
    make_proposer,
)

from .checks import (
    Stage,
    execution_check,
    format_check,
    outputs_check,
    parse_blueprint,
    policy_check,
    registered_stages,
)
from .committee import (
    add_committee,
    blueprint_policy,
    records_of,
    registered_reviewers,
    tool_lines,
)
from .context import BlueprintContext
from .dual_control import assertions_hold, prepare_of, scene_of_context, scene_prompt
from .sampling import SampledContext, attempt_user, id_choices_of, sample_context, tool_schemas
from .state import BlueprintState

Ctx = Runtime[BlueprintContext]


async def sample_context_node(state: BlueprintState, runtime: Ctx) -> dict[str, Any]:
    ctx, attempt = runtime.context, state.get("attempt", 0)
    users = ctx.user_pool
    sampled = sample_context(
        ctx.env,
        ctx.graph,
        ctx.examples,
        random.Random(f"{ctx.seed}:{attempt}"),
        users=users,
        user=attempt_user(users, ctx.seed, attempt) if users else None,
    )
    context_id = ctx.store.save_context(ctx.run_id, attempt, sampled.model_dump())
    return {
        "attempt": attempt,
        "context_id": context_id,
        "user_id": sampled.user_id,
        "round": 1,
        "blueprint_id": None,
        "reasons": [],
        "reviews": None,
        "status": "",
    }


async def propose(state: BlueprintState, runtime: Ctx) -> dict[str, Any]:
    ctx = runtime.context
    sampled = SampledContext.model_validate(ctx.store.context(state["context_id"]))
    previous_id = state.get("blueprint_id")
    previous = ctx.store.blueprint(previous_id)["data"] if previous_id else None
    tools, user_tools = ctx.env.domain.tools, ctx.env.domain.user_tools
    scene = sampled.scene  # a task that starts broken: the fix is the task's core
    x = ProposerInput(
        domain=ctx.env.domain.name,
        policy=ctx.env.domain.policy,
        focus_rules=sampled.rules,
        skeleton=[] if scene else [t for t in sampled.tools if t in tools and tools[t].writes],
        reads=[] if scene else [t for t in sampled.tools if t in tools and not tools[t].writes],
        tools=tool_schemas(ctx.env, sampled.tools),
        user_tools=user_tools.openai_schemas() if user_tools is not None else [],
        scene=scene_prompt(scene) if scene else None,
        records=sampled.records,
        persona=sampled.persona,
        examples=sampled.examples,
        feedback=ctx.store.feedback(previous_id) if previous_id else None,
        previous=json.dumps(previous) if previous else None,
        user_id=sampled.user_id,
        id_choices=id_choices_of(ctx.env, sampled.records),
    )
    result = await make_proposer(ctx.proposer).ainvoke(x, config={"tags": ["stage:propose"]})
    ok = isinstance(result, Blueprint)
    blueprint_id = ctx.store.save_blueprint(
        run_id=ctx.run_id,
        attempt=state["attempt"],
        round=state["round"],
        user_id=state["user_id"],
        data=result.model_dump() if ok else None,
        status="proposed" if ok else "proposer_failed",
    )
    ctx.store.update_blueprint(blueprint_id, target_writes=sampled.target_writes)
    reasons = [] if ok else [f"proposer: {result.kind}: {result.reason}"]
    if reasons:
        ctx.store.update_blueprint(blueprint_id, stage="", reasons=reasons)
    return {"blueprint_id": blueprint_id, "reasons": reasons}


def check_node(name: str, check):
    """A validation node: runs `check(blueprint, ctx, state) -> (reasons, record updates)`."""

    async def node(state: BlueprintState, runtime: Ctx) -> dict[str, Any]:
        ctx, blueprint_id = runtime.context, state["blueprint_id"]
        bp = parse_blueprint(ctx.store.blueprint(blueprint_id)["data"])
        reasons, updates = check(bp, ctx, state)
        if reasons:
            ctx.store.update_blueprint(
                blueprint_id, status=f"{name}_failed", reasons=reasons, **updates
            )
        else:
            ctx.store.update_blueprint(blueprint_id, **updates)
        return {"reasons": reasons}

    node.__name__ = name
    return node


def format_stage(bp: Blueprint, ctx: BlueprintContext, state: BlueprintState):
    reasons = format_check(bp, ctx.env, state.get("user_id"))
    return reasons, {} if reasons else {"stage": "format"}


def execution_stage(bp: Blueprint, ctx: BlueprintContext, state: BlueprintState):
    # A scene (a task that starts broken) is set up first, and must be fixed after.
    context_id = state.get("context_id")
    scene = scene_of_context(ctx.store.context(context_id)) if context_id else None
    reasons, diff, text = execution_check(
        bp, ctx.env, prepare_of(scene), assertions_hold(scene) if scene else None
    )
    if not reasons:  # the outputs must be what these calls return (or computed from it)
        reasons = outputs_check(bp, ctx.env, prepare=prepare_of(scene))
    updates = {"diff": diff, "diff_text": text, **blueprint_complexity(bp, ctx.env)}
    return reasons, {**updates, **({} if reasons else {"stage": "execution"})}


def blueprint_complexity(bp: Blueprint, env) -> dict[str, int]:
    """How big a task is: its writes, and the rules its actions bring into play."""
    tools, names = env.domain.tools, {a.name for a in bp.actions}
    return {
        "writes": sum(a.name in tools and tools[a.name].writes for a in bp.actions),
        "rules_in_play": sum(
            r.blueprints and (r.tools is None or bool(r.tools & names))
            for r in env.domain.rules.rules
        ),
    }


def policy_stage(bp: Blueprint, ctx: BlueprintContext, state: BlueprintState):
    reasons = policy_check(bp, ctx.env)
    return reasons, {} if reasons else {"stage": "policy"}


def extra_stage(stage: Stage):
    def check(bp: Blueprint, ctx: BlueprintContext, state: BlueprintState):
        try:
            return [str(r) for r in stage(bp, ctx.env)], {}
        except Exception as exc:  # a user's stage must not take the run down
            return [f"stage failed: {type(exc).__name__}: {exc}"], {}

    return check


async def accept(state: BlueprintState, runtime: Ctx) -> dict[str, Any]:
    ctx, blueprint_id = runtime.context, state["blueprint_id"]
    ctx.store.update_blueprint(blueprint_id, status="accepted", stage="committee")
    _note(ctx, state, "")
    ctx.examples.add(json.dumps(ctx.store.blueprint(blueprint_id)["data"]))
    return {
        "status": "accepted",
        "history": [{"round": state["round"], "blueprint_id": blueprint_id, "outcome": "accepted"}],
    }


async def feedback(state: BlueprintState, runtime: Ctx) -> dict[str, Any]:
    """Summarise this round's failures into a plan for the next, or give up at the limit."""
    ctx, blueprint_id = runtime.context, state["blueprint_id"]
    reasons = state.get("reasons") or []
    entry = {
        "round": state["round"],
        "blueprint_id": blueprint_id,
        "outcome": "failed",
        "reasons": reasons,
    }
    _note(ctx, state, "" if state["round"] >= ctx.rounds_limit else "feedback")
    if state["round"] >= ctx.rounds_limit:
        every = [
            f"round {h['round']}: {r}"
            for h in [*state.get("history", []), entry]
            for r in h.get("reasons", [])
        ]
        ctx.store.update_blueprint(blueprint_id, status="rejected", reasons=every)
        return {"status": "rejected", "history": [entry]}
    record = ctx.store.blueprint(blueprint_id)
    reviews = [f"{r['reviewer']}: {json.dumps(r['data'])}" for r in ctx.store.reviews(blueprint_id)]
    plan = await make_feedback(ctx.feedback).ainvoke(
        FeedbackInput(
            blueprint=json.dumps(record["data"]) if record["data"] else "(none)",
            reasons=reasons,
            reviews=reviews,
            records=records_of(ctx.store, record),
            tools=tool_lines(ctx.env),
            policy=blueprint_policy(ctx.env),
        ),
        config={"tags": ["stage:feedback"]},
    )
    # The next proposal gets the plan and the raw reasons (a plan can lose a detail).
    raw = "Failure reasons:\n" + "\n".join(f"- {r}" for r in reasons) if reasons else ""
    text = "\n\n".join(
        t for t in (plan.render() if isinstance(plan, FeedbackPlan) else "", raw) if t
    )
    ctx.store.save_feedback(blueprint_id, text)
    return {"round": state["round"] + 1, "reasons": [], "reviews": None, "history": [entry]}


async def _after_feedback(state: BlueprintState) -> str:
    return END if state.get("status") == "rejected" else "propose"


def _note(ctx: BlueprintContext, state: Any, stage: str) -> None:
    """Tell the progress display where an attempt is (round and stage); "" when done."""
    if ctx.on_stage is not None and "attempt" in state:
        ctx.on_stage(state["attempt"], state.get("round") or 1, stage)


def then(node, there: str, on_failure: str = "feedback"):
    """`node`, then `there`, or `on_failure` when the node found reasons to reject: the
    node names its successor with a Command (no routing step, no state re-read). Add it
    with `destinations=(there, on_failure)` so the drawn graph shows both edges."""

    async def routed(state: Any, runtime: Ctx) -> Command:
        _note(runtime.context, state, node.__name__)
        update = await node(state, runtime)
        goto = on_failure if update.get("reasons") else there
        if goto == "committee":
            _note(runtime.context, state, "committee")
        return Command(update=update, goto=goto)

    routed.__name__ = node.__name__
    return routed


def build_blueprint_graph(
    *, reviewers: dict[str, Any] | None = None, stages: dict[str, Stage] | None = None
):
    """The compiled phase-1 graph. Extra reviewers and stages default to the registered ones
    (`register_reviewer`, `register_stage`); each becomes a node of its own."""
    reviewers = registered_reviewers() if reviewers is None else reviewers
    stages = registered_stages() if stages is None else stages
    g = StateGraph(BlueprintState, context_schema=BlueprintContext)
    g.add_node("sample_context", sample_context_node)
    checks = [
        ("format_check", format_stage),
        ("execution_check", execution_stage),
        ("policy_check", policy_stage),
    ] + [(f"stage_{n}", extra_stage(s)) for n, s in stages.items()]
    # propose -> each check -> committee; any of them sends a failure to feedback. Each
    # node names its successor with a Command: no routing step, no state re-read.
    sequence = [("propose", propose)]
    sequence += [(name, check_node(name.removesuffix("_check"), c)) for name, c in checks]
    nodes = dict(sequence)
    for name, there in itertools.pairwise([*nodes, "committee"]):
        g.add_node(name, then(nodes[name], there), destinations=(there, "feedback"))
    g.add_node("accept", accept)
    g.add_node("feedback", feedback)
    add_committee(g, reviewers, on_pass="accept", on_fail="feedback")

    g.add_edge(START, "sample_context")
    g.add_edge("sample_context", "propose")
    g.add_edge("accept", END)
    g.add_conditional_edges("feedback", _after_feedback, ["propose", END])
    return g.compile(name="blueprint")


async def run_blueprint_attempt(
    ctx: BlueprintContext, attempt: int, graph=None, config: dict | None = None
) -> BlueprintState:
    """One context sample through every feedback round; returns the final state."""
    graph = graph or build_blueprint_graph()
    # Every node at most once per round, plus one step per judge.
    # (`graph.nodes` has START; drawing the graph to count them cost 3% of an attempt's CPU.)
    steps = 11 + ctx.rounds_limit * (len(graph.nodes) + ctx.committee_size)
    return await graph.ainvoke(
        {"attempt": attempt}, context=ctx, config={"recursion_limit": steps, **(config or {})}
    )
