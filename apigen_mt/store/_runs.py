"""Runs, units of work and token usage: what resumption and reports read."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import sqlite_utils


class RunRecords:
    db: sqlite_utils.Database
    _lock: threading.Lock

    # -- runs ------------------------------------------------------------------------------

    def create_run(
        self, run_id: str, *, domain: str, config: dict[str, Any], seed: int, code_version: str
    ) -> None:
        now = time.time()
        with self._lock:
            self.db["runs"].insert(
                {
                    "id": run_id,
                    "domain": domain,
                    "config": json.dumps(config, sort_keys=True),
                    "seed": seed,
                    "code_version": code_version,
                    "status": "running",
                    "created_at": now,
                    "updated_at": now,
                }
            )

    def run(self, run_id: str) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db["runs"].rows_where("id = ?", [run_id]))
        return _run_row(rows[0]) if rows else None

    def runs(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = list(self.db["runs"].rows_where(order_by="created_at"))
        return [_run_row(r) for r in rows]

    def set_run_status(self, run_id: str, status: str) -> None:
        with self._lock:
            self.db["runs"].update(run_id, {"status": status, "updated_at": time.time()})

    # -- units -----------------------------------------------------------------------------

    def failed_units(self, run_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db["units"].rows_where("run_id = ? AND status = 'failed'", [run_id]))

    def unit_status(self, run_id: str) -> dict[str, str]:
        """Every unit of the run: key -> started | done."""
        with self._lock:
            rows = self.db.execute(
                "SELECT key, status FROM units WHERE run_id = ?", [run_id]
            ).fetchall()
        return dict(rows)

    def mark_unit(self, run_id: str, key: str, status: str, reason: str = "") -> None:
        with self._lock:
            self.db["units"].insert(
                {
                    "id": f"{run_id}/{key}",
                    "run_id": run_id,
                    "key": key,
                    "status": status,
                    "reason": reason,
                    "updated_at": time.time(),
                },
                replace=True,
            )

    def discard_partial(self, run_id: str, key: str) -> int:
        """Delete what an interrupted unit wrote, so that rerunning it duplicates nothing.
        Returns the number of rows removed."""
        kind, _, rest = key.partition(":")
        with self._lock, self._transaction():
            if kind in ("attempt", "recombine"):
                attempt = int(rest) if kind == "attempt" else -1 - int(rest)
                ids = [
                    r[0]
                    for r in self.db.execute(
                        "SELECT id FROM blueprints WHERE run_id = ? AND attempt = ?",
                        [run_id, attempt],
                    )
                ]
                marks = ",".join("?" * len(ids))
                n = 0
                for table in ("reviews", "feedback"):
                    n += self.db.execute(
                        f"DELETE FROM {table} WHERE blueprint_id IN ({marks})", ids
                    ).rowcount
                n += self.db.execute(f"DELETE FROM blueprints WHERE id IN ({marks})", ids).rowcount
                if kind == "attempt":
                    n += self.db.execute(
                        "DELETE FROM contexts WHERE run_id = ? AND attempt = ?", [run_id, attempt]
                    ).rowcount
                return n
            if kind == "dialogue":
                task_id, _, trial = rest.rpartition(":")
                n = self.db.execute(
                    "DELETE FROM trajectories WHERE task_id = ? AND attempt = ?",
                    [task_id, int(trial)],
                ).rowcount
                return (
                    n
                    + self.db.execute(
                        "DELETE FROM turns WHERE episode_id LIKE ? ESCAPE '\\'",
                        [_like_prefix(f"{task_id}:{trial}:")],
                    ).rowcount
                )
            raise ValueError(f"unknown unit kind in {key!r}")

    # -- usage -----------------------------------------------------------------------------

    def add_usage(
        self, run_id: str, role: str, stage: str, model: str, prompt: int, completion: int
    ) -> None:
        key = f"{run_id}/{role}/{stage}/{model}"
        with self._lock:
            self.db.execute(
                "INSERT INTO usage (id, run_id, role, stage, model, calls, prompt_tokens, "
                "completion_tokens) VALUES (?, ?, ?, ?, ?, 1, ?, ?) "
                "ON CONFLICT(run_id, role, stage, model) DO UPDATE SET calls = calls + 1, "
                "prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
                "completion_tokens = completion_tokens + excluded.completion_tokens",
                [
                    key,
                    run_id,
                    role,
                    stage,
                    model,
                    prompt,
                    completion,
                ],
            )

    def usage(self, run_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db["usage"].rows_where("run_id = ?", [run_id], order_by="role"))


def _run_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "config": json.loads(row["config"])}


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
