"""A domain added from a folder outside the package, through the same registry, works
everywhere: environments, the CLI, and a whole pipeline run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.environments import Environment, domain_names, get_domain
from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.report import run_report
from apigen_mt.runs import open_run
from apigen_mt.store import RunStore
from apigen_mt.testing.scripted_roles import OracleRoles


@pytest.fixture(scope="module")
def tinyshop():
    sys.path.insert(0, str(Path(__file__).parent / "domains"))
    try:
        import tinyshop  # noqa: F401  (registers the domain on import)
    finally:
        sys.path.pop(0)
    return get_domain("tinyshop")


def test_the_domain_is_registered_and_listed(tinyshop, cache_dir):
    assert "tinyshop" in domain_names()
    result = CliRunner().invoke(app, ["domains", "show", "tinyshop", "--json",
                                      "--cache-dir", str(cache_dir)])  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert {t["name"]: t["writes"] for t in shown["tools"]} == {
        "get_items": False,
        "return_item": True,
    }
    assert shown["tables"] == {"customers": 5, "items": 20}


async def test_a_pipeline_runs_on_it(tinyshop, cache_dir):
    def propose(records):
        delivered = [i for i, s in records["items"].items() if s == "delivered"]
        item = (delivered or list(records["items"]))[0]
        return {
            "reasoning": "",
            "user_id": records["user_id"],
            "instruction": f"You are {records['user_id']} and want to return {item}.",
            "actions": [{"name": "return_item", "arguments": {"item_id": item}}],
            "outputs": [],
        }

    env = Environment.generated("tinyshop", seed=0, cache_dir=cache_dir)
    store = RunStore()
    run_id, config, _ = open_run(store, PipelineConfig(domain="tinyshop", n=6, best_of_n=1))
    ctx = PipelineContext(
        env=env,
        store=store,
        models=OracleRoles(propose=propose).chat_models(),
        config=config,
        run_id=run_id,
    )
    await run_pipeline(ctx)
    report = run_report(store, run_id)
    assert report.adds_up() and report.funnel["trajectories_unique"] > 0
