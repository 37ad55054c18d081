"""MCP servers as tool providers: one server process and its session, driven from sync code.

The official `mcp` SDK is async (anyio). Tools are called synchronously by the executor,
so every server's session lives on one background event loop (`McpRuntime`), each in a
task of its own that owns its stdio transport and session from start to stop (anyio's
contexts must be left in the task that entered them). A call is a request put on that
task's queue; the caller waits for the answer with a timeout.

A server that cannot be started, times out or dies raises `ToolUnavailable`, with the
tail of what it wrote to stderr.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import tempfile
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .declare import ToolUnavailable

STDERR_TAIL = 800  # characters of a failed server's stderr kept in the reason


@dataclass(frozen=True)
class McpTool:
    name: str
    description: str
    input_schema: dict[str, Any]
    annotations: dict[str, Any] | None  # camelCase, as on the wire


@dataclass(frozen=True)
class McpResult:
    text: str
    is_error: bool


class McpRuntime:
    """The background event loop every MCP session of this process runs on."""

    _instance: McpRuntime | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="mcp")
        self.thread.start()
        self.servers: set[McpServerProcess] = set()
        atexit.register(self.shutdown)

    @classmethod
    def get(cls) -> McpRuntime:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def run(self, coro: Coroutine, timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def shutdown(self) -> None:
        for server in list(self.servers):
            server.stop()


class McpServerProcess:
    """One server on one database file: started, listed, called, stopped."""

    def __init__(
        self,
        command: tuple[str, ...],
        *,
        cwd: Path,
        env: dict[str, str],
        timeout: float,
        label: str,
    ):
        self.command, self.cwd, self.env, self.timeout = command, cwd, env, timeout
        self.label = label
        self.runtime = McpRuntime.get()
        self.tools: list[McpTool] = []
        self.dead: str | None = None  # why the server is gone, once it is
        fd, name = tempfile.mkstemp(prefix="apigen-mt-mcp-", suffix=".stderr")
        os.close(fd)
        self.stderr_path = Path(name)
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._start()

    # -- sync API --------------------------------------------------------------------------

    def call(self, name: str, arguments: dict[str, Any]) -> McpResult:
        if self.dead:
            raise ToolUnavailable(f"{self.label}: the MCP server is gone: {self.dead}")
        try:
            return self.runtime.run(self._request(name, arguments), self.timeout)
        except TimeoutError:
            self._die(f"the call to {name} timed out after {self.timeout:g} s")
        except ToolUnavailable:
            raise
        except Exception as exc:  # the session broke (the process died, a bad message)
            self._die(describe(exc))
        raise AssertionError("unreachable")

    @property
    def alive(self) -> bool:
        return self.dead is None and self._task is not None and not self._task.done()

    def stop(self) -> None:
        if self._task is not None and not self._task.done() and self._queue is not None:
            self.runtime.loop.call_soon_threadsafe(self._queue.put_nowait, None)
            try:
                self.runtime.run(asyncio.wait_for(asyncio.shield(self._task), 5), 6)
            except Exception:
                self._task.cancel()
        self.dead = self.dead or "stopped"
        self.runtime.servers.discard(self)
        self.stderr_path.unlink(missing_ok=True)

    # -- internals -------------------------------------------------------------------------

    def _start(self) -> None:
        ready: asyncio.Future = asyncio.run_coroutine_threadsafe(self._launch(), self.runtime.loop)
        try:
            self.tools = ready.result(self.timeout + 5)
        except TimeoutError:
            tail = self._stderr_tail()
            self.stop()
            raise ToolUnavailable(
                f"{self.label}: the MCP server did not start within {self.timeout:g} s" + tail
            ) from None
        except ToolUnavailable:
            raise
        except Exception as exc:
            reason, tail = describe(exc), self._stderr_tail()
            self.stop()
            raise ToolUnavailable(
                f"{self.label}: the MCP server failed to start ({reason})" + tail
            ) from None
        self.runtime.servers.add(self)

    async def _launch(self) -> list[McpTool]:
        self._queue = asyncio.Queue()
        started: asyncio.Future = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._serve(started))
        return await asyncio.wait_for(started, self.timeout)

    async def _serve(self, started: asyncio.Future) -> None:
        from mcp import ClientSession
        from mcp.client.stdio import StdioServerParameters, stdio_client

        params = StdioServerParameters(
            command=self.command[0], args=list(self.command[1:]), env=self.env, cwd=self.cwd
        )
        try:
            with self.stderr_path.open("w", encoding="utf-8") as errlog:
                async with (
                    stdio_client(params, errlog=errlog) as (read, write),
                    ClientSession(read, write) as session,
                ):
                    await session.initialize()
                    listed = await session.list_tools()
                    started.set_result([_tool_of(t) for t in listed.tools])
                    while (item := await self._queue.get()) is not None:
                        name, arguments, answer = item
                        try:
                            result = await session.call_tool(name, arguments)
                            answer.set_result(_result_of(result))
                        except Exception as exc:
                            answer.set_exception(exc)
                            raise
        except BaseException as exc:
            if not started.done():
                started.set_exception(exc if isinstance(exc, Exception) else RuntimeError(exc))
            self.dead = self.dead or describe(exc)
            self._fail_waiting()
            if not isinstance(exc, Exception):
                raise

    async def _request(self, name: str, arguments: dict[str, Any]) -> McpResult:
        if self._task is None or self._task.done():
            raise ToolUnavailable(f"{self.label}: the MCP server is gone: {self.dead}")
        answer: asyncio.Future = asyncio.get_running_loop().create_future()
        await self._queue.put((name, arguments, answer))
        done, _ = await asyncio.wait({answer, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if answer in done:
            return answer.result()
        raise ToolUnavailable(f"{self.label}: the MCP server died: {self.dead}")

    def _fail_waiting(self) -> None:
        while self._queue is not None and not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None and not item[2].done():
                item[2].set_exception(ToolUnavailable(f"{self.label}: the MCP server died"))

    def _die(self, reason: str) -> None:
        self.dead = reason
        if self._task is not None:
            self.runtime.loop.call_soon_threadsafe(self._task.cancel)
        raise ToolUnavailable(f"{self.label}: {reason}" + self._stderr_tail())

    def _stderr_tail(self) -> str:
        try:
            text = self.stderr_path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""
        return f"; its stderr ends: {text[-STDERR_TAIL:]}" if text else ""


def describe(exc: BaseException) -> str:
    """The innermost cause, as one line (anyio wraps failures in exception groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _tool_of(tool: Any) -> McpTool:
    annotations = None
    if tool.annotations is not None:
        annotations = tool.annotations.model_dump(by_alias=True, exclude_none=True)
    return McpTool(
        name=tool.name,
        description=tool.description or "",
        input_schema=dict(tool.input_schema or {"type": "object", "properties": {}}),
        annotations=annotations,
    )


def _result_of(result: Any) -> McpResult:
    """The result's text; structured content as JSON when there is no text."""
    import json

    texts = [block.text for block in result.content if getattr(block, "type", "") == "text"]
    if texts:
        text = "\n".join(texts)
    elif result.structured_content is not None:
        text = json.dumps(result.structured_content, ensure_ascii=False)
    else:
        text = ""
    return McpResult(text=text, is_error=bool(result.is_error))
