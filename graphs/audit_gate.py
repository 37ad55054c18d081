"""`generate --audit k`: before an accepted blueprint's training dialogues, k solver
dialogues on a copy of its task (kept out of the run's data); a blueprint whose task is
flagged (unsolved, ambiguous, a deterministic defect) becomes `audit_failed`, with the
flags as its reasons, and gets no training dialogues. Solve rates go to the `audits` table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.runnables import RunnableConfig

from .audit import judge_task
from .dialogue import run_dialogue
from .units import unit_config


def audit_run_id(run_id: str) -> str:
    """Where a run's audit dialogues live: their own run id, so exports and reports of the
    run never see them."""
    return f"{run_id}/audit"


async def audit_gate(
    ctx, blueprints: list[dict[str, Any]], task_for: Callable, config: RunnableConfig
) -> list[dict[str, Any]]:
    k, run_id = ctx.config.audit, ctx.run_id
    tasks = {}
    for b in blueprints:
        data = ctx.store.task(task_for(ctx, b))
        tasks[b["id"]] = ctx.store.save_task(
            {**data, "source": b["id"]}, b["id"], run_id=audit_run_id(run_id), id=f"a-{b['id']}"
        )

    def solver(task_id: str, i: int):
        async def work() -> bool:
            key = f"audit:{task_id}:{i}"
            final = await run_dialogue(
                ctx.phase2, task_id, i, ctx.graphs["dialogue"], unit_config(config, "audit", key)
            )
            return bool(final.get("accepted"))

        return work

    units = [(f"audit:{t}:{i}", solver(t, i)) for t in tasks.values() for i in range(k)]
    await ctx.runner.run("audits", units)
    model = getattr(ctx.phase2.assistant, "model_name", None) or "assistant"
    kept, results = [], []
    for b in blueprints:
        task_id = tasks[b["id"]]
        verdict = judge_task(
            ctx.env, b["id"], ctx.store.task(task_id), ctx.store.trajectories(task_id)
        )
        results.append(verdict.model_dump())
        if verdict.flags:
            ctx.store.update_blueprint(b["id"], status="audit_failed", reasons=verdict.flags)
        else:
            kept.append(b)
    ctx.store.save_audit(audit_run_id(run_id), str(model), results)
    return kept
