"""Policy rules as executable checks over an execution trace.

A rule looks at one call with the database as it was just before that call, the calls
before it and the task's user, and returns a human-readable reason when the call breaks
the policy. Rules also judge calls the tools refused: asking a tool to break the policy is
a violation even when the tool says no.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils
from pydantic import BaseModel

from apigen_mt.tools import ToolCall, ToolExecutor, TraceEntry


class Violation(BaseModel):
    rule: str
    action_index: int
    tool: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] action {self.action_index} ({self.tool}): {self.message}"


@dataclass
class RuleContext:
    db: sqlite_utils.Database  # the state just before the call
    call: ToolCall
    index: int
    history: list[TraceEntry]  # earlier calls of this trace, with their observations
    user_id: str | None  # the task's user; None when the task names none

    @property
    def args(self) -> dict[str, Any]:
        return self.call.arguments

    def earlier(self, *names: str, ok: bool | None = True) -> list[TraceEntry]:
        return [e for e in self.history if e.name in names and (ok is None or e.ok == ok)]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Callable[[RuleContext], str | None]
    tools: frozenset[str] | None = None  # None: every call
    blueprints: bool = True  # False: judged on dialogues only (e.g. authentication turns)


@dataclass
class RuleSet:
    rules: list[Rule] = field(default_factory=list)

    def rule(self, name: str, *, tools: Iterable[str] | None = None, blueprints: bool = True):
        """Decorator registering `fn(ctx) -> reason | None`; its docstring describes it."""

        def wrap(fn: Callable[[RuleContext], str | None]) -> Callable[[RuleContext], str | None]:
            if any(r.name == name for r in self.rules):
                raise ValueError(f"duplicate rule {name!r}")
            self.rules.append(
                Rule(
                    name=name,
                    description=(fn.__doc__ or name).strip(),
                    check=fn,
                    tools=None if tools is None else frozenset(tools),
                    blueprints=blueprints,
                )
            )
            return fn

        return wrap

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.rules]


class PolicyReport(BaseModel):
    violations: list[Violation]
    trace: list[TraceEntry]

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def rule_names(self) -> list[str]:
        return sorted({v.rule for v in self.violations})


def check_policy(
    executor: ToolExecutor,
    calls: Iterable[ToolCall | dict[str, Any]],
    ruleset: RuleSet,
    *,
    user_id: str | None,
    blueprint: bool = False,
) -> PolicyReport:
    """Execute `calls` on the executor's (fresh) sandbox, judging each against the rules."""
    violations: list[Violation] = []
    for raw in calls:
        call = raw if isinstance(raw, ToolCall) else ToolCall.model_validate(raw)
        ctx = RuleContext(
            db=executor.db,
            call=call,
            index=len(executor.trace),
            history=list(executor.trace),
            user_id=user_id,
        )
        for r in ruleset.rules:
            if (r.tools is not None and call.name not in r.tools) or (
                blueprint and not r.blueprints
            ):
                continue
            try:
                reason = r.check(ctx)
            except Exception as exc:  # malformed arguments must not crash the check
                reason = None if _is_argument_problem(exc) else f"rule failed: {exc!r}"
            if reason:
                violations.append(
                    Violation(rule=r.name, action_index=ctx.index, tool=call.name, message=reason)
                )
        executor.call(call.name, call.arguments)
    return PolicyReport(violations=violations, trace=executor.trace)


def _is_argument_problem(exc: Exception) -> bool:
    # Rules read arguments optimistically; a missing or mistyped argument is the format
    # check's business (and the tool's), not a policy verdict.
    return isinstance(exc, KeyError | TypeError | AttributeError | ValueError)
