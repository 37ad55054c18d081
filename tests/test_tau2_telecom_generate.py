"""Generation on `tau2-telecom` (dual control), phase 1 to accepted trajectories.

Each attempt starts from a scene composed from τ²'s train split (never a τ² task nor a test
task's issue set). The scripted proposer (apigen_mt/testing/telecom_oracle.py) writes the
fix τ²'s train tasks use for the scene's issues, but its first round stops one user action
short, as a model that forgets the last step on the phone does: the execution check names
the assertion still failing, and the next round is accepted. In phase 2 the agent asks the
user to run the user's actions on their phone (the user does, and reports what it shows)
and runs its own; kept only at τ²'s DB and ENV_ASSERTION = 1. An agent that never asks
the user to act is never kept.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from pathlib import Path

import jsonschema
import pytest
from loopback import oracle_endpoint
from tau2_reference import Tau2Oracle, tasks_file, tau2_messages
from typer.testing import CliRunner

from apigen_mt.agents import Blueprint
from apigen_mt.agents.proposer import ProposerInput, proposer_schema
from apigen_mt.cli import app
from apigen_mt.environments import Environment
from apigen_mt.environments.tau2.hashing import tau2_user_hash_of
from apigen_mt.environments.tau2_telecom.compose import parse_id
from apigen_mt.environments.taubench import reported_state_hash, run_setup
from apigen_mt.export import accepted_rows, export_run
from apigen_mt.export.formats import sharegpt_alternation_problem
from apigen_mt.export.tau2_tasks import tau2_task_rows
from apigen_mt.graphs.checks import format_check
from apigen_mt.graphs.committee import review_input
from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.graphs.sampling import api_graph_of, example_pool_of, sample_context
from apigen_mt.report import run_report
from apigen_mt.runs import STORE_FILE, open_run, store_at
from apigen_mt.store import RunStore
from apigen_mt.testing.scripted_roles import OracleRoles
from apigen_mt.testing.telecom_oracle import telecom_proposer


@pytest.fixture()
def telecom(monkeypatch):
    tasks = tasks_file("telecom")
    monkeypatch.setenv("TAU2_DATA_DIR", str(tasks.parents[3]))
    # (not the session's cache dir as $APIGEN_MT_CACHE_DIR: τ²'s venv is cached in the
    # default one, shared with the other τ² tests)
    return tasks


def _test_split(tasks):
    splits = json.loads(tasks.with_name("split_tasks.json").read_text())
    every = {t["id"] for t in json.loads(tasks.read_text())}
    return every, {(parse_id(i)[0], frozenset(parse_id(i)[1])) for i in splits["test"]}


class NeedlessChange(OracleRoles):
    """An agent that fixes the phone, then also turns roaming on for another of the
    customer's lines: every assertion holds, the state is not the proven one."""

    def _remember(self, instruction, actions, outputs):
        extra = {"name": "enable_roaming", "requestor": "assistant",
                 "arguments": {"customer_id": "C1001", "line_id": "L1001"}}  # fmt: skip
        super()._remember(instruction, [*actions, extra], outputs)


def _run(tmp_path, tasks, n: int, roles=OracleRoles, **oracle):
    store = RunStore(tmp_path / STORE_FILE)
    env = Environment.for_data("tau2-telecom")
    run_id, config, _ = open_run(
        store, PipelineConfig(domain="tau2-telecom", n=n, best_of_n=1, trials=2)
    )
    models = roles("telecom", propose=telecom_proposer(tasks), **oracle).chat_models()
    ctx = PipelineContext(env=env, store=store, models=models, config=config, run_id=run_id)
    asyncio.run(run_pipeline(ctx))
    return store, run_id, ctx


def test_phase_one_and_two_give_verified_dual_control_trajectories(telecom, tmp_path):
    store, run_id, ctx = _run(tmp_path, telecom, n=6)
    funnel = run_report(store, run_id).funnel
    assert funnel["accepted_blueprints"] == 6 and funnel["recombinations"] == 0
    blueprints = store.blueprints(run_id)
    first = [b for b in blueprints if b["round"] == 1]
    short = [b for b in first if b["status"] == "execution_failed"]
    assert short, "the first rounds that stopped short were not refused"
    for b in short:  # refused in words: the assertion still failing, and who must act
        assert any("does not hold" in r and "user's tools" in r for r in b["reasons"])
    # the committee judges the fix as it ran after the scene, by the domain's policy text
    accepted = next(b for b in blueprints if b["status"] == "accepted")
    review = review_input(ctx.phase1, accepted["id"])
    assert "Telecom Agent Policy" in review.policy and "Error" not in review.trace
    users = [a for a in accepted["data"]["actions"] if a["requestor"] == "user"]
    assert review.trace.count("[user] ") == len(users)
    every, test_sets = _test_split(telecom)
    tasks = {t["task_id"]: store.task(t["task_id"]) for t in store.run_trajectories(run_id)}
    assert len(tasks) == 6
    for task in tasks.values():
        scene = task["tau2"]
        intent, issues, _ = parse_id(scene["id"])
        assert scene["id"] not in every and (intent, frozenset(issues)) not in test_sets
        assert scene["reward_basis"][:1] == ["ENV_ASSERTION"] and scene["setup"]
        assert task["exact_state"] is True
        assert {a["requestor"] for a in scene["actions"]} <= {"user", "assistant"}
        assert [a["name"] for a in scene["actions"]] == [a["name"] for a in task["actions"]]
    assert any(a["requestor"] == "user" for t in tasks.values() for a in t["tau2"]["actions"])
    trajectories = store.run_trajectories(run_id)
    assert trajectories and all(t["accepted"] for t in trajectories)
    for t in trajectories:
        assert t["reward"] == 1.0
        assert t["reward_info"]["components"] == {"ENV_ASSERTION": 1.0}
    # the user's calls stay on the user's side of the transcript, and out of the exports
    user_tools = set(Environment.for_data("tau2-telecom").domain.user_tools.names)
    rows = accepted_rows(store, run_id, "openai")
    assert len(rows) == funnel["trajectories_unique"]
    for row in rows:
        agent_calls = {c["function"]["name"] for m in row["messages"]
                       for c in m.get("tool_calls", [])}  # fmt: skip
        assert not agent_calls & user_tools
        assert not {t["function"]["name"] for t in row["tools"]} & user_tools
    assert any(row["user_actions"] for row in rows)
    for share in accepted_rows(store, run_id, "sharegpt"):
        assert sharegpt_alternation_problem(share["conversations"]) is None


def test_an_agent_that_never_asks_the_user_to_act_is_never_kept(telecom, tmp_path):
    store, run_id, _ = _run(tmp_path, telecom, n=3, asks_the_user=False)
    assert run_report(store, run_id).funnel["accepted_blueprints"] == 3
    trajectories = store.run_trajectories(run_id)
    user_fixes = [
        t for t in trajectories
        if any(a["requestor"] == "user" for a in store.task(t["task_id"])["tau2"]["actions"])
    ]  # fmt: skip
    assert user_fixes and not any(t["accepted"] for t in user_fixes)
    for t in user_fixes:
        assert t["reward"] == 0.0 and t["reward_info"]["components"]["ENV_ASSERTION"] == 0.0
        assert "ENV_ASSERTION 0" in t["reason"] and t["side"] == "agent"


def test_a_needless_change_beyond_the_fix_is_not_kept(telecom, tmp_path):
    store, run_id, _ = _run(tmp_path, telecom, n=2, roles=NeedlessChange)
    trajectories = store.run_trajectories(run_id)
    assert trajectories and not any(t["accepted"] for t in trajectories)
    for t in trajectories:  # τ²'s reward alone would keep it; the proven state does not
        assert t["reward"] == 1.0 and "wrong final state" in t["reason"]
        assert "roaming_enabled" in t["reason"]


def test_the_kept_tasks_export_as_a_tau2_task_file_replay_reads(telecom, tmp_path):
    store, run_id, _ = _run(tmp_path, telecom, n=3)
    result = export_run(store, run_id, "tau2-tasks", tmp_path / "exports")
    tasks = json.loads(Path(result["path"]).read_text())
    assert result["rows"] == len(tasks) == 3
    for task in tasks:
        assert task["initial_state"]["initialization_actions"]
        assert task["evaluation_criteria"]["reward_basis"] == ["ENV_ASSERTION"]
        assert task["description"]["notes"].startswith("scene: [")
    replay = CliRunner().invoke(app, ["replay", "--domain", "tau2-telecom", "--tasks",
                                      result["path"]])  # fmt: skip
    assert replay.exit_code == 0, replay.output
    assert replay.output.count("user_state_hash") >= 3
    # another domain's run has no τ² task file: said in words
    other = RunStore(tmp_path / "other.sqlite")
    other_id, _, _ = open_run(other, PipelineConfig(domain="retail", n=1))
    with pytest.raises(ValueError, match="needs a τ² domain"):
        export_run(other, other_id, "tau2-tasks", tmp_path / "exports")


def test_tau2s_own_evaluator_scores_the_generated_trajectories_as_we_do(telecom, tmp_path):
    """τ²'s EnvironmentEvaluator on each kept trajectory and on each one an agent that
    never asks the user produced: its strict replay accepts every recorded result, its
    reward and env assertions are ours, and a kept one's replay reaches the proven state
    by τ²'s own hashes of both sides."""
    kept, _, _ = _run(tmp_path / "kept", telecom, n=4)
    lost, _, _ = _run(tmp_path / "lost", telecom, n=3, asks_the_user=False)
    env = Environment.for_data("tau2-telecom")
    oracle = Tau2Oracle()
    try:
        compared = 0
        for store in (kept, lost):
            run_id = store.runs()[0]["id"]
            # the run's tasks as `export --format tau2-tasks` writes them, every task here
            every = store.run_trajectories(run_id)
            exported = {t["id"]: t for t in tau2_task_rows(store, run_id, every)}
            for t in store.run_trajectories(run_id):
                task = store.task(t["task_id"])
                theirs = oracle.ask({
                    "op": "evaluate", "domain": "telecom", "task": exported[t["task_id"]],
                    "messages": tau2_messages(store.transcript(t["id"])),
                })  # fmt: skip
                assert "problem" not in theirs, theirs
                assert theirs["reward"] == t["reward"], (t["id"], theirs, t["reward_info"])
                assert theirs["breakdown"] == t["reward_info"]["components"]
                met = [c["met"] for c in t["reward_info"]["env_assertions"]]
                assert theirs["env_assertions"] == met
                proven = _proven_hashes(env, task)
                assert ((theirs["hash"], theirs["user_hash"]) == proven) == bool(t["accepted"])
                compared += 1
    finally:
        oracle.close()
    assert compared == 14  # 4 + 3 tasks, two trials each


def _proven_hashes(env, task) -> tuple[str, str]:
    """τ²'s two hashes of the state the task's gold actions reach after its scene."""
    with env.sandbox() as sandbox:
        run_setup(sandbox, task)
        sandbox.run(task["actions"])
        return reported_state_hash(env, sandbox), tau2_user_hash_of(env, sandbox)


def test_scenes_come_from_the_train_split_and_set_the_records_up(telecom):
    env = Environment.for_data("tau2-telecom")
    graph, pool = api_graph_of(env), example_pool_of(env)
    every, test_sets = _test_split(telecom)
    splits = json.loads(telecom.with_name("split_tasks.json").read_text())
    train_issues = {(parse_id(i)[0], x) for i in splits["train"] for x in parse_id(i)[1]}
    seen = set()
    for seed in range(60):
        ctx = sample_context(env, graph, pool, random.Random(seed))
        intent, issues, _ = parse_id(ctx.scene.id)
        assert ctx.scene.id not in every and (intent, frozenset(issues)) not in test_sets
        assert all((intent, i) in train_issues for i in issues)
        records = json.loads(ctx.records)
        assert ctx.user_id == records["customer"]["customer_id"] == "C1001"
        phone = records["the_users_phone"]
        if "airplane_mode_on" in issues:  # the records are the broken scene's
            assert phone["airplane_mode"] is True
        seen.add(ctx.scene.id)
        again = sample_context(env, graph, pool, random.Random(seed))
        assert again.scene == ctx.scene  # deterministic for a seed
    assert len(seen) > 50


def test_the_schema_and_checks_know_who_may_call_what(telecom):
    env = Environment.for_data("tau2-telecom")
    domain = env.domain
    x = ProposerInput(
        domain=domain.name, policy="", tools=domain.tools.openai_schemas(),
        user_tools=domain.user_tools.openai_schemas(), records="{}", persona="",
        user_id="C1001", scene="Scene: x",
    )  # fmt: skip
    schema = proposer_schema(x)
    blueprint = {"reasoning": "r", "user_id": "C1001", "instruction": "You ...",
                 "outputs": [], "computations": []}  # fmt: skip
    mine = {"name": "toggle_data", "arguments": {}, "requestor": "user"}
    jsonschema.validate({**blueprint, "actions": [mine]}, schema)
    for wrong in ({**mine, "requestor": "assistant"}, {"name": "toggle_data", "arguments": {}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**blueprint, "actions": [wrong]}, schema)
    # without a schema (a json_object endpoint) the format check refuses it in words
    bp = Blueprint.model_validate({**blueprint, "actions": [{**mine, "requestor": "assistant"}]})
    reasons = format_check(bp, env, "C1001")
    assert "format: action 0: 'toggle_data' is the user's tool, not the assistant's" in reasons[0]
    # a domain without user tools: actions carry no requestor, as before
    plain = proposer_schema(x.model_copy(update={"user_tools": [], "scene": None}))
    branch = plain["properties"]["actions"]["items"]["anyOf"][0]
    assert "requestor" not in branch["properties"]


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_generate_runs_on_telecom_through_the_real_client(telecom, cli_env, tmp_path):
    oracle = OracleRoles("telecom", propose=telecom_proposer(telecom))
    with oracle_endpoint(cli_env, oracle=oracle):
        args = ["generate", "--domain", "tau2-telecom", "--n", "3", "--best-of-n", "1",
                "--out", str(tmp_path), "--json"]  # fmt: skip
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    funnel = json.loads(result.stdout.strip().splitlines()[-1])["funnel"]
    assert funnel["accepted_blueprints"] == 3 and funnel["dialogues_accepted"] >= 3
    [run] = store_at(tmp_path).runs()
    assert run["config"]["data_dir"] == str(telecom.parent.resolve())  # fixed for resumes


def test_generate_without_telecom_data_says_what_is_missing(cli_env, monkeypatch, tmp_path):
    monkeypatch.delenv("TAU2_DATA_DIR", raising=False)
    result = CliRunner().invoke(app, ["generate", "--domain", "tau2-telecom", "--n", "1",
                                      "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 2 and "τ²'s telecom folder" in result.output
    source = tasks_file("telecom").parent
    only_db = tmp_path / "telecom"
    only_db.mkdir()
    for name in ("db.toml", "user_db.toml"):
        (only_db / name).write_bytes((source / name).read_bytes())
    args = ["generate", "--domain", "tau2-telecom", "--n", "1", "--data-dir", str(only_db),
            "--out", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "tasks.json" in result.output
    assert not (tmp_path / STORE_FILE).exists() or not store_at(tmp_path).runs()


def test_generated_tasks_are_rl_tasks_scored_at_the_proven_state(telecom, tmp_path):
    """The run's tasks in the Gymnasium environment (tasks=RUN_ID): the gold fix, the
    user's part asked of a scripted customer, earns 1; the same plus a needless change
    earns 0 though every assertion holds."""
    gymnasium = pytest.importorskip("gymnasium")
    import apigen_mt.rl  # noqa: F401 - registers the environments

    store, run_id, _ = _run(tmp_path, telecom, n=2)
    store.close()
    ask = re.compile(r"^Please run `(\w+)` with (\{.*\})")
    acted: set[int] = set()  # the agent turns the customer already acted on

    def customer(instruction, turns):
        said = turns[-1].text if turns and turns[-1].speaker == "agent" else ""
        if "anything else" in said.lower():
            return "No, thanks. ###STOP###"
        asked = ask.match(said)
        if asked and len(turns) not in acted:
            acted.add(len(turns))
            return {"tool_calls": [{"name": asked[1], "arguments": json.loads(asked[2])}]}
        return "It does not work." if not turns else "Done."

    env = gymnasium.make("apigen_mt/tau2-telecom-v0", tasks=run_id, out=str(tmp_path),
                         user=customer)  # fmt: skip
    try:
        for needless in (False, True):
            acted.clear()
            _, info = env.reset(options={"task_index": 0})
            task = env.unwrapped.episode.task
            extra = [{"name": "enable_roaming", "requestor": "assistant",
                      "arguments": {"customer_id": "C1001", "line_id": "L1001"}}]  # fmt: skip
            for a in task["actions"] + (extra if needless else []):
                if a.get("requestor") == "user":
                    step = {"message": f"Please run `{a['name']}` with "
                                       f"{json.dumps(a['arguments'])} on your phone."}  # fmt: skip
                else:
                    step = {"tool": a["name"], "arguments": a["arguments"]}
                env.step(step)
            _, reward, terminated, _, info = env.step({"message": "Anything else?"})
            parts = info["reward_components"]
            assert terminated and parts["tau2"]["components"] == {"ENV_ASSERTION": 1.0}
            assert reward == (0.0 if needless else 1.0), parts
            assert parts["state_matches"] is (not needless)
    finally:
        env.close()
