"""An MCP world: the user's server started on each episode's own copy of the database.

Each sandbox is a *slot*: a database file and a server started with its path (the
world's `database_env`), from a pool. Between episodes the slot's file is overwritten with
the master (SQLite's backup API) and checked equal to it, so a pooled server starts every
episode from the master's state — provided its only state is that file (the documented
contract). Our side opens the same file: hashes and diffs read it whole (the server's
writes are not tracked row by row), and `PRAGMA data_version` tells whether a call wrote.

An error result is a refusal; if the server wrote before answering with an error, the
file is put back as it was before the call. A server that fails to start, times out or
dies raises `ToolUnavailable`: the episode ends with that reason and the slot is dropped.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, create_model, model_validator

from apigen_mt.tools import Tool, ToolError, ToolUnavailable
from apigen_mt.tools.mcp_client import McpServerProcess, McpTool

from ..state import state_hash
from .config import WorldConfig, WorldError

POOL_SIZE = 64  # idle slots kept per environment


class SlotConnection(sqlite3.Connection):
    """Our connection to a slot's file; `slot` is the server that writes it."""

    written_elsewhere = True  # the executor reads PRAGMA data_version around each call
    slot: Slot


class Slot:
    def __init__(self, world: McpWorld, image: bytes | None = None, source=None):
        self.folder = Path(tempfile.mkdtemp(prefix="apigen-mt-slot-"))
        self.path = self.folder / "world.sqlite"
        if source is not None:
            self._fill_from(source)
        else:
            self.reset(image)
        mcp = world.config.mcp
        try:
            self.server = McpServerProcess(
                mcp.command,
                cwd=world.config.folder,
                env={**mcp.env, mcp.database_env: str(self.path)},
                timeout=mcp.timeout_s,
                label=f"world {world.config.name}",
            )
        except ToolUnavailable:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def connect(self) -> SlotConnection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, factory=SlotConnection
        )
        conn.slot = self
        return conn

    def reset(self, image: bytes) -> None:
        src = sqlite3.connect(":memory:")
        src.deserialize(image)
        self._fill_from(src)
        src.close()

    def _fill_from(self, source: sqlite3.Connection) -> None:
        dst = sqlite3.connect(self.path)
        source.backup(dst)
        dst.close()

    def close(self) -> None:
        self.server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class McpSandboxes:
    """The environment's sandbox backend for an MCP world (see the module docstring)."""

    tracks_exactly = False

    def __init__(self, world: McpWorld, env: Any):
        self.world, self.env = world, env
        self.schema = env.domain.schema
        plain = sqlite3.connect(":memory:")
        env.master.backup(plain)
        self.image = plain.serialize()  # the master as the user's schema has it
        self.hash = state_hash(plain, self.schema)
        plain.close()
        self.idle: list[Slot] = []
        self.lock = threading.Lock()
        atexit.register(self.close)  # servers stopped, slot files removed, even unclosed

    def acquire(self) -> SlotConnection:
        with self.lock:
            slot = self.idle.pop() if self.idle else None
        if slot is None:
            slot = Slot(self.world, self.image)
        return slot.connect()

    def release(self, conn: sqlite3.Connection) -> None:
        slot: Slot = conn.slot
        conn.close()
        if not slot.server.alive:
            slot.close()
            return
        slot.reset(self.image)
        check = sqlite3.connect(slot.path)
        restored = state_hash(check, self.schema) == self.hash
        check.close()
        with self.lock:
            if restored and len(self.idle) < POOL_SIZE:
                self.idle.append(slot)
                return
        slot.close()

    def warm(self, n: int) -> None:
        """Start servers until `n` slots are idle (a fresh start costs the server's own
        start-up, ~1.5 s for an SDK server)."""
        while True:
            with self.lock:
                if len(self.idle) >= n:
                    return
            slot = Slot(self.world, self.image)
            with self.lock:
                self.idle.append(slot)

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for slot in idle:
            slot.close()


class McpWorld:
    """The MCP side of a world: its tools, annotations and sandboxes."""

    def __init__(self, config: WorldConfig):
        try:
            import mcp  # noqa: F401
        except ImportError:
            raise WorldError(
                f"{config.folder / 'world.toml'}: an [mcp] world needs the official MCP SDK: "
                "pip install 'apigen-mt[mcp]'"
            ) from None
        self.config = config
        self.annotations: dict[str, dict | None] = {}
        self._scratch: Slot | None = None

    def list_tools(self, conn: sqlite3.Connection) -> list[Tool]:
        """Start a server on a scratch copy of `conn` and list its tools (the slot is kept
        for the sample calls until `release_scratch`)."""
        try:
            self._scratch = Slot(self, source=conn)
        except ToolUnavailable as exc:
            raise WorldError(
                f"{self.config.folder / 'world.toml'}: [mcp] command "
                f"{list(self.config.mcp.command)}: {exc}"
            ) from None
        listed = self._scratch.server.tools
        if not listed:
            raise WorldError(f"{self.config.folder}: the MCP server lists no tools")
        self.annotations = {t.name: t.annotations for t in listed}
        return [mcp_tool(t) for t in listed]

    def scratch_connection(self, conn: sqlite3.Connection) -> SlotConnection:
        return self._scratch.connect()

    def release_scratch(self, conn: sqlite3.Connection) -> None:
        conn.close()
        if self._scratch is not None:
            self._scratch.close()
            self._scratch = None

    def sandboxes(self, env: Any) -> McpSandboxes:
        return McpSandboxes(self, env)


def mcp_tool(listed: McpTool) -> Tool:
    schema = listed.input_schema
    required = list(schema.get("required", []))

    def check_required(cls, data: Any) -> Any:
        missing = [k for k in required if not isinstance(data, dict) or k not in data]
        if missing:
            raise ValueError(f"missing required argument(s): {', '.join(missing)}")
        return data

    # The server validates its own arguments; ours checks only that required ones are there.
    model = create_model(
        f"{listed.name}_mcp_arguments",
        __config__=ConfigDict(extra="allow"),
        __validators__={"_required": model_validator(mode="before")(check_required)},
    )

    # A snapshot before each call that may write, to undo a refusal's writes.
    read_only = bool((listed.annotations or {}).get("readOnlyHint"))

    def call(db: Any, **arguments: Any) -> str:
        conn = db.conn
        slot: Slot = conn.slot
        before = None if read_only else conn.serialize()
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        result = slot.server.call(listed.name, arguments)
        if result.is_error:
            changed = conn.execute("PRAGMA data_version").fetchone()[0] != version
            if changed and before is not None:
                _restore(conn, before)  # a refusal leaves no write behind
            # The SDK's servers prefix every error; the agent gets "Error: <message>".
            text = result.text.removeprefix(f"Error executing tool {listed.name}: ")
            raise ToolError(text or "the tool returned an error")
        return result.text

    return Tool(
        name=listed.name,
        description=listed.description or listed.name,
        fn=call,
        arguments_model=model,
        atomic=False,
        schema=schema,
    )


def _restore(conn: sqlite3.Connection, image: bytes) -> None:
    src = sqlite3.connect(":memory:")
    src.deserialize(image)
    src.backup(conn)
    src.close()
