"""Quality figures of a dataset: exact numbers on hand-made tasks, the report's section
(terminal, --json, --plot) and near-duplicates left out of an export."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from test_export_trainers import capable_oracle
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.export import export_run
from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.quality import NearDuplicateFilter, distinct_n, quality_report
from apigen_mt.runs import STORE_FILE, open_run
from apigen_mt.store import RunStore

pytest.importorskip("datasketch")


def _task(user, instruction, *names, persona="a nurse who is brief"):
    return {
        "user_id": user,
        "instruction": instruction,
        "persona": persona,
        "actions": [{"name": n, "arguments": {"order_id": "#W1"}} for n in names],
    }


def _dialogue(user_turns: int, calls: int):
    messages = []
    for _ in range(user_turns):
        messages.append(HumanMessage("hi"))
        messages.append(
            AIMessage(
                "", tool_calls=[{"name": "t", "args": {}, "id": str(k)} for k in range(calls)]
            )
        )
        messages += [ToolMessage("ok", tool_call_id=str(k)) for k in range(calls)]
        messages.append(AIMessage("done"))
    return [*messages, HumanMessage("###STOP###")]


def test_figures_on_known_tasks():
    base = "You want order #W1 cancelled because you no longer need it at all"
    tasks = [
        _task("u1", base, "get_order_details", "cancel_pending_order"),
        _task("u1", base + " today", "cancel_pending_order", "get_order_details"),  # same multiset
        _task(
            "u2",
            "Change your address to 1 Main St",
            "modify_pending_order_address",
            persona="a chef",
        ),
    ]
    q = quality_report(
        tasks,
        [_dialogue(2, 1), _dialogue(3, 2)],
        tool_names=[
            "get_order_details",
            "cancel_pending_order",
            "modify_pending_order_address",
            "think",
        ],
        write_names=["cancel_pending_order", "modify_pending_order_address"],
    )
    assert q.tool_calls == {
        "get_order_details": 2,
        "cancel_pending_order": 2,
        "modify_pending_order_address": 1,
    }
    assert q.tools_unused == ["think"]
    assert (q.writes_per_task.mean, q.writes_per_task.min, q.writes_per_task.max) == (1, 1, 1)
    assert (q.user_turns.min, q.user_turns.max, q.user_turns.mean) == (2, 3, 2.5)
    assert (q.agent_tool_calls.min, q.agent_tool_calls.max) == (2, 6)  # per dialogue
    assert q.turns.max == 3 * 3  # user + agent messages, tool results not counted
    assert q.personas == {"a nurse": 2, "a chef": 1}  # who, not how they talk
    assert q.exact_duplicates == 1
    assert q.near_duplicates.available and q.near_duplicates.count == 1
    assert q.near_duplicates.examples == [(base, base + " today")]
    assert q.paper["tool_calls_mean"] == 7.0 and q.paper["user_turns_mean"] == 6.0
    assert q.distinct["distinct_1"] == distinct_n([t["instruction"] for t in tasks], 1)


def test_distinct_n_and_threshold_checks():
    assert distinct_n(["a b a b"], 1) == 0.5 and distinct_n(["a b a b"], 2) == round(2 / 3, 4)
    assert distinct_n([], 2) == 0.0
    with pytest.raises(ValueError, match="threshold"):
        NearDuplicateFilter(1.5)
    exact = NearDuplicateFilter(1.0)  # identical shingle sets only, looked up, not scanned
    assert exact.match("a", "Cancel order #W1 now") is None
    assert exact.match("b", "cancel order #w1, now") == "a"
    assert exact.match("c", "Cancel order #W2 now") is None


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, retail_env):
    out = tmp_path_factory.mktemp("quality")
    store = RunStore(out / STORE_FILE)
    run_id, config, _ = open_run(
        store, PipelineConfig(domain="retail", n=8, best_of_n=1, recombine_rate=0)
    )
    ctx = PipelineContext(
        env=retail_env,
        store=store,
        models=capable_oracle().chat_models(),
        config=config,
        run_id=run_id,
    )
    import asyncio

    asyncio.run(run_pipeline(ctx))
    return out, run_id, store


def test_report_has_a_quality_section_json_and_plots(run_dir, tmp_path):
    out, run_id, _ = run_dir
    runner = CliRunner()
    text = runner.invoke(
        app, ["report", run_id, "--out", str(out), "--plot", str(tmp_path / "plots")]
    )
    assert text.exit_code == 0, text.output
    assert "Quality" in text.output and "≈7" in text.output and "distinct-n" in text.output
    assert "cancel_pending_order" in text.output and "tools never used" in text.output
    assert sorted(p.name for p in (tmp_path / "plots").glob("*.png")) == [
        "agent_tool_calls.png", "tool_coverage.png", "user_turns.png", "writes_per_task.png",
    ]  # fmt: skip
    assert "Complexity:" in text.output and "writes aimed at (every attempt)" in text.output
    as_json = runner.invoke(app, ["report", run_id, "--out", str(out), "--json"])
    complexity = json.loads(as_json.stdout)["complexity"]
    assert sum(complexity["target_writes"].values()) == 8  # one per attempt
    assert set(complexity["target_writes"]) <= {"1", "2", "3", "4"}
    assert complexity["writes"] and complexity["rules_in_play"]
    quality = json.loads(as_json.stdout)["quality"]
    assert quality["tool_calls"]["cancel_pending_order"] >= 1
    assert quality["near_duplicates"]["threshold"] == 0.8 and "values" not in quality["turns"]


def test_export_leaves_near_duplicates_out_and_says_so(run_dir, tmp_path):
    out, run_id, store = run_dir
    unique = sum(t["accepted"] and not t["duplicate"] for t in store.run_trajectories(run_id))
    everything = export_run(store, run_id, "sharegpt", tmp_path / "all", dedup_threshold=1.0)
    assert everything["rows"] == unique and everything["near_duplicates_left_out"] == 0
    # The scripted instructions differ only in order ids: similar at a low threshold.
    result = export_run(store, run_id, "hf", tmp_path / "hf", dedup_threshold=0.3)
    assert 0 < result["near_duplicates_left_out"] < unique
    assert result["rows"] + result["near_duplicates_left_out"] == unique
    card = (tmp_path / "hf" / f"{run_id}-hf" / "README.md").read_text()
    assert f"Left out as near duplicates: {result['near_duplicates_left_out']} (" in card
    cli = CliRunner().invoke(
        app,
        [
            "export",
            run_id,
            "--out",
            str(out),
            "--dest",
            str(tmp_path / "c"),
            "--dedup-threshold",
            "0.3",
        ],
    )
    assert cli.exit_code == 0 and "left out as near duplicates" in cli.output
    bad = CliRunner().invoke(app, ["export", run_id, "--out", str(out), "--dedup-threshold", "2"])
    assert bad.exit_code == 2 and "threshold" in bad.output
