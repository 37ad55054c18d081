"""`apigen-mt taubench replay`: prove parity with τ-bench on its own tasks."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from apigen_mt.environments import Environment, get_domain
from apigen_mt.environments.taubench import load_tasks, replay
from apigen_mt.environments.taubench_parity import compare_with_expected

app = typer.Typer(help="τ-bench compatibility.", no_args_is_help=True)


def environment_and_tasks(
    domain: str,
    tasks: Path,
    data_dir: Path | None,
    seed: int,
    cache_dir: Path | None,
    split: str | None = None,
) -> tuple[Environment, list]:
    """The domain's database (τ²'s db.json, τ-bench's files, or generated) and the task
    file (τ-bench's or τ²'s shape, `split` of τ²'s); exit 2 with the reason when either
    cannot be had."""
    try:
        dom = get_domain(domain)
        task_list = load_tasks(tasks, split)
        env = Environment.for_data(dom, data_dir, tasks_file=tasks, seed=seed, cache_dir=cache_dir)
        return env, task_list
    except KeyError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(2) from None
    except (ValueError, FileNotFoundError, json.JSONDecodeError) as exc:  # WorldError too
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("replay")
def replay_tasks(
    domain: Annotated[str, typer.Option(help="retail, airline, banking, ...")],
    tasks: Annotated[Path, typer.Option(help="Tasks JSON (τ-bench's tasks_*.json format).")],
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder with τ-bench's JSON database files (default: generated data)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated data (no --data-dir).")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Write JSON lines here instead of stdout.")
    ] = None,
    expected: Annotated[
        Path | None,
        typer.Option(
            help="τ-bench's expected results (expected_test.json): compare and exit 1 on mismatch."
        ),
    ] = None,
    cache_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Replay each task's actions in a fresh sandbox: observations and τ-bench's data hash."""
    env, task_list = environment_and_tasks(domain, tasks, data_dir, seed, cache_dir)
    results = []
    sink = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for result in replay(env, task_list):
            results.append(result)
            sink.write(result.model_dump_json() + "\n")
    finally:
        if out:
            sink.close()
    if out:
        typer.echo(f"replayed {len(results)} tasks -> {out}", err=True)
    if expected:
        report = compare_with_expected(results, json.loads(expected.read_text()))
        typer.echo(report.summary(), err=True)
        if not report.ok:
            raise typer.Exit(1)
