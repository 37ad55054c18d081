"""Stage-1 validation: format, execution and policy checks over a stored blueprint.

Each check returns failure reasons (empty when it passes). Extra stages registered by
users have the same shape: `fn(blueprint, env) -> list[str]`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from pydantic import ValidationError

from apigen_mt.agents import Blueprint
from apigen_mt.environments import Environment, check_policy, render_diff
from apigen_mt.environments.calculator import evaluate
from apigen_mt.tools import ToolError, ToolUnavailable

Stage = Callable[[Blueprint, Environment], list[str]]
# An expected output is an exact short value the agent must say (a number, an id, a name):
# τ-bench's verifier looks for it in the agent's words lower-cased with commas removed, so an
# output with a comma can never match, and a sentence will not be said word for word.
MAX_OUTPUT_WORDS = 4
_STAGES: dict[str, Stage] = {}


def register_stage(name: str, stage: Stage) -> None:
    """An extra validation stage run after the policy check, in registration order."""
    _STAGES[name] = stage


def registered_stages() -> dict[str, Stage]:
    return dict(_STAGES)


def parse_blueprint(data: dict | None) -> Blueprint | None:
    try:
        return Blueprint.model_validate(data) if data is not None else None
    except ValidationError:
        return None


def format_check(bp: Blueprint, env: Environment, user_id: str | None = None) -> list[str]:
    tools = env.domain.tools
    reasons = []
    if not bp.instruction.strip():
        reasons.append("format: the instruction is empty")
    if user_id and bp.user_id != user_id:
        reasons.append(f"format: user_id {bp.user_id!r} is not the sampled user {user_id!r}")
    if not bp.actions:
        reasons.append("format: there are no actions")
    user_tools = env.domain.user_tools
    for i, action in enumerate(bp.actions):
        side = user_tools if action.requestor == "user" else tools
        if side is None:
            reasons.append(f"format: action {i}: the user has no tools in this domain")
            continue
        if action.name not in side:
            other = tools if side is user_tools else user_tools
            if other is not None and action.name in other:
                whose = "the agent's" if other is tools else "the user's"
                reasons.append(
                    f"format: action {i}: {action.name!r} is {whose} tool, not "
                    f"the {action.requestor}'s (who may call what: requestor)"
                )
            else:
                reasons.append(f"format: action {i} uses unknown tool {action.name!r}")
            continue
        try:
            side[action.name].validate(action.arguments)
        except ToolError as exc:
            reasons.append(f"format: action {i}: {exc}")

    def writes(a) -> bool:
        side = user_tools if a.requestor == "user" else tools
        return side is not None and a.name in side and side[a.name].writes

    if bp.actions and not any(writes(a) for a in bp.actions):
        reasons.append("format: no action changes the database (a task needs at least one write)")
    reasons += output_format_reasons(bp.outputs)
    for c in bp.computations:
        if c.output not in bp.outputs:
            reasons.append(f"format: computation for {c.output!r}, which is not an output")
    return reasons


def output_format_reasons(outputs: list[str]) -> list[str]:
    """Why expected outputs cannot be matched by the verifier ([] when they can)."""
    reasons = []
    for o in outputs:
        if not o.strip():
            reasons.append("format: an expected output is empty")
        elif "," in o:
            reasons.append(
                f"format: output {o!r} has a comma; the verifier removes commas from the "
                "agent's words, so it can never match (write 1234.50, not 1,234.50)"
            )
        elif len(o.split()) > MAX_OUTPUT_WORDS:
            reasons.append(
                f"format: output {o!r} is longer than {MAX_OUTPUT_WORDS} words; outputs are "
                "exact short values (numbers, ids, names), not sentences"
            )
    return reasons


def _tools_unavailable_as_reason(stage: str, empty: tuple = ()):
    """A world's tool server that fails (start, timeout, death) fails the check with that
    reason instead of ending the run."""

    def wrap(check):
        @functools.wraps(check)
        def run(*args, **kwargs):
            try:
                return check(*args, **kwargs)
            except ToolUnavailable as exc:
                reasons = [f"{stage}: the tools could not be run: {exc}"]
                return (reasons, *empty) if empty else reasons

        return run

    return wrap


@_tools_unavailable_as_reason("execution", empty=([], ""))
def execution_check(
    bp: Blueprint, env: Environment, prepare=None, then=None
) -> tuple[list[str], list[dict], str]:
    """Run the actions in a sandbox (set up by `prepare`, a τ² task's initial state):
    reasons, the row-level diff from the initial state, and its rendering. `then(sandbox)`
    gives more reasons from the state the actions reached (a scene's assertions)."""
    with env.sandbox() as sandbox, env.sandbox() as start:
        if prepare is not None:
            prepare(sandbox)
            prepare(start)
        trace = sandbox.run([a.model_dump() for a in bp.actions])
        reasons = [
            f"execution: action {e.index} ({e.name}) failed: {e.observation}"
            for e in trace
            if not e.ok
        ]
        reasons += [
            f"execution: action {i} ({trace[i].name}) is classified as a read but changed "
            "the database (list it in the world's `writes`, or fix the tool)"
            for i in sandbox.executor.undeclared_writes
        ]
        changes = sandbox.diff(start) if prepare is not None else sandbox.diff()
        if not reasons and then is not None:
            reasons += then(sandbox)
    if not reasons and not changes:
        reasons.append("execution: the actions change nothing in the database")
    return reasons, [c.model_dump() for c in changes], render_diff(changes)


@_tools_unavailable_as_reason("outputs")
def outputs_check(
    bp: Blueprint, env: Environment, stage: str = "execution", prepare=None
) -> list[str]:
    """Each expected output must occur in what the gold calls return, compared as τ-bench's
    verifier compares the agent's words (lower-cased, commas removed) — or be computed:
    its expression, over numbers that occur there, must give it."""
    with env.sandbox() as sandbox:
        if prepare is not None:
            prepare(sandbox)
        trace = sandbox.run([a.model_dump() for a in bp.actions])
    seen = " ".join(_norm(e.observation) for e in trace)
    how = {c.output: c.expression for c in bp.computations}
    reasons = []
    for o in bp.outputs:
        if _norm(o) in seen:
            continue
        if o not in how:
            reasons.append(
                f"{stage}: output {o!r} does not occur in what the calls return (if it is "
                "computed, e.g. a total, give its expression in computations)"
            )
            continue
        problem = _recompute(o, how[o], seen)
        if problem:
            reasons.append(f"{stage}: output {o!r}: {problem}")
    return reasons


def _recompute(output: str, expression: str, seen: str) -> str:
    try:
        value = float(evaluate(expression))
        wanted = float(output)
    except (ToolError, ValueError):
        return f"expression {expression!r} does not give a number"
    if abs(value - wanted) > 0.005:
        return f"expression {expression!r} gives {value:g}, not {output}"
    numbers = {float(t) for t in re.findall(r"\d+(?:\.\d+)?", seen)}
    unseen = [n for n in re.findall(r"\d+(?:\.\d+)?", expression) if float(n) not in numbers]
    if unseen:
        return f"numbers {unseen} of {expression!r} do not occur in what the calls return"
    return ""


def _norm(text: str) -> str:
    return text.lower().replace(",", "")


@_tools_unavailable_as_reason("policy")
def policy_check(bp: Blueprint, env: Environment) -> list[str]:
    with env.sandbox() as sandbox:
        report = check_policy(
            sandbox.executor,
            [a.model_dump() for a in bp.actions],
            env.domain.rules,
            user_id=bp.user_id,
            blueprint=True,
        )
    return [
        f"policy [{v.rule}]: action {v.action_index} ({v.tool}): {v.message}"
        for v in report.violations
    ]
