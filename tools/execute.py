"""Running tools against a sandbox: validated, atomic, traced, never raising to the caller."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils
from pydantic import BaseModel, Field

from .declare import ToolError, ToolSet

ERROR_PREFIX = "Error: "


class ToolCall(BaseModel):
    """A requested call, as an LLM or a task file states it."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class TraceEntry(BaseModel):
    """One executed call and what the caller saw."""

    index: int
    name: str
    arguments: dict[str, Any]
    observation: str
    ok: bool
    writes: bool = False


class ToolExecutor:
    """Executes calls on one sandbox connection and keeps the execution trace.

    Each call runs inside a SAVEPOINT: a tool that fails part-way leaves no partial change.
    Tools must therefore never commit (no `with conn:` and no sqlite-utils write helpers,
    which commit); they write with `db.execute(sql, params)`.
    """

    def __init__(self, conn: sqlite3.Connection, toolset: ToolSet):
        if conn.isolation_level is not None:
            raise ValueError("sandbox connections must be opened with isolation_level=None")
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.toolset = toolset
        self.trace: list[TraceEntry] = []

    def call(self, name: str, arguments: Any = None) -> TraceEntry:
        arguments = {} if arguments is None else arguments
        tool = self.toolset.tools.get(name) if isinstance(name, str) else None
        writes = bool(tool and tool.writes)
        try:
            if tool is None:
                raise ToolError(f"unknown tool {name!r}")
            kwargs = tool.validate(arguments)
            result = self._run_atomically(tool.fn, kwargs)
            observation, ok = _render(result), True
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
        self.conn.execute("SAVEPOINT tool_call")
        try:
            result = fn(self.db, **kwargs)
        except ToolError as exc:
            if exc.keep_writes:
                self.conn.execute("RELEASE tool_call")
            else:
                self._rollback()
            raise
        except Exception as exc:  # a tool bug must still be an observation, not a crash
            self._rollback()
            raise ToolError(f"tool failed: {type(exc).__name__}: {exc}") from exc
        self.conn.execute("RELEASE tool_call")
        return result

    def _rollback(self) -> None:
        self.conn.execute("ROLLBACK TO tool_call")
        self.conn.execute("RELEASE tool_call")


def _render(result: Any) -> str:
    # τ-bench's tools return strings: JSON for records, bare text for ids and messages.
    return result if isinstance(result, str) else json.dumps(result)
