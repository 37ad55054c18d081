"""One episode's private copy of a domain's database, with its tool executors.

In a dual-control domain (τ²'s telecom) the user has tools too: a second executor on the
same connection, and the domain's synchronisation of the two sides after every call.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from apigen_mt.tools import ERROR_PREFIX, ToolCall, ToolError, ToolExecutor, TraceEntry

from .state import RowChange, diff, dirty_rows, state_hash, touched_keys

if TYPE_CHECKING:
    from .environment import Environment


class Sandbox:
    """A private in-memory copy of the master for one episode, with its tool executor."""

    def __init__(self, env: Environment):
        self.env = env
        self.id = uuid.uuid4().hex
        self.conn = env._sandbox_connection()
        # a dual-control domain's sync runs after every call on either side (the executors')
        after = self._sync if env.domain.sync is not None else None
        self.executor = ToolExecutor(self.conn, env.domain.tools, after)
        # the user's tools, on the same connection (dual-control domains only)
        user_tools = env.domain.user_tools
        self.user_executor = ToolExecutor(self.conn, user_tools, after) if user_tools else None

    @property
    def db(self) -> sqlite_utils.Database:
        return self.executor.db

    @property
    def trace(self) -> list[TraceEntry]:
        return self.executor.trace

    @property
    def user_trace(self) -> list[TraceEntry]:
        return self.user_executor.trace if self.user_executor else []

    def call(self, name: str, arguments: Any = None, requestor: str = "assistant") -> TraceEntry:
        """One call by the agent (default) or, in a dual-control domain, by the user."""
        if requestor != "user":
            return self.executor.call(name, arguments)
        if self.user_executor is None:
            return TraceEntry(
                index=0, name=str(name), arguments={}, ok=False,
                observation=f"{ERROR_PREFIX}the user has no tools in this domain",
            )  # fmt: skip
        return self.user_executor.call(name, arguments)

    def run(self, calls: list[ToolCall] | list[dict[str, Any]]) -> list[TraceEntry]:
        if self.user_executor is None:
            return self.executor.run(calls)
        out = []
        for c in calls:
            c = c if isinstance(c, ToolCall) else ToolCall.model_validate(c)
            out.append(self.call(c.name, c.arguments, c.requestor))
        return out

    def function(self, side: str, name: str, arguments: dict[str, Any]) -> Any:
        """One of the domain's scene-setting or assertion functions (not a tool: no trace),
        then the synchronisation. ToolError when it fails or does not exist."""
        fn = self.env.domain.functions.get(side, {}).get(name)
        tools = self.user_executor if side == "user" else self.executor
        if fn is None and tools is not None and name in tools.toolset:
            fn = tools.toolset[name].fn  # a tool used to set the scene
        if fn is None:
            raise ToolError(f"Function {name} not found in {side} tools")
        try:
            result = fn(self.db, **arguments)
        except TypeError as exc:
            raise ToolError(str(exc)) from None
        if self.env.domain.sync is not None:
            self._sync()
        return result

    def _sync(self) -> None:
        self.env.domain.sync(self.executor.db)

    def state_hash(self) -> str:
        """Same value as `state_hash(conn, schema)`, re-digesting only the rows written."""
        if not self.env.tracks_exactly:
            return state_hash(self.conn, self.env.domain.schema)
        return self.env.digests.updated(self.conn, dirty_rows(self.conn))

    def diff(self, other: Sandbox | None = None) -> list[RowChange]:
        """Changes from `other` (default: the master) to this sandbox."""
        schema, master = self.env.domain.schema, self.env._master
        with self.env._lock:  # the master connection is shared
            written = [self.conn] if other is None else [self.conn, other.conn]
            keys = touched_keys(master, written, schema) if self.env.tracks_exactly else None
            return diff(master if other is None else other.conn, self.conn, schema, keys)

    def save(self, path: Path) -> None:
        """Write this sandbox's current state to `path` as a plain SQLite file with the
        owner's schema (no change tracking), for comparing states with other code. Rows
        are copied through the sandbox's connection: its open transaction is not in the
        serialized image."""
        from .environment import save_database

        save_database(self.conn, Path(path))

    def close(self) -> None:
        """Discard the episode's writes. The connection goes back to the environment, so
        the sandbox lets go of it: using the sandbox afterwards fails as if it were closed."""
        conn = self.conn
        if self.executor.conn is not conn:
            return  # closed already
        self.executor.detach()
        self.conn = self.executor.conn
        self.env._recycle(conn)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
