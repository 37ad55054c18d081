"""A worker: runs one shard's batch of the pipeline into the shard's working store.

Locally it is a child process (`python -m apigen_mt.scale.worker`, the spec as JSON on
stdin, progress as JSON lines on stdout); on Ray it is a task (apigen_mt.scale.ray_backend).
A file lock keeps one worker per working store, and a local worker whose driver died
exits, so a rerun never shares a shard with an orphan.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from apigen_mt.graphs.pipeline import PipelineContext, Shard, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.graphs.units import StageCount
from apigen_mt.models import pipeline_models
from apigen_mt.runs import code_version, environment_for
from apigen_mt.store import RunStore

from .spec import ShardSpec

Report = Callable[[dict[str, Any]], None]


def run_shard(spec: ShardSpec, report: Report | None = None) -> dict[str, Any]:
    """Run the spec's batch on its shard (resuming what an earlier worker left) and return
    a summary; `report` gets progress events."""
    report = report or (lambda event: None)
    config = PipelineConfig.model_validate(spec.config)
    with _exclusive(spec.store_path):
        store = RunStore(spec.store_path)
        if store.run(spec.run_id) is None:
            store.create_run(
                spec.run_id,
                domain=config.domain,
                config=config.model_dump(),
                seed=config.seed,
                code_version=code_version(),
            )
        settings = spec.model_settings()
        ctx_box: dict[str, PipelineContext] = {}

        def progress(stage: str, count: StageCount) -> None:
            limit = ctx_box["ctx"].limit if "ctx" in ctx_box else None
            report(
                {
                    "shard": spec.index,
                    "pid": os.getpid(),
                    "stage": stage,
                    "count": asdict(count),
                    "limit": limit.limit if limit else None,
                    "in_flight": limit.in_flight if limit else 0,
                    "throttled": limit.throttled if limit else 0,
                }
            )

        ctx = PipelineContext(
            env=environment_for(config),
            store=store,
            models=pipeline_models(settings, config.committee_size),
            config=config,
            run_id=spec.run_id,
            progress=progress,
            shard=Shard(spec.index, spec.count),
        )
        ctx_box["ctx"] = ctx
        start = {"attempts": spec.first, "recombined": slots_before(store, spec, config)}
        asyncio.run(run_pipeline(ctx, start=start))
        summary = {
            "shard": spec.index,
            "first": spec.first,
            "calls": ctx.limit.calls,
            "throttled": ctx.limit.throttled,
            "limit": ctx.limit.limit,
        }
        store.close()
    return summary


def slots_before(store: RunStore, spec: ShardSpec, config: PipelineConfig) -> int:
    """Recombination slots this shard scheduled in earlier batches (each batch schedules
    round(rate x its accepted proposals), as the one-process pipeline does)."""
    accepted = [
        b["attempt"]
        for b in store.blueprints(spec.run_id, status="accepted")
        if b["kind"] == "proposed" and b["attempt"] < spec.first
    ]
    total = 0
    for batch in range(0, spec.first, config.n):
        in_batch = sum(batch <= a < batch + config.n for a in accepted)
        total += round(config.recombine_rate * in_batch)
    return total


def snapshot(work_path: str | Path, done_path: str | Path) -> None:
    """Copy a finished working store to its completed copy, atomically (what merges read)."""
    done_path = Path(done_path)
    tmp = done_path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(str(work_path))
    try:
        src.execute("VACUUM INTO ?", [str(tmp)])
    finally:
        src.close()
    os.replace(tmp, done_path)


@contextmanager
def _exclusive(store_path: str):
    Path(store_path).parent.mkdir(parents=True, exist_ok=True)
    with open(f"{store_path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # waits while another worker holds this shard
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _exit_with_parent() -> None:
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:  # the driver died: stop writing to the shard
                os._exit(70)

    threading.Thread(target=watch, daemon=True).start()


def main() -> None:
    """Child-process entry: spec JSON on stdin; progress, then a summary, on stdout."""
    _exit_with_parent()
    spec = ShardSpec.model_validate_json(sys.stdin.read())
    lock = threading.Lock()

    def emit(event: dict[str, Any]) -> None:
        with lock:
            sys.stdout.write(json.dumps(event) + "\n")
            sys.stdout.flush()

    summary = run_shard(spec, emit)
    snapshot(spec.store_path, done_copy(spec.store_path))
    emit({"done": summary})


def done_copy(work_path: str | Path) -> Path:
    """Where a working store's completed copy lives (beside it)."""
    path = Path(work_path)
    return path.with_name(path.name.replace(".work.sqlite", ".sqlite"))


if __name__ == "__main__":
    main()
