"""The run store: every run, unit of work, sampled context, blueprint, review, feedback plan,
task, turn, trajectory and token count, in one SQLite file.

Graph state carries only ids; this is where the full records live. One connection guarded
by a lock (one writer per process), WAL so readers in other processes (`apigen-mt report`
during a run) never block it, and a busy timeout instead of "database is locked".
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from ._records import PhaseRecords
from ._runs import RunRecords
from ._schema import INDEXES, TABLES

__all__ = ["RunStore"]


class RunStore(PhaseRecords, RunRecords):
    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        self.db = sqlite_utils.Database(conn)
        if self.path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL is durable against a killed process (not a power cut).
            self.db.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.RLock()
        for name, cols in TABLES.items():
            table = self.db[name]
            table.create(cols, pk="id", if_not_exists=True)
            missing = {c: t for c, t in cols.items() if c not in table.columns_dict}
            for column, kind in missing.items():  # stores written by an older version
                table.add_column(column, kind)
        for name, columns, unique in INDEXES:
            self.db[name].create_index(columns, unique=unique, if_not_exists=True)

    @classmethod
    def read_only(cls, path: str | Path) -> RunStore:
        """The store opened with SQLite's `mode=ro` and no schema work: for readers that
        must not write (the browser). Sees a live run's WAL like any reader."""
        store = cls.__new__(cls)
        store.path = str(path)
        conn = sqlite3.connect(
            f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        conn.execute("PRAGMA query_only = 1")
        conn.execute("PRAGMA busy_timeout = 30000")
        store.db = sqlite_utils.Database(conn)
        store._lock = threading.RLock()
        return store

    def _insert(self, table: str, row: dict[str, Any]) -> str:
        row = {"id": uuid.uuid4().hex[:12], **row}
        with self._lock:
            self.db[table].insert(row)
        return row["id"]

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()
