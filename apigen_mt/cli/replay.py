"""`apigen-mt replay`: any domain's task file, each task's gold actions in a fresh sandbox.

One JSON line per task: `{"task_index", "observations", "state_hash"}` (and `task_id` for
τ²'s tasks; a τ² domain's `state_hash` is τ²'s own `get_db_hash()`). With
`--databases DIR`, each task's final database is written as `DIR/<task_index>.sqlite`, a
plain SQLite file, so anyone can compare states with their own code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from apigen_mt.environments.tau2.hashing import tau2_user_hash_of
from apigen_mt.environments.taubench import reported_state_hash, run_setup
from apigen_mt.tools import ToolUnavailable

from .taubench import environment_and_tasks


def replay(
    domain: Annotated[str, typer.Option(help="A domain name or a world folder.")],
    tasks: Annotated[Path, typer.Option(help="Tasks JSON: τ-bench's shape or τ²'s tasks.json.")],
    split: Annotated[
        str | None, typer.Option(help="A split of τ²'s split_tasks.json (train, test, base).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the JSON lines here instead of stdout.")
    ] = None,
    databases: Annotated[
        Path | None, typer.Option(help="Write each task's final database as DIR/<i>.sqlite.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="τ-bench's JSON database files, or τ²'s domain folder with db.json "
            "(default: beside a τ² task file, $TAU2_DATA_DIR, else generated)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated data (no --data-dir).")] = 0,
    cache_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Replay each task's actions: what the agent would see, and the final state's hash
    (dual control: the user's actions too, and the user's side's `user_state_hash`)."""
    env, task_list = environment_and_tasks(domain, tasks, data_dir, seed, cache_dir, split)
    if databases:
        databases.mkdir(parents=True, exist_ok=True)
    sink = out.open("w", encoding="utf-8") if out else sys.stdout
    failed = 0
    bar = _progress(len(task_list))
    try:
        for index, task in enumerate(task_list):
            line: dict = {"task_index": index}
            if task.tau2:
                line["task_id"] = task.tau2["id"]
            try:
                with env.sandbox() as sandbox:
                    run_setup(sandbox, task)
                    trace = sandbox.run(task.actions)
                    line["observations"] = [e.observation for e in trace]
                    line["state_hash"] = reported_state_hash(env, sandbox)
                    if env.domain.user_tools is not None:  # dual control: the user's side too
                        line["user_state_hash"] = tau2_user_hash_of(env, sandbox)
                    if databases:
                        sandbox.save(databases / f"{index}.sqlite")
            except (ToolUnavailable, ValueError) as exc:  # a server or a setup failed: go on
                failed += 1
                line.update(observations=None, state_hash=None, error=str(exc))
            sink.write(json.dumps(line, ensure_ascii=False) + "\n")
            sink.flush()
            if bar:
                bar.advance(bar.task_ids[0])
    finally:
        if bar:
            bar.stop()
        if out:
            sink.close()
        env.close()
    where = f" -> {out}" if out else ""
    typer.echo(f"replayed {len(task_list)} tasks{where}", err=True)
    if failed:
        typer.echo(f"{failed} tasks could not be replayed (see their error)", err=True)
        raise typer.Exit(1)


def _progress(total: int):
    """Counts and an ETA on stderr for files large enough to wait for (stdout stays the
    JSON lines)."""
    if total < 50:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from .running import console_for

    bar = Progress(
        TextColumn("replaying tasks"), BarColumn(), MofNCompleteColumn(), TextColumn("eta"),
        TimeRemainingColumn(), console=console_for(stderr=True), transient=True,
    )  # fmt: skip
    bar.add_task("replay", total=total)
    bar.start()
    return bar
