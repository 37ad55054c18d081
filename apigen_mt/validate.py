"""A linter for task sets: phase 1's deterministic stages over a τ-bench-shaped task file.

For each task (`{user_id, instruction, actions, outputs}`), in order, stopping at the first
stage it fails:

- **format**: an instruction, known tools with valid arguments, at least one write, and
  expected outputs the verifier can match (short exact values: no comma, at most
  `MAX_OUTPUT_WORDS` words — τ-bench's test removes commas from the agent's words only);
- **execution**: every gold call succeeds in a fresh sandbox and the database changes;
- **policy**: the gold actions break none of the domain's executable rules;
- **outputs**: each expected output occurs (lower-cased, commas removed, as the verifier
  compares) in the observations of the gold calls, or is computed: the task's optional
  `computations` (`[{output, expression}]`) give its arithmetic over numbers that occur
  there. τ-bench's own files carry no computations, so their totals fail here, named.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from apigen_mt.agents import Action, Blueprint
from apigen_mt.environments import Environment
from apigen_mt.environments.taubench import TaubenchTask, run_setup
from apigen_mt.graphs.checks import execution_check, format_check, outputs_check, policy_check

STAGES = ("format", "execution", "policy", "outputs")


class TaskVerdict(BaseModel):
    index: int
    user_id: str
    failed_stage: str | None  # None: passed every stage
    reasons: list[str]

    @property
    def passed(self) -> bool:
        return self.failed_stage is None


class ValidationSummary(BaseModel):
    tasks: int
    passed: int
    stages: dict[str, int]  # tasks that passed every stage up to and including this one


def validate_tasks(env: Environment, tasks: list[TaubenchTask]) -> list[TaskVerdict]:
    return [_validate(env, i, task) for i, task in enumerate(tasks)]


def summarize(verdicts: list[TaskVerdict]) -> ValidationSummary:
    reached = {stage: 0 for stage in STAGES}
    for v in verdicts:
        last = STAGES.index(v.failed_stage) if v.failed_stage else len(STAGES)
        for stage in STAGES[:last]:
            reached[stage] += 1
    return ValidationSummary(
        tasks=len(verdicts), passed=sum(v.passed for v in verdicts), stages=reached
    )


def _validate(env: Environment, index: int, task: TaubenchTask) -> TaskVerdict:
    try:
        bp = Blueprint(
            reasoning="",
            user_id=task.user_id or "",
            instruction=task.instruction,
            actions=[
                Action(name=a.name, arguments=a.arguments, requestor=a.requestor)
                for a in task.actions
            ],
            outputs=task.outputs,
            computations=task.computations,
        )
    except ValidationError as exc:
        reason = f"format: computations must be [{{output, expression}}]: {exc.errors()[0]['msg']}"
        return TaskVerdict(
            index=index, user_id=task.user_id or "", failed_stage="format", reasons=[reason]
        )
    # a τ² task's initialization actions set the scene first (both sides, telecom)
    prepare = (lambda sandbox: run_setup(sandbox, task)) if task.tau2 else None
    checks = {
        "format": lambda: format_check(bp, env),
        "execution": lambda: execution_check(bp, env, prepare)[0],
        "policy": lambda: policy_check(bp, env),
        "outputs": lambda: outputs_check(bp, env, "outputs", prepare),
    }
    for stage in STAGES:
        reasons = checks[stage]()
        if reasons:
            return TaskVerdict(index=index, user_id=bp.user_id, failed_stage=stage, reasons=reasons)
    return TaskVerdict(index=index, user_id=bp.user_id, failed_stage=None, reasons=[])
