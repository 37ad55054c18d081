"""Generation on a τ² domain: offline (the v1 generator's seeded data, no τ² files), phase 1
and phase 2 run against τ²'s tools and policy, and the exported rows carry τ²'s policy."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from apigen_mt.environments import Environment, get_domain
from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.report import run_report
from apigen_mt.runs import STORE_FILE, open_run
from apigen_mt.store import RunStore
from apigen_mt.testing.scripted_roles import OracleRoles


def test_tau2_retail_generates_verified_dialogues_offline(tmp_path, cache_dir, monkeypatch):
    monkeypatch.delenv("TAU2_DATA_DIR", raising=False)
    store = RunStore(tmp_path / STORE_FILE)
    env = Environment.for_data("tau2-retail", cache_dir=cache_dir)  # no τ² data: generated
    run_id, config, _ = open_run(
        store, PipelineConfig(domain="tau2-retail", n=4, best_of_n=1, recombine_rate=0)
    )
    models = OracleRoles("retail").chat_models()
    asyncio.run(
        run_pipeline(
            PipelineContext(env=env, store=store, models=models, config=config, run_id=run_id)
        )
    )
    funnel = run_report(store, run_id).funnel
    assert funnel["accepted_blueprints"] >= 2 and funnel["dialogues_accepted"] >= 2
    agent_prompt = env.domain.policy
    assert agent_prompt.startswith("# Retail agent policy")  # τ²'s own policy text
    assert "get_item_details" in get_domain("tau2-retail").tools.names
    assert "think" not in get_domain("tau2-retail").tools.names
    # the kept tasks as a τ² task file, scored as τ²'s retail tasks are; replay reads it
    from typer.testing import CliRunner

    from apigen_mt.cli import app
    from apigen_mt.export import export_run

    result = export_run(store, run_id, "tau2-tasks", tmp_path / "exports")
    tasks = json.loads(Path(result["path"]).read_text())
    assert len(tasks) == result["rows"] >= 2
    for task in tasks:
        criteria = task["evaluation_criteria"]
        assert criteria["reward_basis"] == ["DB", "COMMUNICATE"] and criteria["actions"]
    replay = CliRunner().invoke(app, ["replay", "--domain", "tau2-retail", "--tasks",
                                      result["path"], "--cache-dir", str(cache_dir)])  # fmt: skip
    assert replay.exit_code == 0, replay.output
