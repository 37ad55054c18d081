"""Difficulty: `eval` stores each task's pass rate; exports and the RL task sets carry it
(with the model it was measured with); `export --min-pass-rate/--max-pass-rate` filters."""

from __future__ import annotations

import json
import threading
from collections import Counter

import gymnasium
import pytest
from langchain_core.messages import AIMessage
from typer.testing import CliRunner

import apigen_mt.rl
from apigen_mt.cli import app
from apigen_mt.export import PassRateRange, accepted_rows
from apigen_mt.graphs.evaluate import EvalConfig, EvalContext, EvalModels, run_evaluation
from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.runs import open_eval, open_run, store_at
from apigen_mt.testing import ScriptedChatModel
from apigen_mt.testing.scripted_roles import OracleRoles


def fails_on_odd_tasks(oracle: OracleRoles, odd: set[str]):
    """The oracle agent, with the wrong cancellation reason on the tasks in `odd` (their
    state then differs from the gold one): those tasks' pass rate is 0."""
    respond, lock = oracle.chat_responder(), threading.Lock()

    def agent(messages, kwargs):
        reply = respond(messages, kwargs)
        users = [m.content for m in messages if m.type == "human"]
        with lock:
            failing = bool(users) and any(users[0] == o for o in odd)
        if failing and isinstance(reply, AIMessage) and reply.tool_calls:
            call = reply.tool_calls[0]
            reply.tool_calls[0] = {**call, "args": {**call["args"], "reason": "ordered by mistake"}}
        return reply

    return agent


@pytest.fixture(scope="module")
def measured(retail_env, tmp_path_factory):
    import asyncio

    out = tmp_path_factory.mktemp("difficulty")
    store = store_at(out)
    run_id, pconfig, _ = open_run(store, PipelineConfig(domain="retail", n=8, best_of_n=1))
    asyncio.run(run_pipeline(PipelineContext(
        env=retail_env, store=store, models=OracleRoles().chat_models(), config=pconfig,
        run_id=run_id,
    )))  # fmt: skip
    tasks = [t["data"] for t in store.tasks(run_id)]
    assert len(tasks) >= 4
    oracle = OracleRoles()
    for t in tasks:
        oracle.expect(t["instruction"], t["actions"], t["outputs"])
    odd = {t["instruction"] for t in tasks[1::2]}
    models = EvalModels(
        assistant=ScriptedChatModel(responder=fails_on_odd_tasks(oracle, odd)),
        human=ScriptedChatModel(responder=oracle.chat_responder()),
    )
    config = EvalConfig(domain="retail", run=run_id, trials=2, label="oracle-agent")
    eval_id, config, _ = open_eval(store, config)
    asyncio.run(run_evaluation(
        EvalContext(env=retail_env, store=store, models=models, config=config, eval_id=eval_id)
    ))  # fmt: skip
    return out, store, run_id, odd


def test_eval_stores_each_tasks_pass_rate(measured):
    _, store, run_id, odd = measured
    for task in store.tasks(run_id):
        rate = store.pass_rate(task["id"])
        assert rate["model"] == "oracle-agent" and rate["trials"] == 2
        assert rate["pass_rate"] == (0.0 if task["data"]["instruction"] in odd else 1.0)
    assert store.pass_rate("no-such-task") is None


def test_exports_carry_and_filter_on_the_pass_rate(measured):
    _, store, run_id, _ = measured
    rows = accepted_rows(store, run_id, "openai")
    assert rows and all(r["pass_rate"] in (0.0, 1.0) for r in rows)
    assert {r["pass_rate_model"] for r in rows} == {"oracle-agent"}
    hard = accepted_rows(store, run_id, "sharegpt", pass_rates=PassRateRange(0.0, 0.5))
    easy = accepted_rows(store, run_id, "sharegpt", pass_rates=PassRateRange(0.5, 1.0))
    assert hard and easy and len(hard) + len(easy) == len(rows)
    assert all(r["pass_rate"] == 0.0 for r in hard) and all(r["pass_rate"] == 1.0 for r in easy)
    with pytest.raises(ValueError, match="0 <= min <= max <= 1"):
        PassRateRange(0.8, 0.2)


def test_the_export_command_filters_and_says_what_it_left_out(measured, tmp_path):
    out, _, run_id, _ = measured
    result = CliRunner().invoke(app, [
        "export", run_id, "--out", str(out), "--format", "openai", "--dest", str(tmp_path),
        "--min-pass-rate", "0.5",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "left out by pass rate" in result.output
    rows = [json.loads(line) for line in (tmp_path / f"{run_id}.openai.jsonl").open()]
    assert rows and all(r["pass_rate"] == 1.0 for r in rows)
    bad = CliRunner().invoke(app, [
        "export", run_id, "--out", str(out), "--min-pass-rate", "2",
    ])  # fmt: skip
    assert bad.exit_code == 2 and "min <= max" in bad.output


def test_rl_task_sets_carry_the_pass_rate_and_make_curricula(measured):
    out, _, run_id, odd = measured
    task_set = apigen_mt.rl.load_task_set("retail", run_id, out=out)
    assert Counter(t["pass_rate"] for t in task_set.tasks) == Counter(
        {0.0: sum(t["instruction"] in odd for t in task_set.tasks),
         1.0: sum(t["instruction"] not in odd for t in task_set.tasks)}
    )  # fmt: skip
    env = gymnasium.make(
        "apigen_mt/retail-v0", tasks=run_id, out=str(out), min_pass_rate=0.5,
        user=lambda instruction, turns: "Hello.",
    )  # fmt: skip
    _, info = env.reset(options={"task_index": 0})
    assert info["pass_rate"] == 1.0 and info["pass_rate_model"] == "oracle-agent"
    assert all(t["pass_rate"] == 1.0 for t in env.unwrapped.task_set.tasks)
    env.close()
    with pytest.raises(ValueError, match="no task has a pass rate"):
        gymnasium.make("apigen_mt/retail-v0", tasks=run_id, out=str(out), min_pass_rate=1.1,
                       user=lambda i, t: "Hello.")  # fmt: skip


def test_closing_an_environment_leaves_a_task_set_it_was_given_open(measured):
    out, _, run_id, _ = measured
    shared = apigen_mt.rl.load_task_set("retail", run_id, out=out)
    env = gymnasium.make("apigen_mt/retail-v0", task_set=shared, min_pass_rate=0.5,
                         user=lambda i, t: "Hello.")  # fmt: skip
    env.close()
    with shared.env.sandbox() as sandbox:  # the caller's database is still open
        assert sandbox.state_hash()
    shared.close()
