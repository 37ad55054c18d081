"""Exports: the APIGen-MT-5k ShareGPT shape, OpenAI messages, a loadable HF dataset, and
preference pairs."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from apigen_mt.export import accepted_rows, export_run
from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.runs import open_run
from apigen_mt.store import RunStore
from apigen_mt.testing.scripted_roles import OracleRoles


def second_trial_fails(oracle: OracleRoles):
    """The oracle agent, except that the second dialogue of each task gives the wrong
    cancellation reason (the database then differs from the gold one)."""
    respond, starts, lock = oracle.chat_responder(), Counter(), threading.Lock()

    def agent(messages, kwargs):
        reply = respond(messages, kwargs)
        users = [m for m in messages if m.type == "human"]
        if len(users) == 1 and not any(m.type == "tool" for m in messages):
            with lock:
                starts[users[0].content] += 1
        with lock:
            failing = starts[users[0].content] == 2 if users else False
        if failing and isinstance(reply, AIMessage) and reply.tool_calls:
            call = reply.tool_calls[0]
            reply.tool_calls[0] = {**call, "args": {**call["args"], "reason": "ordered by mistake"}}
        return reply

    return agent


@pytest.fixture(scope="module")
def run(retail_env):
    import asyncio

    oracle = OracleRoles()
    models = oracle.chat_models()
    models.assistant.responder = second_trial_fails(oracle)
    store = RunStore()
    config = PipelineConfig(domain="retail", n=10, best_of_n=1, recombine_rate=0)
    run_id, config, _ = open_run(store, config)
    ctx = PipelineContext(env=retail_env, store=store, models=models, config=config, run_id=run_id)
    asyncio.run(run_pipeline(ctx))
    return store, run_id


def test_sharegpt_rows_have_the_apigen_mt_5k_shape(run, retail_env):
    store, run_id = run
    rows = accepted_rows(store, run_id, "sharegpt")
    assert rows
    for row in rows:
        # APIGen-MT-5k's columns, plus the task's measured difficulty (null: no eval yet)
        assert set(row) == {"conversations", "system", "tools", "id", "pass_rate",
                            "pass_rate_model"}  # fmt: skip
        assert row["pass_rate"] is None and row["pass_rate_model"] is None
        assert row["system"] == retail_env.domain.policy
        tools = json.loads(row["tools"])
        assert {t["name"] for t in tools} == {t.name for t in retail_env.domain.tools}
        assert all(set(t) == {"name", "description", "parameters"} for t in tools)
        sources = [t["from"] for t in row["conversations"]]
        assert set(sources) <= {"human", "gpt", "function_call", "observation"}
        assert sources[0] == "human" and sources[-1] == "gpt"
        for i, turn in enumerate(row["conversations"]):
            assert isinstance(turn["value"], str)
            if turn["from"] == "function_call":
                call = json.loads(turn["value"])
                assert set(call) == {"name", "arguments"} and isinstance(call["arguments"], dict)
                assert row["conversations"][i + 1]["from"] == "observation"
        assert "###STOP###" not in json.dumps(row["conversations"])


def test_openai_rows_pair_every_tool_call_with_its_result(run):
    store, run_id = run
    for row in accepted_rows(store, run_id, "openai"):
        messages = row["messages"]
        assert messages[0]["role"] == "system"
        assert all(t["type"] == "function" and "parameters" in t["function"] for t in row["tools"])
        pending: set[str] = set()
        for m in messages[1:]:
            if m["role"] == "assistant":
                assert not pending
                for call in m.get("tool_calls", []):
                    assert isinstance(call["function"]["arguments"], dict)  # chat templates
                    pending.add(call["id"])
            elif m["role"] == "tool":
                pending.remove(m["tool_call_id"])
        assert not pending


def test_only_unique_accepted_trajectories_are_exported(run):
    store, run_id = run
    trajectories = store.run_trajectories(run_id)
    unique = [t for t in trajectories if t["accepted"] and not t["duplicate"]]
    assert len(accepted_rows(store, run_id, "sharegpt")) == len(unique)
    assert any(not t["accepted"] for t in trajectories)
    assert any(t["duplicate"] for t in trajectories)


def test_preference_pairs_match_an_accepted_and_a_rejected_dialogue(run, tmp_path):
    store, run_id = run
    result = export_run(store, run_id, "openai", tmp_path, pairs=True)
    lines = Path(result["pairs_path"]).read_text().splitlines()
    pairs = [json.loads(line) for line in lines]
    tasks = {t["task_id"] for t in store.run_trajectories(run_id) if not t["accepted"]}
    assert len(pairs) == result["pairs"] == len(tasks)
    for pair in pairs:
        assert pair["chosen"]["messages"] != pair["rejected"]["messages"]
        assert "database" in pair["rejected_reason"] or "state" in pair["rejected_reason"]


def test_the_hf_export_loads_with_datasets_and_has_a_card(run, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    store, run_id = run
    result = export_run(store, run_id, "hf", tmp_path)
    loaded = datasets.load_dataset(result["path"], split="train")
    assert loaded.num_rows == result["rows"] > 0
    assert loaded[0]["conversations"][0]["from"] == "human"
    card = (tmp_path / f"{run_id}-hf" / "README.md").read_text()
    assert '"seed": 0' in card and '"trajectories_unique"' in card and run_id in card


def test_unknown_format_and_run_are_errors(run, tmp_path):
    store, run_id = run
    with pytest.raises(ValueError, match="unknown format"):
        export_run(store, run_id, "csv", tmp_path)  # type: ignore[arg-type]
    with pytest.raises(LookupError, match="no run"):
        export_run(store, "nope", "sharegpt", tmp_path)


def test_unfinished_dialogues_are_left_out_unless_asked(retail_env, tmp_path):
    """Two agent actions at most: a task with two writes is cut off after its second call
    (the state is right, so it is accepted, but the conversation has no ending); a task
    with one write ends normally."""
    import asyncio

    from test_export_trainers import cancel_two

    store = RunStore()
    config = PipelineConfig(domain="retail", n=8, best_of_n=1, recombine_rate=0, max_steps=2)
    run_id, config, _ = open_run(store, config)
    models = OracleRoles(propose=cancel_two).chat_models()
    ctx = PipelineContext(env=retail_env, store=store, models=models, config=config, run_id=run_id)
    asyncio.run(run_pipeline(ctx))
    kept = [t for t in store.run_trajectories(run_id) if t["accepted"] and not t["duplicate"]]
    cut = [t for t in kept if t["ended_by"] == "turn_limit"]
    assert cut and len(cut) < len(kept) and {t["steps"] for t in cut} == {2}
    default = export_run(store, run_id, "hf", tmp_path / "a")
    assert default["unfinished_left_out"] == len(cut)
    assert default["rows"] == len(kept) - len(cut)
    card = (tmp_path / "a" / f"{run_id}-hf" / "README.md").read_text()
    assert (
        f"Left out as unfinished (cut off by the step limit or a failing role): {len(cut)}" in card
    )
    asked = export_run(store, run_id, "sharegpt", tmp_path / "b", include_unfinished=True)
    assert asked["rows"] == len(kept) and asked["unfinished_left_out"] == 0
