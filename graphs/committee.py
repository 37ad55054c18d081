"""The review committee: LLM judges fanned out with `Send`, extra reviewers, majority vote."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from apigen_mt.agents import CRITERIA, Review, ReviewInput, RoleFailure, make_reviewer

from .context import BlueprintContext
from .dual_control import prepare_of, scene_of_record

Ctx = Runtime[BlueprintContext]
ReviewerFn = Callable[[ReviewInput], "Review | RoleFailure | Awaitable[Review | RoleFailure]"]
_REVIEWERS: dict[str, Any] = {}


def register_reviewer(name: str, reviewer: Any) -> None:
    """An extra committee member: an object with `ainvoke(ReviewInput)` (e.g. a role made
    with `make_reviewer(model, name)` and its own prompt) or a function returning a Review."""
    _REVIEWERS[name] = reviewer


def registered_reviewers() -> dict[str, Any]:
    return dict(_REVIEWERS)


def review_input(ctx: BlueprintContext, blueprint_id: str) -> ReviewInput:
    record = ctx.store.blueprint(blueprint_id)
    bp = record["data"]
    used = {a["name"] for a in bp["actions"]} | set(ctx.env.domain.tools.write_names)
    shown = {k: bp[k] for k in ("user_id", "instruction", "actions", "outputs")}
    scene = scene_of_record(ctx.store, record)
    return ReviewInput(
        blueprint=json.dumps(shown),
        tools=tool_lines(ctx.env, used),
        diff=record["diff_text"],
        policy=blueprint_policy(ctx.env),
        records=records_of(ctx.store, record),
        trace=gold_trace(ctx.env, bp["actions"], prepare=prepare_of(scene)),
    )


def tool_lines(env, names: set[str] | None = None) -> str:
    """Each tool (of `names`, or all) as a line: name, read/write, first line of its text;
    a dual-control domain's user tools marked as the user's."""
    sides = [(env.domain.tools, "")]
    if env.domain.user_tools is not None:
        sides.append((env.domain.user_tools, "the user's, on their device; "))
    return "\n".join(
        f"- {t.name} ({whose}{'write' if t.writes else 'read'}): "
        f"{(t.description.splitlines() or [''])[0]}"
        for tools, whose in sides
        for t in tools
        if names is None or t.name in names
    )


def blueprint_policy(env) -> str:
    """The rules a blueprint can break; rules only a conversation can meet are left out. A
    domain with no executable rules (τ²'s telecom, most worlds): its policy text."""
    rules = [f"- {r.description}" for r in env.domain.rules.rules if r.blueprints]
    return "\n".join(rules) if env.domain.rules.rules else env.domain.policy


def records_of(store, record: dict[str, Any]) -> str:
    """The records a blueprint was built from: its attempt's sampled context, or for a
    recombination its parents' contexts."""
    attempts = [record["attempt"]] if record["attempt"] >= 0 else []
    for parent in record.get("parents") or []:
        attempts.append(store.blueprint(parent)["attempt"])
    contexts = [store.context_of_attempt(record["run_id"], a) for a in dict.fromkeys(attempts)]
    return "\n".join(c["records"] for c in contexts if c and c.get("records"))


def gold_trace(env, actions: list[dict[str, Any]], limit: int = 1500, prepare=None) -> str:
    """Each gold call and what it returned (long observations cut), run in a fresh sandbox
    (set up by `prepare`: a scene); the user's own calls marked as theirs."""
    with env.sandbox() as sandbox:
        if prepare is not None:
            prepare(sandbox)
        trace = sandbox.run(actions)
    return "\n".join(
        f"{n}. {'[user] ' if a.get('requestor') == 'user' else ''}{e.name}"
        f"({json.dumps(e.arguments)}) -> "
        + (e.observation if len(e.observation) <= limit else e.observation[:limit] + "…")
        for n, (a, e) in enumerate(zip(actions, trace, strict=True), 1)
    )


async def run_reviewer(reviewer: Any, x: ReviewInput) -> Review | RoleFailure:
    try:
        if hasattr(reviewer, "ainvoke"):
            return await reviewer.ainvoke(x)
        result = reviewer(x)
        return await result if inspect.isawaitable(result) else result
    except Exception as exc:  # a user's reviewer must not take the run down
        return RoleFailure(role="reviewer", kind="error", reason=f"{type(exc).__name__}: {exc}")


def verdict(
    ctx: BlueprintContext, blueprint_id: str, name: str, result: Review | RoleFailure
) -> dict[str, Any]:
    ok = isinstance(result, Review)
    ctx.store.save_review(blueprint_id, name, ok, result.model_dump())
    scores = {c: getattr(result, c) for c in CRITERIA} if ok else {}
    return {"reviewer": name, "ok": ok, "scores": scores, "note": "" if ok else str(result)[:200]}


async def llm_reviewer(payload: dict[str, Any], runtime: Runtime[BlueprintContext]) -> dict:
    """One committee judge (slot i uses reviewer model i, cycling)."""
    ctx, slot = runtime.context, payload["slot"]
    model = ctx.reviewers[slot % len(ctx.reviewers)]
    result = await make_reviewer(model).ainvoke(_given_input(payload))
    return {"reviews": [verdict(ctx, payload["blueprint_id"], f"reviewer_{slot}", result)]}


def _given_input(payload: dict[str, Any]) -> ReviewInput:
    """The review input the fan-out built once for every judge."""
    return ReviewInput.model_validate(payload["review"])


def extra_reviewer_node(name: str, reviewer: Any):
    async def node(payload: dict[str, Any], runtime: Runtime[BlueprintContext]) -> dict:
        ctx = runtime.context
        result = await run_reviewer(reviewer, _given_input(payload))
        return {"reviews": [verdict(ctx, payload["blueprint_id"], name, result)]}

    node.__name__ = f"review_{name}"
    return node


def vote(reviews: list[dict[str, Any]], threshold: int) -> tuple[bool, dict[str, int], str]:
    """Majority per criterion over the valid reviews; accept when enough criteria pass."""
    valid = [r for r in reviews if r["ok"]]
    if not valid:
        return False, {}, "committee: no reviewer produced a valid review"
    majority = {c: int(sum(r["scores"][c] for r in valid) * 2 > len(valid)) for c in CRITERIA}
    score = sum(majority.values())
    if not majority["correctness"]:  # wrong data is never worth keeping, whatever the total
        return False, majority, "committee: the majority judged the blueprint incorrect"
    if score >= threshold:
        return True, majority, ""
    failed = [c for c, v in majority.items() if not v]
    return (
        False,
        majority,
        (f"committee: score {score}/4 below {threshold} (majority said no to {', '.join(failed)})"),
    )


async def committee(state: dict, runtime: Ctx) -> dict[str, Any]:
    return {"reviews": None}  # a fresh committee each round


def committee_fan_out(extra: list[str]):
    async def route(state: dict, runtime: Ctx) -> list[Send]:
        # Every judge sees the same input: built once (a store read, the records and a
        # gold replay in a sandbox), sent as plain JSON with each judge's payload.
        review = review_input(runtime.context, state["blueprint_id"]).model_dump()
        payload = {"blueprint_id": state["blueprint_id"], "review": review}
        sends = [
            Send("reviewer", {**payload, "slot": i}) for i in range(runtime.context.committee_size)
        ]
        return sends + [Send(f"review_{name}", payload) for name in extra]

    return route


async def vote_node(state: dict, runtime: Ctx) -> dict[str, Any]:
    ctx = runtime.context
    accepted, _, reason = vote(state.get("reviews") or [], ctx.threshold)
    if accepted:
        return {"reasons": []}
    ctx.store.update_blueprint(state["blueprint_id"], status="committee_failed", reasons=[reason])
    return {"reasons": [reason]}


def add_committee(g, reviewers: dict[str, Any], *, on_pass: str, on_fail: str) -> None:
    """Add `committee` (fan-out), `reviewer`, one `review_<name>` per extra reviewer and
    `vote` to graph `g`; the vote routes to `on_pass` or `on_fail`."""
    g.add_node("committee", committee)
    g.add_node("reviewer", llm_reviewer)
    judges = ["reviewer"]
    for name, reviewer in reviewers.items():
        g.add_node(f"review_{name}", extra_reviewer_node(name, reviewer))
        judges.append(f"review_{name}")
    g.add_node("vote", vote_node)
    g.add_conditional_edges("committee", committee_fan_out(list(reviewers)), judges)
    for judge in judges:
        g.add_edge(judge, "vote")

    async def after_vote(state: dict) -> str:
        return on_fail if state.get("reasons") else on_pass

    g.add_conditional_edges("vote", after_vote, [on_pass, on_fail])
