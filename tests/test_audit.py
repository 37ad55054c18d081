"""`apigen-mt audit` with a scripted solver that plans from the instruction alone (never
from the gold): a sound task is solved; a task whose gold asks for something the
instruction does not say is unsolved, with the closest attempt's diff; a task a solver can
finish two ways is ambiguous; each task's solve rate is stored."""

from __future__ import annotations

import json
import threading

import pytest
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.runs import STORE_FILE
from apigen_mt.store import RunStore
from apigen_mt.testing.fake_openai import FakeOpenAIServer, Reply

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


def _pending_orders(env, n: int) -> list[tuple[str, str]]:
    rows = env.master.execute(
        "SELECT order_id, user_id FROM orders WHERE status = 'pending' ORDER BY rowid LIMIT ?", [n]
    ).fetchall()
    return [tuple(r) for r in rows]


def _cancel(order: str, reason: str) -> dict:
    return {"name": "cancel_pending_order", "arguments": {"order_id": order, "reason": reason}}


class Solver:
    """The agent: cancels the order the user names, with the reason the user gives (for
    the vague task, one reason on even trials and the other on odd ones); the user: states
    the instruction, says yes, stops when told it is done."""

    def __init__(self):
        self.vague_calls, self.lock = 0, threading.Lock()

    def __call__(self, body: dict) -> Reply:
        messages = body["messages"]
        if not body.get("tools"):  # the simulated user
            agent = [m["content"] or "" for m in messages if m["role"] == "user"]
            if agent and "All done" in agent[-1]:
                return Reply(content="Thanks! ###STOP###")
            system = messages[0]["content"]
            instruction = system.split("(private - do not paste it):\n", 1)[1].split("\n")[0]
            said = any(m["role"] == "assistant" for m in messages[1:])
            return Reply(content="Yes, please." if said else instruction)
        opening = next(m["content"] for m in messages if m["role"] == "user")
        if any(m["role"] == "tool" for m in messages):
            return Reply(content="All done: the order is cancelled.")
        order = opening.split("order ")[1].split(" ")[0].rstrip(".,")
        if "mistake" in opening:
            reason = "ordered by mistake"
        elif "not sure why" in opening:
            with self.lock:
                self.vague_calls += 1
                reason = "no longer needed" if self.vague_calls % 2 else "ordered by mistake"
        else:
            reason = "no longer needed"
        call = _cancel(order, reason)
        return Reply(content="Cancelling it now.", tool_calls=[call])


def test_audit_flags_the_unsolvable_and_the_ambiguous(retail_env, cache_dir, tmp_path, monkeypatch):
    (a, ua), (b, ub), (c, uc) = _pending_orders(retail_env, 3)
    tasks = [
        {"user_id": ua, "instruction": f"Cancel order {a} because you no longer need it.",
         "actions": [_cancel(a, "no longer needed")]},
        # defective: the gold's reason is nowhere in the instruction
        {"user_id": ub, "instruction": f"Cancel order {b} because you no longer need it.",
         "actions": [_cancel(b, "ordered by mistake")]},
        # vague: either reason fits what the user says
        {"user_id": uc, "instruction": f"Cancel order {c}, you are not sure why you bought it.",
         "actions": [_cancel(c, "no longer needed")]},
    ]  # fmt: skip
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(tasks))
    monkeypatch.setenv("APIGEN_MT_CACHE_DIR", str(cache_dir))
    with FakeOpenAIServer(responder=Solver()) as server:
        for k, v in {"BASE_URL": server.base_url, "API_KEY": "t", "MODEL": "fake"}.items():
            monkeypatch.setenv(f"APIGEN_MT_{k}", v)
        result = CliRunner().invoke(
            app,
            ["audit", "--domain", "retail", "--tasks", str(path), "--trials", "4",
             "--solver-model", "solver-7b", "--out", str(tmp_path / "out"), "--json",
             "--concurrency", "1"],
        )  # fmt: skip
    assert result.exit_code == 1, result.output  # something was flagged
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    rates = {k.split("#")[-1]: v for k, v in summary["solve_rates"].items()}
    assert rates == {"0": 1.0, "1": 0.0, "2": 0.5}
    assert summary["flagged"] == 2 and summary["flags"] == {"unsolved": 1, "ambiguous": 1}
    assert summary["model"] == "solver-7b"
    assert "cancel_reason" in result.output  # the closest attempt's diff, shown
    store = RunStore.read_only(tmp_path / "out" / STORE_FILE)
    stored = store.solve_rates(f"{path.resolve()}#1")
    assert stored[-1]["solve_rate"] == 0.0 and stored[-1]["model"] == "solver-7b"

    # an evaluation on the same store: the flagged task's failures are the task's side
    with FakeOpenAIServer(responder=Solver()) as server:
        monkeypatch.setenv("APIGEN_MT_BASE_URL", server.base_url)
        evaluated = CliRunner().invoke(
            app,
            ["eval", "--domain", "retail", "--tasks", str(path), "--trials", "2",
             "--out", str(tmp_path / "out"), "--json", "--concurrency", "1"],
        )  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output
    line = json.loads(evaluated.stdout.strip().splitlines()[-1])
    # task 1 (unsolved): both trials; task 2 (ambiguous): the trial with the other reason
    assert line["failures_by_side"] == {"task": 3}


def _run(retail_env, tmp_path, models, audit: int):
    import asyncio

    from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
    from apigen_mt.graphs.pipeline_config import PipelineConfig
    from apigen_mt.report import run_report
    from apigen_mt.runs import open_run

    store = RunStore(tmp_path / STORE_FILE)
    config = PipelineConfig(
        domain="retail", n=3, best_of_n=1, recombine_rate=0, trials=1, audit=audit
    )
    run_id, config, _ = open_run(store, config)
    ctx = PipelineContext(env=retail_env, store=store, models=models, config=config, run_id=run_id)
    asyncio.run(run_pipeline(ctx))
    return store, run_id, run_report(store, run_id)


@pytest.mark.disable_socket
def test_generate_audit_keeps_solvable_blueprints_out_of_band(retail_env, tmp_path):
    from apigen_mt.testing.scripted_roles import OracleRoles

    store, run_id, report = _run(retail_env, tmp_path, OracleRoles().chat_models(), audit=2)
    accepted = report.funnel["accepted_blueprints"]
    assert accepted >= 2 and report.blueprint_outcomes.get("audit_failed", 0) == 0
    # the solver dialogues are the audit's, not training data
    assert len(store.run_trajectories(run_id)) == accepted
    assert len(store.run_trajectories(f"{run_id}/audit")) == 2 * accepted
    rates = [
        store.solve_rates(b["id"])[-1]["solve_rate"]
        for b in store.blueprints(run_id, status="accepted")
    ]
    assert rates == [1.0] * accepted


@pytest.mark.disable_socket
def test_generate_audit_drops_blueprints_no_solver_solves(retail_env, tmp_path):
    from langchain_core.messages import AIMessage

    from apigen_mt.testing import ScriptedChatModel
    from apigen_mt.testing.scripted_roles import DONE, OracleRoles

    models = OracleRoles().chat_models()
    models.assistant = ScriptedChatModel(responder=lambda m: AIMessage(DONE))  # never acts
    store, run_id, report = _run(retail_env, tmp_path, models, audit=2)
    assert report.funnel["accepted_blueprints"] == 0
    failed = store.blueprints(run_id, status="audit_failed")
    assert failed and all(b["reasons"][0].startswith("unsolved: 0 of 2") for b in failed)
    assert store.run_trajectories(run_id) == []  # no training dialogues for them
