"""One limit on in-flight LLM calls, shared by every role of a run.

LangGraph's `max_concurrency` applies per graph invocation, so nested graphs (a pipeline
running many blueprint graphs, each fanning out to a committee) multiply it. Instead the
pipeline sets a limit here, in a context variable that every task it spawns inherits, and
each role call takes a slot for its duration (client retries included).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager


class CallLimit:
    """At most `limit` calls in flight; counts what it admitted."""

    def __init__(self, limit: int):
        if limit < 1:
            raise ValueError("the call limit must be at least 1")
        self.limit = limit
        self.in_flight = 0
        self.peak = 0
        self.calls = 0
        self._semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()  # a semaphore belongs to one event loop
        if loop not in self._semaphores:
            self._semaphores[loop] = asyncio.Semaphore(self.limit)
        return self._semaphores[loop]

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._semaphore():
            self.in_flight += 1
            self.calls += 1
            self.peak = max(self.peak, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1


_current: contextvars.ContextVar[CallLimit | None] = contextvars.ContextVar(
    "apigen_mt_call_limit", default=None
)


@contextmanager
def limited_calls(limit: CallLimit | int) -> Iterator[CallLimit]:
    """Within this block (and the tasks it starts), LLM calls share `limit`."""
    limit = CallLimit(limit) if isinstance(limit, int) else limit
    token = _current.set(limit)
    try:
        yield limit
    finally:
        _current.reset(token)


@asynccontextmanager
async def llm_slot() -> AsyncIterator[None]:
    """Wrap one model call: waits for a slot when a limit is in force."""
    limit = _current.get()
    if limit is None:
        yield
        return
    async with limit.slot():
        yield
