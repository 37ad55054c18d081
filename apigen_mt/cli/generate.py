"""`apigen-mt generate`: run (or resume) the whole pipeline with live progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from apigen_mt.agents.defect_reviewer import make_defect_reviewer
from apigen_mt.endpoints import resolved_endpoint
from apigen_mt.environments import get_domain
from apigen_mt.graphs.committee import register_reviewer
from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.models import chat_model, pipeline_models
from apigen_mt.pricing import PriceTable
from apigen_mt.report import run_report
from apigen_mt.runs import (
    RunNotFound,
    check_run_data,
    environment_for,
    open_run,
    run_data_dir,
    store_at,
)
from apigen_mt.settings import load_settings
from apigen_mt.tracing import tracing_from_env

from .report_view import print_report
from .running import StageBars, capped_for, console_for, first_line, run_to_end

DEFAULT_OUT = Path("apigen-runs")


def _sharded(store, run_id, config, settings, ray, progress):
    from apigen_mt.scale import ShardedRun, run_sharded
    from apigen_mt.scale.driver import LocalWorkers

    if ray:
        from apigen_mt.scale.ray_backend import RayWorkers

        backend = RayWorkers(config.shards, ray)
    else:
        backend = LocalWorkers(config.shards)
    run = ShardedRun(store, run_id, config, settings, backend, progress, progress.status)

    async def work():
        return run_sharded(run)

    return work


def generate(
    domain: Annotated[str, typer.Option(help="A registered domain (apigen-mt domains list).")],
    n: Annotated[int, typer.Option("--n", help="Blueprint attempts (per batch with --target).")],
    out: Annotated[Path, typer.Option(help="Output folder holding the run store.")] = DEFAULT_OUT,
    concurrency: Annotated[int, typer.Option(help="LLM calls in flight, in all.")] = 16,
    seed: Annotated[int, typer.Option(help="Seeds context sampling and recombination.")] = 0,
    target: Annotated[
        int | None, typer.Option(help="Keep going until this many unique trajectories.")
    ] = None,
    max_attempts: Annotated[
        int | None, typer.Option(help="Attempt budget for --target (default 10 x n).")
    ] = None,
    trials: Annotated[int, typer.Option(help="Dialogues per accepted blueprint.")] = 3,
    recombine_rate: Annotated[
        float, typer.Option(help="Recombinations per accepted blueprint (0 to 1).")
    ] = 0.25,
    committee_size: Annotated[int, typer.Option(help="Reviewer judges per blueprint.")] = 3,
    request_judge: Annotated[
        bool,
        typer.Option(
            help="Flag user turns that ask for something the instruction does not contain "
            "(the human_judge model; one call per user turn)."
        ),
    ] = False,
    audit: Annotated[
        int,
        typer.Option(
            help="Solver dialogues per accepted blueprint before its training dialogues; a "
            "task no solver solves, or solvers solve differently, is dropped (0: none)."
        ),
    ] = 0,
    defect_reviewer: Annotated[
        bool,
        typer.Option(
            help="Add a committee member (the reviewer role's model) that names τ³'s defect "
            "classes: wrong expected actions, ambiguity, impossible constraints, policy "
            "loopholes, missing fallbacks, data errors."
        ),
    ] = False,
    best_of_n: Annotated[int, typer.Option(help="Candidate user replies per turn.")] = 4,
    max_steps: Annotated[
        int,
        typer.Option(
            help="Agent actions (tool calls, replies) per dialogue at most: τ-bench's steps."
        ),
    ] = 30,
    data_dir: Annotated[
        Path | None, typer.Option(help="τ-bench-format data instead of generated data.")
    ] = None,
    resume: Annotated[str | None, typer.Option(help="Continue this run id.")] = None,
    new: Annotated[
        bool, typer.Option("--new", help="Start a new run even if an unfinished one matches.")
    ] = False,
    model: Annotated[str | None, typer.Option(help="Model for every role.")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint.")] = None,
    prices: Annotated[Path | None, typer.Option(help="Price table JSON for costs.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
    workers: Annotated[
        int | None,
        typer.Option(help="Split the run across this many worker processes (or Ray tasks)."),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            help="Run the workers on Ray: 'local' starts a local instance, 'auto' joins "
            "RAY_ADDRESS's cluster, or a cluster address (needs the ray extra)."
        ),
    ] = None,
) -> None:
    """Generate verified multi-turn data: blueprints, then dialogues; print the funnel."""
    console = console_for(as_json)
    try:
        get_domain(domain)
        config = PipelineConfig(
            domain=domain,
            n=n,
            seed=seed,
            target=target,
            max_attempts=max_attempts,
            trials=trials,
            recombine_rate=recombine_rate,
            concurrency=concurrency,
            committee_size=committee_size,
            audit=audit,
            request_judge=request_judge,
            best_of_n=best_of_n,
            max_steps=max_steps,
            data_dir=run_data_dir(domain, data_dir),
            shards=workers or (2 if ray else 1),
        )
        settings = load_settings(overrides={"model": model, "base_url": base_url})
        price_table = PriceTable.load(prices)
        check_run_data(config)  # its data must exist before a run is opened
    except (KeyError, ValidationError, ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(first_line(exc)) from None
    store = store_at(out)
    try:
        # Capped before the run is opened: its stored settings say what actually runs.
        config = capped_for(settings, config, console)
        run_id, config, resumed = open_run(store, config, resume=resume, auto=not new)
    except RunNotFound as exc:
        raise typer.BadParameter(str(exc), param_hint="--resume") from None
    console.print(f"{'Resuming' if resumed else 'Starting'} run [bold]{run_id}[/] in {out}")
    with resolved_endpoint(settings, say=console.print) as ready, tracing_from_env():
        hint = f"apigen-mt generate --out {out} --resume {run_id}"
        with StageBars(console) as progress:
            if defect_reviewer:
                if config.shards > 1 or ray:
                    raise typer.BadParameter(
                        "--defect-reviewer runs in one process (no --workers/--ray)"
                    )
                register_reviewer("defects", make_defect_reviewer(chat_model("reviewer", ready)))
            if config.shards > 1 or ray:
                work = _sharded(store, run_id, config, ready, ray, progress)
            else:
                ctx = PipelineContext(
                    env=environment_for(config),
                    store=store,
                    models=pipeline_models(ready, config.committee_size),
                    config=config,
                    run_id=run_id,
                    progress=progress,
                )
                progress.watch(ctx.limit)
                work = lambda: run_pipeline(ctx)  # noqa: E731
            run_to_end(work, console, hint, lambda: store.set_run_status(run_id, "interrupted"))
    report = run_report(store, run_id, price_table)
    print_report(report, console)
    console.print(f"Run id: [bold]{run_id}[/]  (apigen-mt export {run_id} --out {out})")
    for line in closing_advice(report.funnel, settings.embedded, run_id, out):
        console.print(line, markup=False)
    if as_json:
        print(json.dumps({"run_id": run_id, "store": store.path, "funnel": report.funnel,
                          "failures_by_side": report.failures_by_side,
                          "user_fidelity": report.user_fidelity}))  # fmt: skip


ENDPOINT_LINE = (
    "APIGEN_MT_BASE_URL=https://api.openai.com/v1 APIGEN_MT_API_KEY=sk-... "
    "APIGEN_MT_MODEL=gpt-4o-mini apigen-mt generate --domain retail --n 20"
)


def closing_advice(funnel: dict, embedded: bool, run_id: str, out: Path) -> list[str]:
    """What a first run's end must say: what the embedded model is for, why nothing may
    have been accepted, and the one line that points the roles at a real model."""
    lines = []
    if embedded:
        lines += [
            "This run used the embedded SmolLM2-135M model, which is here to prove the install "
            "works offline: it rarely writes a valid blueprint, so 0 accepted is expected from it.",
            f"For data, point every role at a real endpoint: {ENDPOINT_LINE}",
            "To see a whole run with accepted blueprints and dialogues in under a minute "
            "(scripted, no model): apigen-mt demo",
        ]
    elif funnel.get("trajectories_unique", 0) == 0:
        lines.append(
            f"No trajectory was accepted; the reasons: apigen-mt report {run_id} --out {out} "
            f"(or apigen-mt browse --out {out})"
        )
    return lines
