"""The whole method as one state machine over a run:

    start -> blueprint_attempts -> recombinations -> dialogues -> finish
                     ^                                   |
                     +------ until --target is met ------+

Each node runs its units of work (graphs/units.py) concurrently: phase-1 attempts, reverse
recombinations of accepted blueprints, and `trials` phase-2 dialogues per accepted
blueprint. One `CallLimit` caps the LLM calls in flight across all of them. Every record
lands in the run store; a rerun with the same run id resumes where the last one stopped.

Build with `build_pipeline_graph()`; run with `run_pipeline(ctx)`.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, TypedDict

from langchain_core.callbacks import BaseCallbackManager
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from apigen_mt.agents import CallLimit, limited_calls
from apigen_mt.environments import Environment
from apigen_mt.store import RunStore
from apigen_mt.usage import UsageRecorder

from .audit_gate import audit_gate
from .blueprint import build_blueprint_graph, run_blueprint_attempt
from .context import BlueprintContext, DialogueContext
from .dialogue import build_dialogue_graph, run_dialogue
from .dual_control import prepare_of
from .personas import PERSONAS
from .pipeline_config import PipelineConfig
from .recombine import build_recombine_graph, choose_parents, run_recombination
from .sampling import SampledContext, attempt_user, user_pool
from .units import Progress, UnitRunner, unit_config
from .verify import gold_state_hash


@dataclass
class PipelineModels:
    """The chat model of each role (any BaseChatModel: ChatOpenAI, scripted, …)."""

    proposer: BaseChatModel
    reviewers: list[BaseChatModel]
    feedback: BaseChatModel
    human: BaseChatModel
    assistant: BaseChatModel
    recombiner: BaseChatModel | None = None
    human_judge: BaseChatModel | None = None


@dataclass(frozen=True)
class Shard:
    """One of `count` workers of a sharded run: it owns the attempts of its users (so a
    user's blueprints meet in one shard for recombination) and every `count`-th
    recombination slot."""

    index: int
    count: int

    def slot(self, local: int) -> int:
        return local * self.count + self.index

    def local(self, slot: int) -> int:
        return (slot - self.index) // self.count


@dataclass
class PipelineContext:
    env: Environment
    store: RunStore
    models: PipelineModels
    config: PipelineConfig
    run_id: str
    progress: Progress | None = None
    shard: Shard | None = None  # a worker of a sharded run: one batch, its attempts only
    limit: CallLimit = field(init=False)
    runner: UnitRunner = field(init=False)
    phase1: BlueprintContext = field(init=False)
    phase2: DialogueContext = field(init=False)
    graphs: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        c, m = self.config, self.models
        self.limit = CallLimit(c.concurrency, adaptive=True)
        # Twice as many units as LLM slots keeps the slots busy while units run tools.
        self.runner = UnitRunner(self.store, self.run_id, 2 * c.concurrency, self.progress)
        self.phase1 = BlueprintContext(
            env=self.env,
            store=self.store,
            proposer=m.proposer,
            reviewers=m.reviewers,
            feedback=m.feedback,
            recombiner=m.recombiner,
            committee_size=c.committee_size,
            threshold=c.threshold,
            max_rounds=c.max_rounds,
            run_id=self.run_id,
            seed=c.seed,
            user_pool=user_pool(self.env, c.n, c.recombine_rate, c.seed),
            on_stage=getattr(self.progress, "attempt_at", None),
        )
        self.phase2 = DialogueContext(
            env=self.env,
            store=self.store,
            human=m.human,
            assistant=m.assistant,
            judge=m.human_judge,
            request_judge=m.human_judge if c.request_judge else None,
            best_of_n=c.best_of_n,
            max_steps=c.max_steps,
            seed=c.seed,
        )
        self.owner = attempt_owner(self.phase1.user_pool, c.seed, self.shard)
        self.graphs = {
            "blueprint": build_blueprint_graph(),
            "recombine": build_recombine_graph(),
            "dialogue": build_dialogue_graph(),
        }


class PipelineState(TypedDict, total=False):
    run_id: str
    attempts: int  # phase-1 attempts scheduled so far
    recombined: int  # recombination slots scheduled so far
    batch_start: int  # first attempt of the current batch
    status: str


Ctx = Runtime[PipelineContext]


async def start(state: PipelineState, runtime: Ctx) -> dict[str, Any]:
    ctx = runtime.context
    # A resumed run's proposer sees the examples the earlier process accepted.
    for b in ctx.store.blueprints(ctx.run_id, status="accepted"):
        if b["kind"] == "proposed":
            ctx.phase1.examples.add(json.dumps(b["data"]))
    first = state.get("attempts", 0)  # a shard's batch starts where the driver says
    return {
        "attempts": first,
        "recombined": state.get("recombined", 0),
        "batch_start": first,
        "status": "running",
    }


def attempt_owner(users: list[str] | None, seed: int, shard: Shard | None):
    """`owns(attempt)`: whether this process runs the attempt (always, unsharded)."""
    if shard is None:
        return lambda attempt: True
    if users:
        where = {u: i for i, u in enumerate(users)}
        return lambda a: where[attempt_user(users, seed, a)] % shard.count == shard.index
    return lambda attempt: attempt % shard.count == shard.index


async def blueprint_attempts(state: PipelineState, runtime: Ctx, config: RunnableConfig):
    ctx, first = runtime.context, state["attempts"]
    last = min(first + ctx.config.n, ctx.config.attempt_budget)
    graph = ctx.graphs["blueprint"]

    def attempt(i: int):
        async def work() -> bool:
            key = f"attempt:{i}"
            final = await run_blueprint_attempt(
                ctx.phase1, i, graph, unit_config(config, "blueprint", key)
            )
            return final.get("status") == "accepted"

        return work

    mine = [i for i in range(first, last) if ctx.owner(i)]
    await ctx.runner.run("blueprints", [(f"attempt:{i}", attempt(i)) for i in mine])
    return {"attempts": last, "batch_start": first}


async def recombinations(state: PipelineState, runtime: Ctx, config: RunnableConfig):
    ctx, c = runtime.context, runtime.context.config
    accepted = _accepted(ctx.store, ctx.run_id, kind="proposed")
    in_batch = [b for b in accepted if state["batch_start"] <= b["attempt"] < state["attempts"]]
    # Tasks that start from a scene do not recombine: two fixes need one scene.
    scenes = ctx.env.domain.tasks.sample_scene is not None
    slots = 0 if scenes else round(c.recombine_rate * len(in_batch))
    first = state["recombined"]
    # A shard numbers its slots j = 0, 1, … and runs them as run-wide slots of its own.
    slot_of = ctx.shard.slot if ctx.shard else (lambda j: j)
    local_of = ctx.shard.local if ctx.shard else (lambda j: j)
    # Parent sets are fixed before the slots run, and never repeat across the run: sets of
    # earlier batches are excluded, then each slot's choice (same choices on a resume).
    used = {
        frozenset(b["parents"])
        for b in ctx.store.blueprints(ctx.run_id)
        if b["kind"] == "recombined" and local_of(-1 - b["attempt"]) < first
    }
    chosen: dict[int, list[str] | None] = {}
    for j in map(slot_of, range(first, first + slots)):
        chosen[j] = choose_parents(accepted, random.Random(f"{c.seed}:recombine:{j}"), used)
        if chosen[j]:
            used.add(frozenset(chosen[j]))

    def recombination(j: int):
        async def work() -> bool:
            parents = chosen[j]
            if parents is None:  # no user has an unused set of accepted blueprints (yet)
                return False
            final = await run_recombination(
                ctx.phase1,
                parents,
                ctx.graphs["recombine"],
                slot=j,
                config=unit_config(config, "recombine", f"recombine:{j}"),
            )
            return final.get("status") == "accepted"

        return work

    units = [(f"recombine:{j}", recombination(j)) for j in chosen]
    await ctx.runner.run("recombinations", units)
    return {"recombined": first + slots}


async def dialogues(state: PipelineState, runtime: Ctx, config: RunnableConfig):
    ctx = runtime.context
    accepted = _accepted(ctx.store, ctx.run_id)
    if ctx.config.audit:  # solver dialogues first: flagged blueprints get no training data
        accepted = await audit_gate(ctx, accepted, _task_for, config)
    units = []
    for b in accepted:
        task_id = _task_for(ctx, b)
        for trial in range(ctx.config.trials):
            units.append((f"dialogue:{task_id}:{trial}", _dialogue(ctx, task_id, trial, config)))
    await ctx.runner.run("dialogues", units)
    return {}


def _dialogue(ctx: PipelineContext, task_id: str, trial: int, config: RunnableConfig):
    async def work() -> bool:
        key = f"dialogue:{task_id}:{trial}"
        final = await run_dialogue(
            ctx.phase2, task_id, trial, ctx.graphs["dialogue"], unit_config(config, "dialogue", key)
        )
        return bool(final.get("accepted"))

    return work


def _task_for(ctx: PipelineContext, blueprint: dict[str, Any]) -> str:
    """The phase-2 task of an accepted blueprint (idempotent: same id on every rerun). A
    task saved by an earlier batch or process is kept: its gold replay is not redone."""
    task_id = f"t-{blueprint['id']}"
    try:
        if "gold_hash" in ctx.store.task(task_id):
            return task_id
    except KeyError:
        pass
    data = blueprint["data"]
    sampled = ctx.store.context_of_attempt(
        ctx.run_id,
        blueprint["attempt"]
        if blueprint["kind"] == "proposed"
        else ctx.store.blueprint(blueprint["parents"][0])["attempt"],
    )
    context = SampledContext.model_validate(sampled) if sampled else None
    persona = context.persona if context else PERSONAS[0]
    scene = context.scene if context else None
    return ctx.store.save_task(
        {
            "user_id": data["user_id"],
            "instruction": data["instruction"],
            "persona": persona,
            "actions": data["actions"],
            "outputs": data["outputs"],
            # once per task, not per trial: every trial's verification compares to it
            "gold_hash": gold_state_hash(ctx.env, data["actions"], prepare_of(scene)),
            # a task that starts broken: its scene and τ²'s rewards to score it by, and
            # APIGen-MT's rule on top: kept only at the proven state of both sides
            **({"tau2": scene.criteria(data["actions"]), "exact_state": True} if scene else {}),
        },
        blueprint["id"],
        run_id=ctx.run_id,
        id=task_id,
    )


def _accepted(store: RunStore, run_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    """Accepted blueprints in a seed-determined order (not insertion order, which depends
    on timing and on what a resume redid)."""
    rows = [b for b in store.blueprints(run_id, status="accepted") if kind in (None, b["kind"])]
    return sorted(rows, key=lambda b: (b["attempt"] < 0, abs(b["attempt"]), b["round"]))


async def _after_dialogues(state: PipelineState, runtime: Ctx) -> str:
    ctx, c = runtime.context, runtime.context.config
    if ctx.shard or c.target is None or state["attempts"] >= c.attempt_budget:
        return "finish"  # a shard runs one batch: the driver decides on the next
    unique = sum(
        t["accepted"] and not t["duplicate"] for t in ctx.store.run_trajectories(ctx.run_id)
    )
    return "finish" if unique >= c.target else "blueprint_attempts"


async def finish(state: PipelineState, runtime: Ctx) -> dict[str, Any]:
    if runtime.context.shard is None:
        runtime.context.store.set_run_status(runtime.context.run_id, "finished")
    return {"status": "finished"}


def build_pipeline_graph():
    g = StateGraph(PipelineState, context_schema=PipelineContext)
    for node in (start, blueprint_attempts, recombinations, dialogues, finish):
        g.add_node(node.__name__, node)
    g.add_edge(START, "start")
    g.add_edge("start", "blueprint_attempts")
    g.add_edge("blueprint_attempts", "recombinations")
    g.add_edge("recombinations", "dialogues")
    g.add_conditional_edges("dialogues", _after_dialogues, ["blueprint_attempts", "finish"])
    g.add_edge("finish", END)
    return g.compile(name="pipeline")


async def run_pipeline(
    ctx: PipelineContext, config: RunnableConfig | None = None, start: dict | None = None
):
    """Run (or resume) `ctx.run_id` to the end; returns the final pipeline state. A shard
    passes `start` ({"attempts": first attempt, "recombined": its slots so far})."""
    config = dict(config or {})
    recorder = UsageRecorder(
        lambda role, stage, model, p, c: ctx.store.add_usage(ctx.run_id, role, stage, model, p, c)
    )
    callbacks = config.get("callbacks")
    if isinstance(callbacks, BaseCallbackManager):
        callbacks = callbacks.copy()
        callbacks.add_handler(recorder, inherit=True)
        config["callbacks"] = callbacks
    else:
        config["callbacks"] = [*(callbacks or []), recorder]
    batches = ctx.config.attempt_budget // ctx.config.n + 1
    config.setdefault("recursion_limit", 10 + 4 * batches)
    config.setdefault("run_name", "pipeline")
    config.setdefault("metadata", {})["apigen_run_id"] = ctx.run_id
    with limited_calls(ctx.limit):
        try:
            return await build_pipeline_graph().ainvoke(
                {"run_id": ctx.run_id, **(start or {})}, context=ctx, config=config
            )
        except BaseException:
            ctx.store.set_run_status(ctx.run_id, "interrupted")
            raise
