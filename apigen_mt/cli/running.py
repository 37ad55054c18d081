"""What `generate` and `eval` share: progress bars, interruption, the embedded model's
concurrency cap and one-line error messages."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from apigen_mt.graphs.units import StageCount
from apigen_mt.settings import ModelSettings

EMBEDDED_CONCURRENCY = 2
LABELS = {
    "blueprints": "phase 1: blueprint attempts",
    "recombinations": "phase 1: recombinations",
    "dialogues": "phase 2: dialogues",
    "trials": "evaluation trials",
}
C = TypeVar("C", bound=BaseModel)
PIPED_WIDTH = 160  # columns when output is not a terminal (rich would wrap at 80)


def console_for(stderr: bool = False) -> Console:
    """A console that wraps at the terminal's width, and, when piped or logged, at
    $COLUMNS or 160 rather than rich's 80 (which cut reasons and bars mid-word)."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    width = int(os.environ.get("COLUMNS") or PIPED_WIDTH)
    return Console(stderr=stderr, width=width)


class StageBars:
    """A rich progress bar per stage, fed by the unit runner's counts."""

    def __init__(self, console: Console):
        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("accepted {task.fields[accepted]}  failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
        )
        self.tasks: dict[str, Any] = {}
        self._status: Any = None
        self._limit: Any = None  # a CallLimit to show beside the bars
        self._where: dict[int, tuple[int, str]] = {}  # attempt -> (round, stage) in flight
        self._stages: Any = None

    def attempt_at(self, attempt: int, round: int, stage: str) -> None:
        """Where each attempt in flight is: a line under the bars ("" = the attempt is
        done), so a run shows movement within attempts, not only per finished one."""
        if stage:
            self._where[attempt] = (round, stage)
        else:
            self._where.pop(attempt, None)
        shown = sorted(self._where.items())[:4]
        text = "; ".join(f"#{a} round {r} at {s}" for a, (r, s) in shown)
        more = len(self._where) - len(shown)
        if self._stages is None:
            self._stages = self.bars.add_task("", total=None, accepted="", failed="")
        line = f"in flight: {text}{f' (+{more})' if more > 0 else ''}" if text else ""
        self.bars.update(self._stages, description=line)

    def watch(self, limit: Any) -> None:
        """Show this run's LLM call limit (it shrinks on 429s and grows back)."""
        self._limit = limit

    def status(self, text: str) -> None:
        """A line under the bars: workers, calls in flight, the adaptive limit."""
        if self._status is None:
            self._status = self.bars.add_task(text, total=None, accepted="", failed="")
        self.bars.update(self._status, description=text)

    def __enter__(self) -> StageBars:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def __call__(self, stage: str, count: StageCount) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bars.add_task(
                LABELS.get(stage, stage), total=count.total, accepted=0, failed=0
            )
        self.bars.update(
            self.tasks[stage],
            total=count.total,
            completed=count.done + count.skipped + count.failed,
            accepted=count.accepted,
            failed=count.failed,
        )
        if self._limit is not None:
            lim = self._limit
            self.status(
                f"LLM calls in flight {lim.in_flight}, limit {lim.limit} of {lim.ceiling} "
                f"(adapts to 429s: {lim.throttled} seen)"
            )


def capped_for(settings: ModelSettings, config: C, console: Console) -> C:
    """Each embedded server answers one request at a time; a deep queue only makes calls
    wait past their timeout, so embedded runs use at most two calls in flight."""
    if settings.embedded and config.concurrency > EMBEDDED_CONCURRENCY:  # type: ignore[attr-defined]
        console.print(f"Embedded model: concurrency {EMBEDDED_CONCURRENCY}.")
        return config.model_copy(update={"concurrency": EMBEDDED_CONCURRENCY})
    return config


def run_to_end(
    work: Callable[[], Awaitable[Any]],
    console: Console,
    resume_hint: str,
    on_interrupt: Callable[[], None],
) -> Any:
    """Run `work()`; Ctrl-C or SIGTERM end it with `on_interrupt()` (mark the run) and the
    command that resumes it, exit status 130. The interrupt can land outside the graph's
    tasks, so the graph's own handler cannot be relied on to mark the run."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return asyncio.run(work())
    except KeyboardInterrupt:
        on_interrupt()
        console.print(f"Interrupted. Resume with: {resume_hint}")
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def first_line(exc: Exception) -> str:
    """A bad-input error as one line (pydantic errors as `field: message; ...`)."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
