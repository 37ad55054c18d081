"""τ-bench compatibility: its data hash, task files, and replaying tasks on our tools."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from apigen_mt.tools import ToolCall

from .environment import Environment


class TaubenchTask(BaseModel):
    """One task in τ-bench's `tasks_*.json` format."""

    user_id: str | None = None
    instruction: str = ""
    actions: list[ToolCall]
    outputs: list[str] = Field(default_factory=list)
    # Ours, optional: how a computed output (a total) follows from the calls' results.
    computations: list[dict[str, str]] = Field(default_factory=list)


class ReplayResult(BaseModel):
    task_index: int
    observations: list[str]
    data_hash: str


def taubench_hash(data: Any) -> str:
    """τ-bench's database hash: sha256 of str() of the data as nested sorted tuples."""
    return hashlib.sha256(str(_to_hashable(data)).encode()).hexdigest()


def _to_hashable(item: Any) -> Any:
    if isinstance(item, dict):
        return tuple(sorted((k, _to_hashable(v)) for k, v in item.items()))
    if isinstance(item, list):
        return tuple(_to_hashable(v) for v in item)
    return item


def load_tasks(path: Path | str) -> list[TaubenchTask]:
    """Tasks from a JSON list; a malformed task raises ValueError naming its index."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON list of tasks")
    tasks = []
    for i, item in enumerate(raw):
        try:
            tasks.append(TaubenchTask.model_validate(item))
        except ValidationError as exc:
            raise ValueError(f"{path}: task {i} is malformed: {exc}") from None
    return tasks


def export_state(env: Environment, sandbox) -> dict[str, dict[str, Any]]:
    """A sandbox's state in τ-bench's JSON shape."""
    return env.domain.taubench.export_data(sandbox.db)


def replay(env: Environment, tasks: list[TaubenchTask]) -> Iterator[ReplayResult]:
    """Each task's actions in a fresh sandbox: what the agent would see, and the final hash."""
    for index, task in enumerate(tasks):
        with env.sandbox() as sandbox:
            trace = sandbox.run(task.actions)
            yield ReplayResult(
                task_index=index,
                observations=[e.observation for e in trace],
                # Domains without a τ-bench shape (banking) report our own state hash.
                data_hash=taubench_hash(export_state(env, sandbox))
                if env.domain.taubench
                else sandbox.state_hash(),
            )
