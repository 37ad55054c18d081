"""pass^k of an agent model on a task set, as a state machine over an evaluation run:

    load_tasks -> trials -> finish

`load_tasks` stores the task set (a run's accepted blueprints, a held-out split of them,
τ-bench tasks, or hand-written ones) as tasks of the evaluation; `trials` runs k phase-2
dialogues per task with the model under test as the assistant, the simulated human on its
own model, and the same verifier as data generation. Every trial is a resumable unit in
the run store (an evaluation is a run whose config has kind "eval"), so an interrupted
evaluation continues where it stopped. Scores: `apigen_mt.eval_report`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field, field_validator, model_validator

from apigen_mt.agents import CallLimit, limited_calls
from apigen_mt.agents.tau2_user import guidelines_beside
from apigen_mt.environments import Environment, domain_key
from apigen_mt.environments.taubench import load_tasks
from apigen_mt.store import RunStore
from apigen_mt.usage import UsageRecorder

from .context import DialogueContext
from .dialogue import build_dialogue_graph, run_dialogue
from .units import Progress, UnitRunner, unit_config


class EvalConfig(BaseModel):
    kind: Literal["eval"] = "eval"
    domain: str
    label: str = Field("", description="Names the model under test in reports")
    run: str | None = None  # evaluate a generation run's accepted blueprints ...
    tasks_file: str | None = None  # ... or tasks in τ-bench's or τ²'s format
    split: str | None = None  # a split of τ²'s split_tasks.json beside tasks_file
    data_dir: str | None = None  # τ-bench's files or τ²'s db.json folder (else generated)
    # "apigen": our dialogue (best-of-N user, guards). "tau2": τ²'s user-simulator
    # guidelines, stop tokens, agent prompt and greeting, one user sample, its step and
    # error limits, so pass^k is comparable with τ²'s leaderboard.
    protocol: Literal["apigen", "tau2"] = "apigen"
    data_seed: int = 0
    # A world's database, by content (its cache copy's name): a resume on a changed file
    # is refused rather than mixing two states in one run.
    world_database: str | None = None
    holdout: float | None = Field(None, gt=0, le=1, description="share of a run's tasks")
    seed: int = 0
    trials: int = Field(4, ge=1, le=32)
    limit: int | None = Field(None, ge=1, description="first N tasks only")
    concurrency: int = Field(16, ge=1, le=4096)
    best_of_n: int = Field(1, ge=1, le=16)
    max_steps: int = Field(30, ge=1, le=400)  # agent actions, τ-bench's steps (its default 30)
    request_judge: bool = False  # the human_judge model flags requests beyond the instruction
    max_errors: int = Field(10, ge=1, le=400)  # tool errors: τ²'s limit (--protocol tau2)

    @field_validator("domain")
    @classmethod
    def _world_by_path(cls, value: str) -> str:
        return domain_key(value)  # a world folder is stored as its absolute path

    @model_validator(mode="after")
    def _one_task_source(self) -> EvalConfig:
        if (self.run is None) == (self.tasks_file is None):
            raise ValueError("give exactly one task set: --run RUN or --tasks FILE")
        if self.holdout is not None and self.run is None:
            raise ValueError("--holdout splits a run's tasks; give --run")
        if self.split is not None and self.tasks_file is None:
            raise ValueError("--split picks τ² tasks; give --tasks (τ²'s tasks.json)")
        return self


def held_out(task_id: str, share: float, seed: int) -> bool:
    """A stable split: the same tasks are held out for the same seed, whatever the order."""
    digest = hashlib.sha256(f"{seed}:{task_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def task_set(config: EvalConfig, store: RunStore) -> list[dict[str, Any]]:
    """The tasks to evaluate: {user_id, instruction, persona, actions, outputs, source}."""
    if config.tasks_file:
        tasks = [  # a τ² task is named by its own id, others by their place in the file
            {
                **t.model_dump(),
                "persona": "",
                "source": f"{config.tasks_file}#{t.tau2['id'] if t.tau2 else i}",
            }
            for i, t in enumerate(load_tasks(config.tasks_file, config.split))
        ]
    else:
        accepted = {b["id"] for b in store.blueprints(config.run, status="accepted")}
        tasks = [
            {**t["data"], "source": t["id"]}
            for t in store.tasks(config.run)
            if t["blueprint_id"] in accepted
            and (config.holdout is None or held_out(t["id"], config.holdout, config.seed))
        ]
    tasks = tasks[: config.limit] if config.limit else tasks
    for (
        t
    ) in tasks:  # an audit's verdict on the task: a failed trial of a flagged task is the task's
        audits = store.solve_rates(t["source"])
        if audits:
            flags = json.loads(audits[-1]["flags"] or "[]")
            t["audit"] = {
                "flag": bool(flags),
                "flags": flags,
                "solve_rate": audits[-1]["solve_rate"],
            }
    return tasks


# Steps per dialogue by default, by protocol: τ-bench's agent actions, τ²'s messages.
DEFAULT_MAX_STEPS = {"apigen": 30, "tau2": 200}


def tau2_guidelines(config: EvalConfig, tools: bool = False) -> str:
    """τ²'s user-simulator guidelines for an evaluation's task file (agents.tau2_user)."""
    return guidelines_beside(config.tasks_file, tools)


@dataclass
class EvalModels:
    assistant: BaseChatModel  # the model under test
    human: BaseChatModel
    human_judge: BaseChatModel | None = None
    nl_judge: BaseChatModel | None = None  # τ² tasks with NL assertions


@dataclass
class EvalContext:
    env: Environment
    store: RunStore
    models: EvalModels
    config: EvalConfig
    eval_id: str
    progress: Progress | None = None
    limit: CallLimit = field(init=False)
    runner: UnitRunner = field(init=False)
    dialogue: DialogueContext = field(init=False)

    def __post_init__(self) -> None:
        c = self.config
        self.limit = CallLimit(c.concurrency)
        self.runner = UnitRunner(self.store, self.eval_id, 2 * c.concurrency, self.progress)
        self.dialogue = DialogueContext(
            env=self.env,
            store=self.store,
            human=self.models.human,
            assistant=self.models.assistant,
            judge=self.models.human_judge,
            request_judge=self.models.human_judge if c.request_judge else None,
            nl_judge=self.models.nl_judge,
            best_of_n=1 if c.protocol == "tau2" else c.best_of_n,
            max_steps=c.max_steps,
            seed=c.seed,
            protocol=c.protocol,
            tau2_guidelines=tau2_guidelines(c, tools=self.env.domain.user_tools is not None)
            if c.protocol == "tau2"
            else "",
            max_errors=c.max_errors,
        )


class EvalState(TypedDict, total=False):
    eval_id: str
    task_ids: list[str]
    status: str


Ctx = Runtime[EvalContext]


async def load_tasks_node(state: EvalState, runtime: Ctx) -> dict[str, Any]:
    ctx = runtime.context
    ids = []
    for i, task in enumerate(task_set(ctx.config, ctx.store)):
        ids.append(
            ctx.store.save_task(task, run_id=ctx.eval_id, id=f"{ctx.eval_id}:t{i}")
        )  # idempotent ids: a resumed evaluation finds its tasks again
    if not ids:
        raise ValueError("the task set is empty")
    return {"task_ids": ids}


async def trials(state: EvalState, runtime: Ctx, config: RunnableConfig) -> dict[str, Any]:
    ctx, graph = runtime.context, build_dialogue_graph()

    def trial(task_id: str, k: int):
        async def work() -> bool:
            key = f"dialogue:{task_id}:{k}"
            final = await run_dialogue(
                ctx.dialogue, task_id, k, graph, unit_config(config, "dialogue", key)
            )
            return bool(final.get("accepted"))

        return work

    units = [
        (f"dialogue:{t}:{k}", trial(t, k))
        for t in state["task_ids"]
        for k in range(ctx.config.trials)
    ]
    await ctx.runner.run("trials", units)
    return {}


async def finish(state: EvalState, runtime: Ctx) -> dict[str, Any]:
    ctx = runtime.context
    ctx.store.save_pass_rates(
        ctx.eval_id, ctx.config.label, pass_rates(ctx.store, state["task_ids"])
    )
    ctx.store.set_run_status(ctx.eval_id, "finished")
    return {"status": "finished"}


def pass_rates(store: RunStore, task_ids: list[str]) -> list[dict[str, Any]]:
    """Each evaluated task's trials and passes, by the task's source (what `export` and
    the RL task sets look pass rates up by)."""
    rows = []
    for task_id in task_ids:
        trials = store.trajectories(task_id)
        source = store.task(task_id).get("source", task_id)
        rows.append(
            {
                "task": source,
                "trials": len(trials),
                "passed": sum(bool(t["accepted"]) for t in trials),
            }
        )
    return rows


def build_evaluate_graph():
    g = StateGraph(EvalState, context_schema=EvalContext)
    g.add_node("load_tasks", load_tasks_node)
    g.add_node("trials", trials)
    g.add_node("finish", finish)
    g.add_edge(START, "load_tasks")
    g.add_edge("load_tasks", "trials")
    g.add_edge("trials", "finish")
    g.add_edge("finish", END)
    return g.compile(name="evaluate")


async def run_evaluation(ctx: EvalContext, config: RunnableConfig | None = None) -> EvalState:
    config = dict(config or {})
    recorder = UsageRecorder(
        lambda role, stage, model, p, c: ctx.store.add_usage(ctx.eval_id, role, stage, model, p, c)
    )
    config["callbacks"] = [*(config.get("callbacks") or []), recorder]
    config.setdefault("run_name", "evaluate")
    config.setdefault("metadata", {})["apigen_eval_id"] = ctx.eval_id
    with limited_calls(ctx.limit):
        try:
            return await build_evaluate_graph().ainvoke(
                {"eval_id": ctx.eval_id}, context=ctx, config=config
            )
        except BaseException:
            ctx.store.set_run_status(ctx.eval_id, "interrupted")
            raise
