"""Running tools against a sandbox: validated, atomic, traced, never raising to the caller."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import sqlite_utils
from pydantic import BaseModel, Field, model_serializer

from .declare import ToolError, ToolSet, ToolUnavailable

ERROR_PREFIX = "Error: "
CALL_SAVEPOINT = "tool_call"  # the savepoint each call runs in (undone when it fails)


class ToolCall(BaseModel):
    """A requested call, as an LLM or a task file states it. `requestor`: whose tool it is
    (dual-control domains: the user has tools too); left out of dumps when the agent's."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    requestor: Literal["assistant", "user"] = "assistant"

    @model_serializer(mode="wrap")
    def _dump(self, handler) -> dict[str, Any]:
        data = handler(self)
        if data.get("requestor") == "assistant":
            data.pop("requestor")
        return data


class TraceEntry(BaseModel):
    """One executed call and what the caller saw."""

    index: int
    name: str
    arguments: dict[str, Any]
    observation: str
    ok: bool
    writes: bool = False


class ToolDatabase(sqlite_utils.Database):
    """The `db` tools get: sqlite-utils, with reads that run as one statement.

    sqlite-utils 4 wraps every `query` in a savepoint of its own, which undoes a statement
    that turns out to write. A tool call already runs inside the executor's savepoint, which
    undoes the whole call on any error, so that is two statements more per read (a fifth of
    a typical tool call) for nothing.
    """

    def query(self, sql: str, params: Any = None) -> Iterator[dict[str, Any]]:
        cursor = self.conn.execute(sql, () if params is None else params)
        if cursor.description is None:
            raise ValueError("query() is for SQL that returns rows; use execute() to write")
        keys = _unique_keys(d[0] for d in cursor.description)
        return (dict(zip(keys, row, strict=True)) for row in cursor)


def _unique_keys(names: Iterable[str]) -> list[str]:
    """Column names made unique as sqlite-utils does: a repeated `id` becomes `id_2`."""
    keys: list[str] = []
    for name in names:
        key, n = name, 1
        while key in keys:
            n += 1
            key = f"{name}_{n}"
        keys.append(key)
    return keys


class ToolExecutor:
    """Executes calls on one sandbox connection and keeps the execution trace.

    Each call runs inside a SAVEPOINT: a tool that fails part-way leaves no partial change.
    Tools must therefore never commit (no `with conn:` and no sqlite-utils write helpers,
    which commit); they write with `db.execute(sql, params)`.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        toolset: ToolSet,
        after_call: Callable[[], None] | None = None,
    ):
        if conn.isolation_level is not None:
            raise ValueError("sandbox connections must be opened with isolation_level=None")
        self.conn = conn
        self.db = ToolDatabase(conn)
        self.toolset = toolset
        # runs after each call that succeeded (a dual-control domain's synchronisation of
        # its two sides); a ToolError it raises is that call's observation, as τ² reports it
        self.after_call = after_call
        self.trace: list[TraceEntry] = []
        # Trace indices of calls to tools not declared as writing that changed the database
        # all the same: a wrong read/write classification, never to pass unnoticed.
        self.undeclared_writes: list[int] = []

    def detach(self) -> None:
        """Let go of the connection (its sandbox is closed and the connection may serve
        another): a later call fails as on a closed database, never reaching it."""
        self.conn, self.db = _CLOSED.conn, _CLOSED

    def call(self, name: str, arguments: Any = None) -> TraceEntry:
        arguments = {} if arguments is None else arguments
        tool = self.toolset.tools.get(name) if isinstance(name, str) else None
        writes = bool(tool and tool.writes)
        try:
            if tool is None:
                raise ToolError(f"unknown tool {name!r}")
            kwargs = tool.validate(arguments)
            before = self._changes()
            result = (
                self._run_atomically(tool.fn, kwargs) if tool.atomic else tool.fn(self.db, **kwargs)
            )
            observation, ok = _render(result), True
            if not writes and self._changes() != before:
                self.undeclared_writes.append(len(self.trace))
            if self.after_call is not None:
                self.after_call()
        except ToolError as exc:
            observation, ok = ERROR_PREFIX + str(exc), False
        entry = TraceEntry(
            index=len(self.trace),
            name=str(name),
            arguments=arguments if isinstance(arguments, dict) else {"_raw": repr(arguments)},
            observation=observation,
            ok=ok,
            writes=writes,
        )
        self.trace.append(entry)
        return entry

    def run(self, calls: list[ToolCall] | list[dict[str, Any]]) -> list[TraceEntry]:
        out = []
        for c in calls:
            c = c if isinstance(c, ToolCall) else ToolCall.model_validate(c)
            out.append(self.call(c.name, c.arguments))
        return out

    def _run_atomically(self, fn, kwargs: dict[str, Any]) -> Any:
        self.conn.execute(f"SAVEPOINT {CALL_SAVEPOINT}")
        try:
            result = fn(self.db, **kwargs)
        except ToolUnavailable:
            self._rollback()
            raise
        except ToolError as exc:
            if exc.keep_writes:
                self.conn.execute(f"RELEASE {CALL_SAVEPOINT}")
            else:
                self._rollback()
            raise
        except Exception as exc:  # a tool bug must still be an observation, not a crash
            self._rollback()
            raise ToolError(f"tool failed: {type(exc).__name__}: {exc}") from exc
        self.conn.execute(f"RELEASE {CALL_SAVEPOINT}")
        return result

    def _changes(self) -> tuple[int, int]:
        """What moves when a call writes: this connection's row changes, and for a database
        file that a tool server writes through its own connection, its data version."""
        external = 0
        if getattr(self.conn, "written_elsewhere", False):
            external = self.conn.execute("PRAGMA data_version").fetchone()[0]
        return self.conn.total_changes, external

    def _rollback(self) -> None:
        self.conn.execute(f"ROLLBACK TO {CALL_SAVEPOINT}")
        self.conn.execute(f"RELEASE {CALL_SAVEPOINT}")


def _closed_database() -> ToolDatabase:
    db = ToolDatabase(sqlite3.connect(":memory:", check_same_thread=False))
    db.conn.close()
    return db


_CLOSED = _closed_database()


def _render(result: Any) -> str:
    # τ-bench's tools return strings: JSON for records, bare text for ids and messages.
    return result if isinstance(result, str) else json.dumps(result)
