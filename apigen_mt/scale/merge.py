"""The run in the run store, rebuilt from its shards' completed copies.

Rebuilding (delete the run's rows, insert every shard's) in one transaction is
idempotent: merging twice, or after a rerun that discarded a failed unit's rows in its
shard, leaves exactly what the shards hold. Usage rows are summed over the shards.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from apigen_mt.store import RunStore
from apigen_mt.store._schema import TABLES

# table -> rows of the run, as a WHERE clause over that table (one `?`: the run id)
_OF_RUN = {
    "units": "run_id = ?",
    "contexts": "run_id = ?",
    "blueprints": "run_id = ?",
    "reviews": "blueprint_id IN (SELECT id FROM blueprints WHERE run_id = ?)",
    "feedback": "blueprint_id IN (SELECT id FROM blueprints WHERE run_id = ?)",
    "tasks": "run_id = ?",
    "trajectories": "task_id IN (SELECT id FROM tasks WHERE run_id = ?)",
    "turns": "episode_id IN (SELECT tr.id FROM trajectories tr JOIN tasks t "
    "ON tr.task_id = t.id WHERE t.run_id = ?)",
}
_DELETE_ORDER = (
    "turns",
    "trajectories",
    "reviews",
    "feedback",
    "units",
    "contexts",
    "blueprints",
    "tasks",
)
_USAGE = ("prompt_tokens", "completion_tokens", "calls")


def merge_shards(store: RunStore, run_id: str, shard_paths: list[Path]) -> dict[str, int]:
    """Make the run's rows in `store` exactly the union of the shards'; returns row counts."""
    shards = [_read(path, run_id) for path in shard_paths if Path(path).is_file()]
    counts = {table: sum(len(s[table]) for s in shards) for table in _OF_RUN}
    with store._lock, store._transaction():
        db = store.db.conn
        # Children first: their WHERE clauses look the parents up.
        for table in _DELETE_ORDER:
            db.execute(f"DELETE FROM {table} WHERE {_OF_RUN[table]}", [run_id])
        db.execute("DELETE FROM usage WHERE run_id = ?", [run_id])
        for shard in shards:
            for table in _OF_RUN:
                cols = list(TABLES[table])
                marks = ", ".join("?" * len(cols))
                db.executemany(
                    f"INSERT OR REPLACE INTO {table} ({', '.join(cols)}) VALUES ({marks})",
                    shard[table],
                )
            for row in shard["usage"]:
                cols = list(TABLES["usage"])
                db.execute(
                    f"INSERT INTO usage ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                    "ON CONFLICT(run_id, role, stage, model) DO UPDATE SET "
                    + ", ".join(f"{c} = {c} + excluded.{c}" for c in _USAGE),
                    row,
                )
    return counts


def _read(path: Path, run_id: str) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        out = {}
        for table in (*_OF_RUN, "usage"):
            where = _OF_RUN.get(table, "run_id = ?")
            cols = ", ".join(TABLES[table])
            out[table] = conn.execute(
                f"SELECT {cols} FROM {table} WHERE {where}", [run_id]
            ).fetchall()
        return out
    finally:
        conn.close()
