"""The driver of a sharded run: batches, workers, retries, merges and combined progress.

Local workers are child processes; `ray_backend` runs the same shards as Ray tasks. A
shard's working store is `<out>/shards/<run id>/shard-<k>.work.sqlite`, its completed copy
`shard-<k>.sqlite`; the run store is rebuilt from the completed copies after each shard
finishes. Killing the driver or a worker loses only unmerged work, which a rerun of the
same command redoes (units already done in a working store are skipped).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.graphs.units import StageCount
from apigen_mt.settings import ModelSettings
from apigen_mt.store import RunStore

from .merge import merge_shards
from .spec import ShardSpec, shareable_settings, split_concurrency
from .worker import done_copy

Progress = Callable[[str, StageCount], None]
Status = Callable[[str], None]
MAX_TRIES = 3  # per shard and batch: a worker that dies is started again


class WorkerFailed(RuntimeError):
    pass


class Backend(Protocol):
    workers: int

    def run(self, specs: list[ShardSpec], on_event: Callable[[dict], None]) -> list[dict]:
        """Run every spec to completion (retrying dead workers); summaries in spec order.
        On return each spec's completed copy (`done_copy(store_path)`) is on this machine."""
        ...


@dataclass
class Board:
    """The latest counts and call limit of every shard, summed for display."""

    progress: Progress | None
    status: Status | None
    counts: dict[tuple[int, str], StageCount] = field(default_factory=dict)
    limits: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # limit, flight, 429
    base: dict[str, StageCount] = field(default_factory=dict)  # earlier batches
    lock: threading.Lock = field(default_factory=threading.Lock)
    workers: int = 0

    def event(self, e: dict[str, Any]) -> None:
        if "stage" not in e:
            return
        with self.lock:
            self.counts[(e["shard"], e["stage"])] = StageCount(**e["count"])
            if e.get("limit") is not None:
                self.limits[e["shard"]] = (e["limit"], e["in_flight"], e["throttled"])
            total = self._total(e["stage"])
        if self.progress:
            self.progress(e["stage"], total)
        self.show()

    def _total(self, stage: str) -> StageCount:
        out = StageCount(**vars(self.base.get(stage, StageCount())))
        for (_, s), c in self.counts.items():
            if s == stage:
                for k, v in vars(c).items():
                    setattr(out, k, getattr(out, k) + v)
        return out

    def next_batch(self) -> None:
        with self.lock:
            for stage in {s for _, s in self.counts}:
                self.base[stage] = self._total(stage)
            self.counts.clear()

    def show(self) -> None:
        if self.status is None:
            return
        with self.lock:
            limits = dict(self.limits)
            units: dict[int, list[int]] = {}
            for (shard, _), c in self.counts.items():
                done = units.setdefault(shard, [0, 0])
                done[0] += c.done + c.skipped + c.failed
                done[1] += c.total
        limit = sum(v[0] for v in limits.values())
        flight = sum(v[1] for v in limits.values())
        throttled = sum(v[2] for v in limits.values())
        each = " ".join(f"#{k} {d}/{t}" for k, (d, t) in sorted(units.items()))
        self.status(
            f"{self.workers} workers ({each or 'starting'}) · LLM calls in flight {flight}, "
            f"limit {limit} (adapts to 429s: {throttled} seen)"
        )


@dataclass
class ShardedRun:
    store: RunStore
    run_id: str
    config: PipelineConfig
    settings: ModelSettings
    backend: Backend
    progress: Progress | None = None
    status: Status | None = None

    @property
    def shard_dir(self) -> Path:
        return Path(self.store.path).resolve().parent / "shards" / self.run_id

    def work_path(self, k: int) -> Path:
        return self.shard_dir / f"shard-{k}.work.sqlite"

    def specs(self, first: int) -> list[ShardSpec]:
        count = self.backend.workers
        shares = split_concurrency(self.config.concurrency, count)
        settings = shareable_settings(self.settings)
        return [
            ShardSpec(
                run_id=self.run_id,
                config=self.config.model_copy(update={"concurrency": shares[k]}).model_dump(),
                index=k,
                count=count,
                first=first,
                store_path=str(self.work_path(k)),
                settings=settings,
            )
            for k in range(count)
        ]

    def merge(self) -> dict[str, int]:
        paths = [done_copy(self.work_path(k)) for k in range(self.backend.workers)]
        return merge_shards(self.store, self.run_id, paths)


def run_sharded(run: ShardedRun) -> dict[str, Any]:
    """Run (or resume) the run's batches on the backend's workers; returns a summary."""
    c = run.config
    board = Board(run.progress, run.status, workers=run.backend.workers)
    board.show()
    attempts, calls, throttled = 0, 0, 0
    run.store.set_run_status(run.run_id, "running")
    # Batches merged by an earlier driver are not started again (their workers would only
    # find every unit done); the marks live beside the run's rows, which merges rebuild.
    marks = f"{run.run_id}#driver"
    merged = run.store.unit_status(marks)
    try:
        while True:
            if merged.get(f"batch:{attempts}") != "done":
                summaries = run.backend.run(run.specs(attempts), board.event)
                calls += sum(s["calls"] for s in summaries)
                throttled += sum(s["throttled"] for s in summaries)
                run.merge()
                if not run.store.failed_units(run.run_id):  # else a rerun retries them
                    run.store.mark_unit(marks, f"batch:{attempts}", "done")
                board.next_batch()
            attempts = min(attempts + c.n, c.attempt_budget)
            if c.target is None or attempts >= c.attempt_budget:
                break
            unique = sum(
                t["accepted"] and not t["duplicate"] for t in run.store.run_trajectories(run.run_id)
            )
            if unique >= c.target:
                break
    except BaseException:
        run.store.set_run_status(run.run_id, "interrupted")
        raise
    run.store.set_run_status(run.run_id, "finished")
    return {"attempts": attempts, "calls": calls, "throttled": throttled}


class LocalWorkers:
    """`workers` child processes per batch, one per shard; a dead one is started again."""

    def __init__(self, workers: int, python: str = sys.executable):
        if workers < 1:
            raise ValueError("--workers must be at least 1")
        self.workers, self.python = workers, python
        self.started: list[subprocess.Popen] = []  # every process, for tests to inspect

    def run(self, specs: list[ShardSpec], on_event: Callable[[dict], None]) -> list[dict]:
        results: list[dict | BaseException | None] = [None] * len(specs)

        def drive(i: int, spec: ShardSpec) -> None:
            try:
                results[i] = self._one(spec, on_event)
            except BaseException as exc:  # reported below, after every shard has ended
                results[i] = exc

        threads = [threading.Thread(target=drive, args=(i, s)) for i, s in enumerate(specs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            if isinstance(r, BaseException):
                raise r
        return results  # type: ignore[return-value]

    def _one(self, spec: ShardSpec, on_event: Callable[[dict], None]) -> dict:
        problem = ""
        for _ in range(MAX_TRIES):
            proc = subprocess.Popen(
                [self.python, "-m", "apigen_mt.scale.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            self.started.append(proc)
            proc.stdin.write(spec.model_dump_json())
            proc.stdin.close()
            errors: list[str] = []
            drain = threading.Thread(target=errors.extend, args=(proc.stderr,), daemon=True)
            drain.start()
            summary = None
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if "done" in event:
                    summary = event["done"]
                else:
                    on_event(event)
            code = proc.wait()
            drain.join(timeout=5)
            if code == 0 and summary is not None:
                return summary
            problem = f"exit status {code}: {''.join(errors[-20:]).strip()[-2000:]}"
            time.sleep(0.5)
        raise WorkerFailed(f"shard {spec.index} failed {MAX_TRIES} times; last: {problem}")
