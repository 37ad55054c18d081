"""Shards as Ray tasks: the same worker code, on any node of a Ray cluster.

A task receives its shard's completed copy (bytes; empty for a new shard), works on a
local copy on its node, and returns the new completed copy, which the driver writes into
the run's shard folder and merges. Ray retries a task whose worker process dies
(`max_retries`); progress reaches the driver through a small actor.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .spec import ShardSpec
from .worker import done_copy

TASK_RETRIES = 3


def _ray():
    try:
        import ray
    except ImportError:  # pragma: no cover - depends on the extra
        raise RuntimeError("--ray needs Ray: pip install 'apigen-mt[ray]'") from None
    return ray


def connect(address: str | None, num_cpus: int | None = None) -> None:
    """Join the cluster at `address` ("auto": RAY_ADDRESS or a local cluster's), or start a
    local Ray instance when `address` is None or "local"."""
    ray = _ray()
    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if address in (None, "", "local"):
        ray.init(num_cpus=num_cpus or os.cpu_count(), **kwargs)
    else:
        ray.init(address=address, **kwargs)


def _remote_shard(spec_json: str, completed: bytes, board) -> bytes | dict:
    """The task body: resume from `completed`, run the batch, return the new copy."""
    from .worker import run_shard, snapshot

    spec = ShardSpec.model_validate_json(spec_json)
    folder = Path(tempfile.gettempdir()) / "apigen-mt-shards" / spec.run_id
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / f"shard-{spec.index}.{os.getpid()}.work.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    if completed:
        work.write_bytes(completed)
    spec = spec.model_copy(update={"store_path": str(work)})
    summary = run_shard(spec, lambda event: board.post.remote(event))
    out = folder / f"shard-{spec.index}.{os.getpid()}.done.sqlite"
    snapshot(work, out)
    data = out.read_bytes()
    for path in (out, work, Path(f"{work}-wal"), Path(f"{work}-shm"), Path(f"{work}.lock")):
        path.unlink(missing_ok=True)
    return {"summary": summary, "store": data}


class RayWorkers:
    """`workers` Ray tasks per batch, one per shard."""

    def __init__(self, workers: int, address: str | None = None):
        if workers < 1:
            raise ValueError("the number of shards must be at least 1")
        self.workers, self.address = workers, address

    def run(self, specs: list[ShardSpec], on_event: Callable[[dict], None]) -> list[dict]:
        ray = _ray()
        connect(self.address)

        @ray.remote(num_cpus=0)
        class ProgressBoard:
            def __init__(self) -> None:
                self.events: list[dict] = []

            def post(self, event: dict) -> None:
                self.events.append(event)

            def take(self) -> list[dict]:
                out, self.events = self.events, []
                return out

        board = ProgressBoard.remote()
        task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(_remote_shard)
        refs = []
        for spec in specs:
            completed_path = done_copy(spec.store_path)
            completed = completed_path.read_bytes() if completed_path.is_file() else b""
            refs.append(task.remote(spec.model_dump_json(), completed, board))
        pending = list(refs)
        while pending:
            _, pending = ray.wait(pending, num_returns=len(pending), timeout=0.5)
            for event in ray.get(board.take.remote()):
                on_event(event)
            if pending:
                time.sleep(0.1)
        summaries = []
        for spec, result in zip(specs, ray.get(refs), strict=True):
            _write_atomically(done_copy(spec.store_path), result["store"])
            summaries.append(result["summary"])
        for event in ray.get(board.take.remote()):
            on_event(event)
        ray.kill(board)
        return summaries


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
