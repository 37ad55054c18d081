"""`apigen-mt validate`: phase 1's deterministic stages as a linter for a task file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apigen_mt.validate import STAGES, summarize, validate_tasks

from .running import console_for
from .taubench import environment_and_tasks

console = console_for()


def validate(
    domain: Annotated[str, typer.Option(help="retail, airline, banking, ...")],
    tasks: Annotated[
        Path,
        typer.Option(
            help="Tasks JSON: a list of {user_id, instruction, actions, outputs}, "
            "or τ²'s tasks.json."
        ),
    ],
    split: Annotated[
        str | None, typer.Option(help="A split of τ²'s split_tasks.json (train, test, base).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="τ-bench's JSON database files, or τ²'s domain folder with db.json "
            "(default: beside a τ² task file, $TAU2_DATA_DIR, else generated)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated data (no --data-dir).")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="A JSON line per task, then the summary line.")
    ] = False,
    cache_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Check each task: format, execution, policy, outputs. Exit 1 if any task fails."""
    env, task_list = environment_and_tasks(domain, tasks, data_dir, seed, cache_dir, split)
    verdicts = validate_tasks(env, task_list)
    summary = summarize(verdicts)
    if as_json:
        for v in verdicts:
            print(v.model_dump_json())
        print(summary.model_dump_json())
    else:
        for v in verdicts:
            if v.passed:
                console.print(f"task {v.index} ({v.user_id or 'no user'}): [green]ok[/]")
                continue
            console.print(
                f"task {v.index} ({v.user_id or 'no user'}): [red]fails {v.failed_stage}[/]"
            )
            for reason in v.reasons:
                console.print(f"    {reason}", markup=False)
        through = ", ".join(f"{s} {summary.stages[s]}" for s in STAGES)
        console.print(
            f"{summary.passed} of {summary.tasks} tasks pass; through each stage: {through}"
        )
    if summary.passed < summary.tasks:
        raise typer.Exit(1)
