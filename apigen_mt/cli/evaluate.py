"""`apigen-mt eval`: pass^k of an agent model; `eval show`, `eval compare`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from apigen_mt.endpoints import resolved_endpoint
from apigen_mt.environments import get_domain
from apigen_mt.eval_report import EvalReport, compare_markdown, eval_report, plot_curves
from apigen_mt.graphs.evaluate import (
    DEFAULT_MAX_STEPS,
    EvalConfig,
    EvalContext,
    EvalModels,
    run_evaluation,
    tau2_guidelines,
)
from apigen_mt.models import chat_model
from apigen_mt.pricing import PriceTable
from apigen_mt.runs import RunNotFound, eval_environment, open_eval, store_at
from apigen_mt.settings import load_settings
from apigen_mt.tracing import tracing_from_env

from .generate import DEFAULT_OUT
from .running import StageBars, capped_for, console_for, first_line, run_to_end

app = typer.Typer(
    help="Evaluate an agent model: pass^k over k trials per task.", invoke_without_command=True
)
Out = Annotated[Path, typer.Option(help="Output folder holding the run store.")]


@app.callback()
def evaluate(
    ctx: typer.Context,
    domain: Annotated[str | None, typer.Option(help="The tasks' domain.")] = None,
    run: Annotated[str | None, typer.Option(help="A run's accepted blueprints.")] = None,
    tasks: Annotated[
        Path | None, typer.Option(help="Tasks JSON: τ-bench's format or τ²'s tasks.json.")
    ] = None,
    split: Annotated[
        str | None, typer.Option(help="A split of τ²'s split_tasks.json (train, test, base).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="τ-bench-format data for --tasks, or τ²'s domain folder with db.json "
            "(default: beside τ²'s tasks.json, or $TAU2_DATA_DIR)."
        ),
    ] = None,
    protocol: Annotated[
        str,
        typer.Option(
            help="apigen (best-of-N user, guards) or tau2 (τ²'s user simulator, stop tokens, "
            "prompts and limits: comparable with τ²'s leaderboard)."
        ),
    ] = "apigen",
    trials: Annotated[int, typer.Option(help="Trials per task (k = 1..trials).")] = 4,
    holdout: Annotated[float | None, typer.Option(help="Held-out share of --run's tasks.")] = None,
    seed: Annotated[int, typer.Option(help="Seeds the held-out split and the bootstrap.")] = 0,
    limit: Annotated[int | None, typer.Option(help="Only the first N tasks.")] = None,
    label: Annotated[str, typer.Option(help="Name of the model under test.")] = "",
    assistant_model: Annotated[str | None, typer.Option(help="Model under test.")] = None,
    assistant_base_url: Annotated[str | None, typer.Option(help="Its endpoint.")] = None,
    concurrency: Annotated[int, typer.Option(help="LLM calls in flight, in all.")] = 16,
    best_of_n: Annotated[int, typer.Option(help="Candidate user replies per turn.")] = 1,
    max_steps: Annotated[
        int | None,
        typer.Option(
            help="Steps per dialogue at most: agent actions as τ-bench counts them (default "
            "30); with --protocol tau2, messages as τ² counts them (default 200, τ²'s)."
        ),
    ] = None,
    request_judge: Annotated[
        bool,
        typer.Option(
            help="Flag user turns that ask for something the instruction does not contain "
            "(the human_judge model; one call per user turn)."
        ),
    ] = False,
    max_errors: Annotated[
        int, typer.Option(help="--protocol tau2: tool errors before an episode is cut off.")
    ] = 10,
    out: Out = DEFAULT_OUT,
    resume: Annotated[str | None, typer.Option(help="Continue this evaluation.")] = None,
    prices: Annotated[Path | None, typer.Option(help="Price table JSON.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write the pass^k curve here (PNG).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
) -> None:
    """Run k dialogues per task with the model under test as the assistant (configure it
    with --assistant-model/--assistant-base-url or APIGEN_MT_ASSISTANT_*; the simulated
    user with APIGEN_MT_HUMAN_*), verify each like generation does, report pass^k."""
    if ctx.invoked_subcommand is not None:
        return
    console = console_for(as_json)
    store = store_at(out)
    try:
        if domain is None and resume is None:
            raise ValueError("--domain is required")
        if domain:
            get_domain(domain)
        config = None  # a resumed evaluation keeps its stored settings
        if not resume:
            config = EvalConfig(
                domain=domain or "retail",
                label=label or assistant_model or "",
                run=run,
                tasks_file=str(tasks.resolve()) if tasks else None,
                split=split,
                protocol=protocol,
                data_dir=str(data_dir.resolve()) if data_dir else None,
                holdout=holdout,
                seed=seed,
                trials=trials,
                limit=limit,
                concurrency=concurrency,
                best_of_n=best_of_n,
                max_steps=max_steps or DEFAULT_MAX_STEPS.get(protocol, 30),
                max_errors=max_errors,
                request_judge=request_judge,
            )
        overrides = {"assistant_model": assistant_model, "assistant_base_url": assistant_base_url}
        settings = load_settings(overrides=overrides)
        price_table = PriceTable.load(prices)
        # Capped before the run is opened: its stored settings say what actually runs.
        config = capped_for(settings, config, console)
        eval_id, config, resumed = open_eval(store, config, resume=resume)
        env = eval_environment(store, config)
        if config.protocol == "tau2":
            tau2_guidelines(config)  # fails here, in words, when τ²'s data is not at hand
    except (KeyError, ValidationError, ValueError, RunNotFound, FileNotFoundError) as exc:
        raise typer.BadParameter(first_line(exc)) from None
    console.print(f"{'Resuming' if resumed else 'Starting'} evaluation [bold]{eval_id}[/]")
    with resolved_endpoint(settings, say=console.print) as ready, tracing_from_env():
        models = EvalModels(
            assistant=chat_model("assistant", ready),
            human=chat_model("human", ready),
            human_judge=chat_model("human_judge", ready)
            if config.best_of_n > 1 or config.request_judge
            else None,
            nl_judge=chat_model("nl_judge", ready),
        )
        with StageBars(console) as progress:
            context = EvalContext(
                env=env,
                store=store,
                models=models,
                config=config,
                eval_id=eval_id,
                progress=progress,
            )
            try:
                run_to_end(
                    lambda: run_evaluation(context),
                    console,
                    f"apigen-mt eval --out {out} --resume {eval_id}",
                    lambda: store.set_run_status(eval_id, "interrupted"),
                )
            except ValueError as exc:  # an empty task set
                raise typer.BadParameter(str(exc)) from None
    report = eval_report(store, eval_id, price_table, seed=seed)
    _print(report, console)
    if plot:
        console.print(f"plot -> {plot_curves([report], plot)}")
    if as_json:
        print(json.dumps(_summary(report)))


def _summary(report: EvalReport) -> dict:
    return {
        "eval_id": report.eval_id,
        "label": report.label,
        "pass_hat_k": report.pass_hat_k,
        "ci95": report.ci95,
        "per_task": {r.source or r.task_id: r.successes for r in report.per_task},
        "trials": report.trials,
        "failures": report.failures,
        "failures_by_side": report.failures_by_side,
        "user_fidelity": report.user_fidelity,
        "reward_components": report.reward_components,
        "trial_rewards": report.trial_rewards,
        "tokens": report.total.model_dump(),
    }


def _print(report: EvalReport, console: Console) -> None:
    table = Table(title=f"{report.label} on {report.tasks} {report.domain} tasks")
    for col in ("k", "pass^k", "95% CI"):
        table.add_column(col, justify="right")
    for k, (p, (lo, hi)) in enumerate(zip(report.pass_hat_k, report.ci95, strict=True), 1):
        table.add_row(str(k), f"{p:.3f}", f"{lo:.3f} – {hi:.3f}")
    console.print(table)
    for reason, n in report.failures.items():
        console.print(f"  {n:>5}  {reason}")
    if report.failures_by_side:
        sides = ", ".join(f"{k} {v}" for k, v in report.failures_by_side.items())
        console.print(f"  failed trials by side: {sides}")
    if report.reward_components:
        shown = ", ".join(f"{k} {v:.3f}" for k, v in report.reward_components.items())
        console.print(f"  τ² reward components (mean over trials): {shown}")
    if report.wrong_tables:
        console.print(f"  wrong tables: {report.wrong_tables}")
    console.print(
        f"tokens: {report.total.prompt_tokens} prompt, "
        f"{report.total.completion_tokens} completion, {report.total.calls} calls"
    )


def _load(out: Path, eval_id: str, seed: int = 0) -> EvalReport:
    try:
        return eval_report(store_at(out), eval_id, seed=seed)
    except LookupError as exc:
        raise typer.BadParameter(str(exc), param_hint="EVAL") from None


@app.command("show")
def show(
    eval_id: Annotated[str, typer.Argument(metavar="EVAL")],
    out: Out = DEFAULT_OUT,
    fmt: Annotated[str, typer.Option("--format", help="table | markdown | json")] = "table",
) -> None:
    """An evaluation's scores as a table, markdown or JSON."""
    report = _load(out, eval_id)
    if fmt == "json":
        print(report.model_dump_json())
    elif fmt == "markdown":
        print(report.markdown(), end="")
    else:
        _print(report, console_for())


@app.command("compare")
def compare(
    a: Annotated[str, typer.Argument(metavar="EVAL_A")],
    b: Annotated[str, typer.Argument(metavar="EVAL_B")],
    out: Out = DEFAULT_OUT,
    plot: Annotated[Path | None, typer.Option(help="Write both pass^k curves here.")] = None,
) -> None:
    """Two evaluations side by side (markdown), optionally as one plot."""
    first, second = _load(out, a), _load(out, b)
    print(compare_markdown(first, second), end="")
    if plot:
        print(f"plot -> {plot_curves([first, second], plot)}")
