"""`apigen-mt audit`: k solver dialogues per task; unsolvable and ambiguous tasks flagged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from apigen_mt.audit import audit_report, render_flagged
from apigen_mt.endpoints import resolved_endpoint
from apigen_mt.environments import get_domain
from apigen_mt.graphs.evaluate import EvalConfig, EvalContext, EvalModels, run_evaluation
from apigen_mt.models import chat_model
from apigen_mt.runs import RunNotFound, eval_environment, open_eval, store_at
from apigen_mt.settings import load_settings
from apigen_mt.tracing import tracing_from_env

from .generate import DEFAULT_OUT
from .running import StageBars, capped_for, console_for, first_line, run_to_end


def audit(
    domain: Annotated[str, typer.Option(help="The tasks' domain (a name or a world folder).")],
    tasks: Annotated[
        Path | None, typer.Option(help="Tasks JSON: τ-bench's format or τ²'s tasks.json.")
    ] = None,
    run: Annotated[str | None, typer.Option(help="A generation run's accepted blueprints.")] = None,
    trials: Annotated[int, typer.Option(help="Solver dialogues per task (k).")] = 4,
    split: Annotated[str | None, typer.Option(help="A split of τ²'s split_tasks.json.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="τ-bench's data files or τ²'s db.json folder.")
    ] = None,
    solver_model: Annotated[
        str | None,
        typer.Option(help="The solver's model (the assistant role; best not the proposer's)."),
    ] = None,
    solver_base_url: Annotated[str | None, typer.Option(help="Its endpoint.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N tasks.")] = None,
    concurrency: Annotated[int, typer.Option(help="LLM calls in flight, in all.")] = 16,
    out: Annotated[Path, typer.Option(help="Output folder holding the run store.")] = DEFAULT_OUT,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
) -> None:
    """Run k solver dialogues per task (the assistant role as solver, the simulated user as
    in eval; neither sees the gold). Flags tasks no solver solves (with the closest
    attempt's diff), tasks solved into different final states (ambiguous), and the
    deterministic defects; stores each task's solve rate. Exit 1 when any task is flagged."""
    console = console_for(as_json)
    store = store_at(out)
    try:
        get_domain(domain)
        config = EvalConfig(
            domain=domain,
            label=f"audit:{solver_model or 'assistant'}",
            run=run,
            tasks_file=str(tasks.resolve()) if tasks else None,
            split=split,
            data_dir=str(data_dir.resolve()) if data_dir else None,
            trials=trials,
            limit=limit,
            concurrency=concurrency,
            best_of_n=1,
        )
        overrides = {"assistant_model": solver_model, "assistant_base_url": solver_base_url}
        settings = load_settings(overrides=overrides)
        config = capped_for(settings, config, console)
        audit_id, config, resumed = open_eval(store, config)
        env = eval_environment(store, config)
    except (KeyError, ValidationError, ValueError, RunNotFound, FileNotFoundError) as exc:
        raise typer.BadParameter(first_line(exc)) from None
    console.print(f"{'Resuming' if resumed else 'Starting'} audit [bold]{audit_id}[/]")
    with resolved_endpoint(settings, say=console.print) as ready, tracing_from_env():
        models = EvalModels(
            assistant=chat_model("assistant", ready),
            human=chat_model("human", ready),
            nl_judge=chat_model("nl_judge", ready),
        )
        with StageBars(console) as progress:
            context = EvalContext(
                env=env, store=store, models=models, config=config, eval_id=audit_id,
                progress=progress,
            )  # fmt: skip
            run_to_end(
                lambda: run_evaluation(context),
                console,
                f"apigen-mt audit --domain {domain} --out {out} ... (same options resume it)",
                lambda: store.set_run_status(audit_id, "interrupted"),
            )
        model = ready.for_role("assistant").model
    report = audit_report(store, env, audit_id, model)
    for line in render_flagged(report):
        console.print(line, markup=False)
    s = report.summary()
    console.print(f"{s['flagged']} of {s['tasks']} tasks flagged: {s['flags'] or 'none'}")
    if as_json:
        print(json.dumps(s))
    if report.flagged:
        raise typer.Exit(1)
