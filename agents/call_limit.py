"""One limit on in-flight LLM calls, shared by every role of a run.

LangGraph's `max_concurrency` applies per graph invocation, so nested graphs (a pipeline
running many blueprint graphs, each fanning out to a committee) multiply it. Instead the
pipeline sets a limit here, in a context variable that every task it spawns inherits, and
each role call takes a slot for its duration (client retries included).
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager


class CallLimit:
    """At most `limit` calls in flight; counts what it admitted.

    With `adaptive=True` the limit follows the endpoint (additive increase, multiplicative
    decrease): a 429 halves it (once per `cooldown` seconds, so a burst of 429s from calls
    sent together counts once), and every `limit` successful calls raise it by one, back up
    to `ceiling` (the budget it started with). `observe(status)` feeds it; the OpenAI
    clients of `apigen_mt.models` call it for every HTTP response, retries included.
    """

    def __init__(self, limit: int, *, adaptive: bool = False, cooldown: float = 1.0):
        if limit < 1:
            raise ValueError("the call limit must be at least 1")
        self.limit = limit
        self.ceiling = limit
        self.adaptive = adaptive
        self.cooldown = cooldown
        self.in_flight = 0
        self.peak = 0
        self.calls = 0
        self.throttled = 0  # 429 responses seen
        self.decreases = 0
        self._credit = 0.0
        self._last_decrease = -math.inf
        self._conditions: dict[asyncio.AbstractEventLoop, asyncio.Condition] = {}

    def _condition(self) -> asyncio.Condition:
        loop = asyncio.get_running_loop()  # a condition belongs to one event loop
        if loop not in self._conditions:
            self._conditions[loop] = asyncio.Condition()
        return self._conditions[loop]

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        condition = self._condition()
        async with condition:
            await condition.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
        self.calls += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            yield
        finally:
            async with condition:
                self.in_flight -= 1
                condition.notify()

    def observe(self, status: int) -> None:
        """One HTTP response's status (thread-safe enough: plain int updates)."""
        if not self.adaptive:
            return
        if status == 429:
            self.throttled += 1
            now = time.monotonic()
            if now - self._last_decrease >= self.cooldown:
                self._last_decrease = now
                self.limit = max(1, self.limit // 2)
                self.decreases += 1
                self._credit = 0.0
        elif status < 400 and self.limit < self.ceiling:
            self._credit += 1 / self.limit
            if self._credit >= 1:
                self._credit -= 1
                self.limit += 1
                self._wake()

    def _wake(self) -> None:
        for loop, condition in list(self._conditions.items()):
            if loop.is_closed():
                continue

            async def notify(c: asyncio.Condition = condition) -> None:
                async with c:
                    c.notify_all()

            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                loop.create_task(notify())
            else:
                asyncio.run_coroutine_threadsafe(notify(), loop)


def observe_response(status: int) -> None:
    """Tell the limit in force (if any) how an LLM call's HTTP response came back."""
    limit = _current.get()
    if limit is not None:
        limit.observe(status)


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
