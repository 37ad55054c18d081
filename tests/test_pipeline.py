"""The whole pipeline, driven by scripted oracle roles: funnel, shared call limit, resume."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections import Counter

import pytest

from apigen_mt.graphs import blueprint as blueprint_module
from apigen_mt.graphs import pipeline as pipeline_module
from apigen_mt.graphs.pipeline import PipelineContext, build_pipeline_graph, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.report import run_report
from apigen_mt.runs import open_run
from apigen_mt.store import RunStore
from apigen_mt.testing.scripted_roles import OracleRoles

ADDRESS = {
    "address1": "1 Main St",
    "address2": "",
    "city": "Springfield",
    "state": "IL",
    "country": "USA",
    "zip": "62701",
}


def make_ctx(env, store, *, models=None, progress=None, **config):
    cfg = PipelineConfig(domain="retail", **{"n": 12, "best_of_n": 1, **config})
    run_id, cfg, _ = open_run(store, cfg)
    return PipelineContext(
        env=env,
        store=store,
        models=models or OracleRoles().chat_models(),
        config=cfg,
        run_id=run_id,
        progress=progress,
    )


def no_duplicates(store: RunStore, run_id: str) -> None:
    rows = store.blueprints(run_id)
    assert not [k for k, c in Counter((b["attempt"], b["round"]) for b in rows).items() if c > 1]
    contexts = store.db.execute(
        "SELECT attempt, count(*) FROM contexts WHERE run_id = ? GROUP BY attempt HAVING "
        "count(*) > 1",
        [run_id],
    ).fetchall()
    assert contexts == []
    trajectories = store.run_trajectories(run_id)
    assert len({(t["task_id"], t["attempt"]) for t in trajectories}) == len(trajectories)


async def test_a_run_goes_from_contexts_to_verified_trajectories(retail_env, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    seen = []
    ctx = make_ctx(retail_env, store, progress=lambda stage, count: seen.append(stage))
    final = await run_pipeline(ctx)

    assert final["status"] == "finished" and store.run(ctx.run_id)["status"] == "finished"
    report = run_report(store, ctx.run_id)
    f = report.funnel
    assert f["attempts"] == 12 and report.adds_up()
    assert 0 < f["attempts_accepted"] < 12  # users without a pending order are rejected
    assert f["passed_execution"] == f["accepted_blueprints"]  # reviewers approve everything
    assert f["dialogues"] == 3 * (f["accepted_blueprints"] + f["recombined_accepted"])
    # The oracle agent always succeeds; its three trials per task are identical.
    assert f["dialogues_accepted"] == f["dialogues"]
    assert f["trajectories_unique"] == f["accepted_blueprints"] + f["recombined_accepted"]
    assert report.blueprint_outcomes.get("rejected") == f["attempts_rejected"]
    # The cause is kept (τ-bench's own error text), the particulars (which order) are not.
    assert report.top_rejection_reasons[0][0] == (
        "execution: cancel_pending_order failed: Error: non-pending order cannot be cancelled"
    )
    # Tokens are recorded per stage and role, from the callbacks of every call.
    assert {"propose", "committee", "feedback", "dialogue"} <= set(report.tokens_by_stage)
    assert report.tokens_by_role["reviewer"].calls == f["proposed"] * 3 - _uncommitteed(f)
    assert report.total.cost == 0 and report.cost_per_trajectory == 0
    assert {"blueprints", "recombinations", "dialogues"} <= set(seen)
    no_duplicates(store, ctx.run_id)


def _uncommitteed(f: dict) -> int:
    """Committee calls are made only for proposals that passed the policy check."""
    return (f["proposed"] - f["passed_policy"]) * 3


async def test_every_llm_call_shares_one_limit(retail_env):
    oracle = OracleRoles()
    models = oracle.chat_models(delay=0.02)
    ctx = make_ctx(retail_env, RunStore(), models=models, n=16, concurrency=3, best_of_n=2)
    await run_pipeline(ctx)
    assert ctx.limit.calls > 50
    # Committees fan out to 3 judges and best-of-N to 2 users, across 32 units in flight:
    # without the shared limit far more than 3 calls would overlap.
    assert ctx.limit.peak == 3


async def test_resume_discards_partial_units_and_skips_finished_ones(retail_env, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    oracle = OracleRoles()
    ctx = make_ctx(retail_env, store, models=oracle.chat_models(delay=0.005), concurrency=4)
    task = asyncio.ensure_future(run_pipeline(ctx))
    while sum(v == "done" for v in store.unit_status(ctx.run_id).values()) < 4:
        await asyncio.sleep(0.01)
    task.cancel()  # the closest thing to a kill inside one process
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.run(ctx.run_id)["status"] == "interrupted"
    before = store.unit_status(ctx.run_id)
    kept = {
        b["id"]: b["created_at"]
        for b in store.blueprints(ctx.run_id)
        if before.get(f"attempt:{b['attempt']}") == "done"
    }
    assert "started" in before.values() and kept

    resumed = make_ctx(retail_env, store, models=oracle.chat_models())
    assert resumed.run_id == ctx.run_id  # an unfinished run with the same settings
    await run_pipeline(resumed)
    assert resumed.runner.counts["blueprints"].skipped == sum(
        v == "done" and k.startswith("attempt:") for k, v in before.items()
    )
    after = {b["id"]: b["created_at"] for b in store.blueprints(ctx.run_id)}
    assert all(after.get(i) == t for i, t in kept.items())  # finished work untouched
    no_duplicates(store, ctx.run_id)
    assert set(store.unit_status(ctx.run_id).values()) == {"done"}
    assert run_report(store, ctx.run_id).adds_up()


async def test_target_keeps_going_in_batches_within_the_budget(retail_env):
    ctx = make_ctx(retail_env, RunStore(), n=4, target=6, max_attempts=40, trials=1)
    final = await run_pipeline(ctx)
    report = run_report(ctx.store, ctx.run_id)
    assert report.funnel["trajectories_unique"] >= 6
    assert final["attempts"] % 4 == 0 and final["attempts"] < 40
    unreachable = make_ctx(retail_env, RunStore(), n=4, target=10_000, max_attempts=8, trials=1)
    assert (await run_pipeline(unreachable))["attempts"] == 8  # the budget ends it


async def test_a_unit_that_crashes_is_recorded_and_the_run_goes_on(retail_env, monkeypatch):
    real = pipeline_module.run_dialogue
    calls = Counter()

    async def flaky(ctx, task_id, trial, graph, config):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return await real(ctx, task_id, trial, graph, config)

    monkeypatch.setattr(pipeline_module, "run_dialogue", flaky)
    ctx = make_ctx(retail_env, RunStore())
    await run_pipeline(ctx)
    [failed] = ctx.store.failed_units(ctx.run_id)
    assert failed["key"].startswith("dialogue:") and "disk on fire" in failed["reason"]
    assert run_report(ctx.store, ctx.run_id).failed_units == 1


async def test_recombination_merges_accepted_blueprints_of_one_user(retail_env, monkeypatch):
    # Only two distinct contexts (two users), so every user has several accepted blueprints.
    real = blueprint_module.sample_context
    monkeypatch.setattr(
        blueprint_module,
        "sample_context",
        lambda env, graph, examples, rng, users=None, user=None: real(
            env, graph, examples, random.Random(rng.random() < 0.5)
        ),
    )

    def propose_two(records):
        # Two kinds of blueprint per user: cancel their pending order, or move house.
        user, flip = records["user_id"], next(turns)
        pending = [o for o, v in records["orders"].items() if v["status"] == "pending"]
        if flip or not pending:
            action = {"name": "modify_user_address", "arguments": {"user_id": user, **ADDRESS}}
        else:
            action = {
                "name": "cancel_pending_order",
                "arguments": {"order_id": pending[0], "reason": "no longer needed"},
            }
        return {
            "reasoning": "",
            "user_id": user,
            "instruction": f"You are {user}; {action['name']} please.",
            "actions": [action],
            "outputs": [],
        }

    turns = itertools.cycle([False, True])
    oracle = OracleRoles(propose=propose_two)
    store = RunStore()
    ctx = make_ctx(retail_env, store, models=oracle.chat_models(), n=8, recombine_rate=1.0)
    await run_pipeline(ctx)
    recombined = [b for b in store.blueprints(ctx.run_id) if b["kind"] == "recombined"]
    report = run_report(store, ctx.run_id)
    assert report.funnel["recombinations"] == len(recombined)
    assert len(recombined) == report.funnel["accepted_blueprints"]  # rate 1.0
    for b in recombined:
        assert b["attempt"] < 0 and len(b["parents"]) >= 2
        assert b["status"] == "accepted" or b["reasons"]
    # Accepted recombinations are longer tasks that get dialogues of their own.
    assert report.funnel["recombined_accepted"] > 0
    assert any(len(b["data"]["actions"]) >= 2 for b in recombined if b["status"] == "accepted")
    dialogues = {t["task_id"] for t in store.run_trajectories(ctx.run_id)}
    assert {f"t-{b['id']}" for b in recombined if b["status"] == "accepted"} <= dialogues


def test_the_pipeline_graph_has_its_phases_as_nodes():
    nodes = set(build_pipeline_graph().get_graph().nodes)
    assert {"start", "blueprint_attempts", "recombinations", "dialogues", "finish"} <= nodes


def test_config_rejects_a_budget_without_a_target():
    with pytest.raises(ValueError, match="max-attempts"):
        PipelineConfig(domain="retail", n=3, max_attempts=5)
    assert PipelineConfig(domain="retail", n=3, target=2).attempt_budget == 30
    assert json.dumps(PipelineConfig(domain="retail").identity())


async def test_progress_sees_each_attempt_move_through_rounds_and_stages(retail_env):
    """The display learns where attempts are within their rounds, not only when they end."""

    class Watcher:
        def __init__(self):
            self.where: list[tuple[int, int, str]] = []

        def __call__(self, stage, count):
            pass

        def attempt_at(self, attempt, round, stage):
            self.where.append((attempt, round, stage))

    watcher = Watcher()
    store = RunStore()
    ctx = make_ctx(retail_env, store, progress=watcher)
    await run_pipeline(ctx)
    stages = [s for _, _, s in watcher.where]
    assert {"propose", "format", "execution", "policy"} <= set(stages)
    assert "committee" in stages and "" in stages  # an accepted one reached the vote, ended
    assert "feedback" in stages  # a rejected first round went to feedback
    assert max(r for _, r, _ in watcher.where) >= 2  # and on to round 2
    attempts = {a for a, _, _ in watcher.where}
    ended = {a for a, _, s in watcher.where if s == ""}
    assert ended == attempts  # every attempt's last word is "done"


def test_the_bars_show_attempts_in_flight():
    from rich.console import Console

    from apigen_mt.cli.running import StageBars

    bars = StageBars(Console(record=True, width=120))
    bars.attempt_at(3, 2, "committee")
    bars.attempt_at(5, 1, "propose")
    line = bars.bars.tasks[-1].description
    assert line == "in flight: #3 round 2 at committee; #5 round 1 at propose"
    bars.attempt_at(3, 2, "")
    assert bars.bars.tasks[-1].description == "in flight: #5 round 1 at propose"
