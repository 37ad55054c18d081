"""`apigen-mt compose`: new τ²-telecom tasks, issue × fix × persona, proven on the domain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from apigen_mt.environments import Environment


def compose(
    tasks: Annotated[
        Path, typer.Option(help="τ²'s telecom tasks.json (split_tasks.json beside it).")
    ],
    out: Annotated[Path, typer.Option(help="Where to write the new tasks (τ²'s format).")],
    n: Annotated[int, typer.Option(help="How many tasks at most.")] = 100,
    seed: Annotated[int, typer.Option(help="Seeds the order compositions are tried in.")] = 0,
    max_issues: Annotated[int, typer.Option(help="Issues per task at most.")] = 3,
    domain: Annotated[
        str, typer.Option(help="The domain (only tau2-telecom composes).")
    ] = "tau2-telecom",
    data_dir: Annotated[
        Path | None, typer.Option(help="τ²'s telecom folder (default: beside --tasks).")
    ] = None,
) -> None:
    """Compose new telecom tasks from τ²'s train split (its issues' breaks, fixes and
    assertions), never one of τ²'s tasks nor the issue set of a test task; each is kept
    only when its initial state is broken and its gold actions fix it on the domain."""
    from apigen_mt.environments.tau2_telecom.compose import new_tasks

    if domain != "tau2-telecom":
        raise typer.BadParameter("only tau2-telecom composes tasks", param_hint="--domain")
    if not (tasks.is_file() and tasks.with_name("split_tasks.json").is_file()):
        raise typer.BadParameter(f"{tasks}: needs τ²'s tasks.json with split_tasks.json beside it")
    try:
        env = Environment.for_data(domain, data_dir, tasks_file=tasks)
        kept, left_out = new_tasks(env, tasks, n=n, seed=seed, max_issues=max_issues)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise typer.BadParameter(str(exc).splitlines()[0]) from None
    out.write_text(json.dumps(kept, indent=1, ensure_ascii=False), encoding="utf-8")
    typer.echo(f"{len(kept)} new tasks -> {out}")
    for reason, count in sorted(left_out.items()):
        typer.echo(f"  {count:>5} left out: {reason}")
