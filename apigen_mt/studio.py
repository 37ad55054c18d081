"""The graphs as the LangGraph API server runs them (`langgraph dev`, Studio, the SDK).

The method's graphs take live objects in their runtime context (an environment, the run
store, chat models). A server run's `context` is plain JSON instead, so each graph listed
in `langgraph.json` is served through a small graph of its own whose context is
`RunOptions` — the CLI's option names, the react-agent idiom — and whose node builds the
environment, store and models from it and runs the real graph:

    POST /runs/wait {"assistant_id": "pipeline",
                     "context": {"domain": "retail", "n": 2, "out": "apigen-runs"}}

completes a run that `apigen-mt report RUN --out apigen-runs` shows. The work runs in a
thread with its own event loop, exempt from the dev server's blocking-call detector: our
nodes do synchronous SQLite I/O by design.
"""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from apigen_mt.eval_report import eval_report
from apigen_mt.graphs.blueprint import run_blueprint_attempt
from apigen_mt.graphs.dialogue import run_dialogue
from apigen_mt.graphs.evaluate import EvalConfig, EvalContext, EvalModels, run_evaluation
from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.graphs.recombine import run_recombination
from apigen_mt.models import chat_model, pipeline_models
from apigen_mt.report import run_report
from apigen_mt.runs import environment_for, eval_environment, open_eval, open_run, store_at
from apigen_mt.settings import load_settings


@dataclass
class RunOptions:
    """A server run's context, as plain JSON (the CLI's option names)."""

    domain: str = "retail"  # a domain name or a world folder
    out: str = "apigen-runs"  # the folder holding the run store
    n: int = 2  # blueprint attempts
    seed: int = 0
    data_dir: str | None = None  # τ-bench-format data instead of generated data
    trials: int = 3  # dialogues per accepted blueprint (evaluate: per task)
    best_of_n: int = 4
    committee_size: int = 3
    concurrency: int = 16
    model: str | None = None  # every role (else $APIGEN_MT_MODEL and the per-role settings)
    base_url: str | None = None  # every role's endpoint (else $APIGEN_MT_BASE_URL ...)
    run: str | None = None  # an existing run: its tasks (dialogue, recombine, evaluate)
    task: str | None = None  # dialogue: a task of `run` (default: its first)
    tasks: str | None = None  # evaluate: a task file instead of `run`
    label: str = ""  # evaluate: names the model under test
    attempt: int = 0  # blueprint: the attempt number (seeds its context)


class Outcome(TypedDict, total=False):
    run_id: str
    eval_id: str
    status: str
    funnel: dict[str, int]
    pass_hat_k: list[float]
    blueprint_id: str
    accepted: bool
    reason: str


def _settings(o: RunOptions):
    return load_settings(overrides={"model": o.model, "base_url": o.base_url})


def _pipeline_context(o: RunOptions, run: str | None = None) -> PipelineContext:
    """A run's pipeline context: `run` continued, or a new run from the options."""
    store = store_at(o.out)
    config = PipelineConfig(
        domain=o.domain, n=o.n, seed=o.seed, trials=o.trials, best_of_n=o.best_of_n,
        committee_size=o.committee_size, concurrency=o.concurrency,
        data_dir=o.data_dir,
    )  # fmt: skip
    run_id, config, _ = open_run(store, config, resume=run, auto=False)
    return PipelineContext(
        env=environment_for(config),
        store=store,
        models=pipeline_models(_settings(o), config.committee_size),
        config=config,
        run_id=run_id,
    )


@contextmanager
def _blocking_allowed():
    """The dev server's blocking-call detector (blockbuster) watches every running event
    loop, the one our worker thread runs included. That loop is ours, and its SQLite work
    is synchronous by design (microseconds a call): let it through in this thread only,
    with blockbuster's own per-thread switch. (If a blockbuster release drops it, run
    `langgraph dev --allow-blocking`.)"""
    try:
        from blockbuster import blockbuster as detector
    except ImportError:
        yield
        return
    switch = getattr(detector, "_skip", None)
    if switch is None:
        yield
        return
    switch.value = True
    try:
        yield
    finally:
        switch.value = False


def _in_a_thread(job):
    """A node that runs `job(options)` in a worker thread, where it may block on SQLite
    and runs its coroutines on a loop of its own (`asyncio.run`)."""

    def in_thread(options: RunOptions) -> Outcome:
        with _blocking_allowed():
            return job(options)

    async def node(state: Outcome, runtime: Runtime[RunOptions]) -> Outcome:
        return await asyncio.to_thread(in_thread, runtime.context)

    node.__name__ = job.__name__.lstrip("_")
    return node


def _generate(o: RunOptions) -> Outcome:
    ctx = _pipeline_context(o)
    final = asyncio.run(run_pipeline(ctx))
    return {"run_id": ctx.run_id, "status": final.get("status", ""),
            "funnel": run_report(ctx.store, ctx.run_id).funnel}  # fmt: skip


def _attempt(o: RunOptions) -> Outcome:
    ctx = _pipeline_context(o, o.run)
    final = asyncio.run(run_blueprint_attempt(ctx.phase1, o.attempt))
    return {
        "run_id": ctx.run_id,
        "blueprint_id": final.get("blueprint_id") or "",
        "status": final.get("status", ""),
        "reason": "; ".join(final.get("reasons") or []),
    }


def _recombine(o: RunOptions) -> Outcome:
    if not o.run:
        raise ValueError("recombine needs `run`: a run with accepted blueprints")
    ctx = _pipeline_context(o, o.run)
    accepted = ctx.store.blueprints(o.run, status="accepted")
    by_user: dict[str, list[str]] = {}
    for b in accepted:
        by_user.setdefault(b["user_id"], []).append(b["id"])
    parents = next((ids[:2] for ids in by_user.values() if len(ids) >= 2), None)
    if parents is None:
        return {"run_id": o.run, "status": "skipped",
                "reason": "no user has two accepted blueprints to recombine"}  # fmt: skip
    final = asyncio.run(run_recombination(ctx.phase1, parents))
    return {"run_id": o.run, "status": final.get("status", ""),
            "blueprint_id": final.get("blueprint_id", "")}  # fmt: skip


def _dialogue(o: RunOptions) -> Outcome:
    if not o.run:
        raise ValueError("dialogue needs `run`: a run whose tasks to act out")
    ctx = _pipeline_context(o, o.run)
    tasks = ctx.store.tasks(o.run)
    task_id = o.task or (tasks[0]["id"] if tasks else None)
    if task_id is None:
        raise ValueError(f"run {o.run} has no tasks yet (no accepted blueprint)")
    attempt = sum(t["task_id"] == task_id for t in ctx.store.run_trajectories(o.run))
    final = asyncio.run(run_dialogue(ctx.phase2, task_id, attempt))
    return {"run_id": o.run, "accepted": bool(final.get("accepted")),
            "reason": final.get("reason", "")}  # fmt: skip


def _evaluate(o: RunOptions) -> Outcome:
    store = store_at(o.out)
    config = EvalConfig(domain=o.domain, label=o.label, run=o.run, tasks_file=o.tasks,
                        data_dir=o.data_dir, seed=o.seed, trials=o.trials,
                        concurrency=o.concurrency, best_of_n=1)  # fmt: skip
    eval_id, config, _ = open_eval(store, config)
    settings = _settings(o)
    ctx = EvalContext(
        env=eval_environment(store, config),
        store=store,
        models=EvalModels(
            assistant=chat_model("assistant", settings), human=chat_model("human", settings)
        ),
        config=config,
        eval_id=eval_id,
    )
    asyncio.run(run_evaluation(ctx))
    return {"eval_id": eval_id, "pass_hat_k": eval_report(store, eval_id).pass_hat_k}


def _served(name: str, job) -> Any:
    g = StateGraph(Outcome, context_schema=RunOptions)
    g.add_node(name, _in_a_thread(job))
    g.add_edge(START, name)
    g.add_edge(name, END)
    return g.compile(name=name)


pipeline = _served("pipeline", _generate)
blueprint = _served("blueprint", _attempt)
recombine = _served("recombine", _recombine)
dialogue = _served("dialogue", _dialogue)
evaluate = _served("evaluate", _evaluate)
