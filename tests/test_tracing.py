"""LangSmith tracing of a pipeline run, recorded by a loopback stand-in for the API."""

from __future__ import annotations

import pytest
from langchain_core.tracers.langchain import wait_for_all_tracers
from langsmith import Client, tracing_context

from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.runs import open_run
from apigen_mt.store import RunStore
from apigen_mt.testing.fake_langsmith import LangSmithRecorder
from apigen_mt.testing.scripted_roles import OracleRoles

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


async def test_a_pipeline_run_is_one_tree_from_run_to_tool_calls(retail_env):
    store = RunStore()
    config = PipelineConfig(domain="retail", n=8, best_of_n=1, trials=1, committee_size=3)
    run_id, config, _ = open_run(store, config)
    ctx = PipelineContext(
        env=retail_env,
        store=store,
        models=OracleRoles().chat_models(),
        config=config,
        run_id=run_id,
    )
    with LangSmithRecorder() as recorder:
        # An explicit client: langsmith caches its environment variables per process.
        client = Client(api_url=recorder.url, api_key="test", auto_batch_tracing=False)
        with tracing_context(enabled=True, client=client, project_name="apigen-mt-test"):
            await run_pipeline(ctx)
        wait_for_all_tracers()
        client.flush()

        [root] = recorder.roots()
        assert root["name"] == "pipeline" and root["extra"]["metadata"]["apigen_run_id"] == run_id
        nodes = {r["name"]: r for r in recorder.children(str(root["id"]))}
        assert {"start", "blueprint_attempts", "recombinations", "dialogues", "finish"} <= set(
            nodes
        )

        attempts = [
            r
            for r in recorder.children(str(nodes["blueprint_attempts"]["id"]))
            if r["name"] == "blueprint"
        ]
        assert len(attempts) == 8
        accepted_attempt = next(
            a
            for a in attempts
            if "accept" in {r["name"] for r in recorder.descendants(str(a["id"]))}
        )
        inside = recorder.descendants(str(accepted_attempt["id"]))
        names = [r["name"] for r in inside]
        assert {
            "sample_context",
            "propose",
            "format_check",
            "execution_check",
            "policy_check",
        } <= set(names)
        branches = [r for r in inside if r["name"] == "reviewer" and r["run_type"] == "chain"]
        assert len(branches) == 3  # the committee's parallel branches
        llm_runs = {r["name"] for r in inside if r["run_type"] == "llm"}
        assert {"proposer", "reviewer"} <= llm_runs

        dialogues = [
            r for r in recorder.children(str(nodes["dialogues"]["id"])) if r["name"] == "dialogue"
        ]
        assert dialogues
        turns = recorder.descendants(str(dialogues[0]["id"]))
        assert {"human", "assistant", "tools", "verify"} <= {r["name"] for r in turns}
        tool_runs = [r for r in turns if r["run_type"] == "tool"]
        assert [r["name"] for r in tool_runs] == ["cancel_pending_order"]
        assert all(r.get("end_time") for r in recorder.runs.values())  # every run was closed
