"""Comparing our replays with τ-bench's recorded results (expected_test.json)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from .taubench import ReplayResult


class Mismatch(BaseModel):
    task_index: int
    step: int | None  # None: the final state
    expected: str
    got: str


class ParityReport(BaseModel):
    tasks: int
    steps: int
    mismatches: list[Mismatch]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def summary(self) -> str:
        head = f"parity: {self.tasks} tasks, {self.steps} steps, {len(self.mismatches)} mismatches"
        return "\n".join(
            [head]
            + [
                f"  task {m.task_index} step {m.step}: expected "
                f"{m.expected[:120]!r}, got {m.got[:120]!r}"
                for m in self.mismatches[:20]
            ]
        )


def observations_match(expected: str, got: str) -> bool:
    """JSON-equal where τ-bench's observation is JSON; an error for an error; else equal."""
    if expected.startswith("Error"):
        return got.startswith("Error")
    try:
        return json.loads(expected) == json.loads(got)
    except ValueError:
        return expected == got


def compare_with_expected(
    results: list[ReplayResult], expected: list[dict[str, Any]]
) -> ParityReport:
    mismatches, steps = [], 0
    by_index = {e["task_index"]: e for e in expected}
    for r in results:
        exp = by_index.get(r.task_index)
        if exp is None:
            mismatches.append(
                Mismatch(
                    task_index=r.task_index,
                    step=None,
                    expected="(no expected entry)",
                    got=r.data_hash,
                )
            )
            continue
        obs = [s["observation"] for s in exp["steps"]]
        steps += len(obs)
        if len(obs) != len(r.observations):
            mismatches.append(
                Mismatch(
                    task_index=r.task_index,
                    step=None,
                    expected=f"{len(obs)} steps",
                    got=f"{len(r.observations)} steps",
                )
            )
        for i, (e, g) in enumerate(zip(obs, r.observations, strict=False)):
            if not observations_match(e, g):
                mismatches.append(Mismatch(task_index=r.task_index, step=i, expected=e, got=g))
        if exp["taubench_data_hash"] != r.data_hash:
            mismatches.append(
                Mismatch(
                    task_index=r.task_index,
                    step=None,
                    expected=exp["taubench_data_hash"],
                    got=r.data_hash,
                )
            )
    return ParityReport(tasks=len(results), steps=steps, mismatches=mismatches)


def gold_policy_violations(env, tasks: list) -> dict[int, set[str]]:
    """Which tasks' gold actions break the domain's rules, and which rules: {index: names}."""
    from .rules import check_policy

    broken = {}
    for i, task in enumerate(tasks):
        with env.sandbox() as sandbox:
            report = check_policy(
                sandbox.executor,
                task.actions,
                env.domain.rules,
                user_id=task.user_id,
                blueprint=True,
            )
        if not report.ok:
            broken[i] = set(report.rule_names)
    return broken
