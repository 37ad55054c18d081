"""Units of work with exactly-once results across kills and resumes.

A unit (one blueprint attempt, one recombination, one dialogue trial) is marked `started`
before it writes anything and `done` after its last write. On a rerun, done units are
skipped and started ones have their partial rows discarded first, so a SIGKILL at any
moment loses nothing accepted and duplicates nothing. This is the run store's job rather
than a LangGraph checkpointer's: the store rows *are* the results, a unit is short, and
a checkpoint per superstep would replay a node whose store writes already happened.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from apigen_mt.store import RunStore

Progress = Callable[[str, "StageCount"], None]


def unit_config(config: dict, name: str, key: str) -> dict:
    """Config for a unit's graph: nested under the calling node in traces, tagged with the
    unit's key."""
    return {
        "callbacks": config.get("callbacks"),
        "run_name": name,
        "metadata": {"apigen_unit": key},
    }


@dataclass
class StageCount:
    total: int = 0
    done: int = 0
    skipped: int = 0  # done by an earlier process
    failed: int = 0
    accepted: int = 0


@dataclass
class UnitRunner:
    store: RunStore
    run_id: str
    limit: int  # units in flight (each waits for LLM slots separately)
    progress: Progress | None = None
    counts: dict[str, StageCount] = field(default_factory=dict)

    async def run(
        self, stage: str, units: list[tuple[str, Callable[[], Awaitable[bool]]]]
    ) -> StageCount:
        """Run `(key, work)` pairs; `work()` returns whether the unit's result was accepted."""
        count = self.counts.setdefault(stage, StageCount())
        count.total += len(units)
        status = self.store.unit_status(self.run_id)
        gate = asyncio.Semaphore(self.limit)

        async def one(key: str, work: Callable[[], Awaitable[bool]]) -> None:
            if status.get(key) == "done":
                count.skipped += 1
                self._report(stage, count)
                return
            async with gate:
                if key in status:
                    self.store.discard_partial(self.run_id, key)
                self.store.mark_unit(self.run_id, key, "started")
                try:
                    accepted = await work()
                except Exception as exc:  # a bug in one unit must not end the run
                    reason = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
                    self.store.mark_unit(self.run_id, key, "failed", reason)
                    count.failed += 1
                else:
                    self.store.mark_unit(self.run_id, key, "done")
                    count.done += 1
                    count.accepted += int(bool(accepted))
            self._report(stage, count)

        await asyncio.gather(*(one(k, w) for k, w in units))
        return count

    def _report(self, stage: str, count: StageCount) -> None:
        if self.progress:
            self.progress(stage, count)
