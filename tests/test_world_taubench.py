"""τ-bench's retail data converted to a plain SQLite file, with tools written from
τ-bench's tool descriptions without our decorators (tests/worlds/taubench_retail): the
gold actions of τ-bench's 115 retail test tasks reach, through the world, the same final
states as through the built-in retail domain (τ-bench's own data hash of each)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner
from world_helpers import WORLDS, digest

from apigen_mt.cli import app
from apigen_mt.environments import Environment, get_domain
from apigen_mt.environments.taubench import taubench_hash


def _module(path: Path):
    spec = importlib.util.spec_from_file_location("taubench_retail_convert", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def plain_world(tmp_path_factory, taubench_retail_dir) -> Path:
    folder = tmp_path_factory.mktemp("plain") / "taubench_retail"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(WORLDS / "taubench_retail", folder, ignore=ignore)
    _module(folder / "convert.py").convert(taubench_retail_dir, folder / "retail.sqlite")
    shutil.copy(taubench_retail_dir / "policy.md", folder / "policy.md")
    return folder


def test_the_115_gold_replays_reach_the_built_in_domains_states(
    plain_world, retail_tasks, retail_expected, cache_dir
):
    before = digest(plain_world / "retail.sqlite")
    export = _module(plain_world / "convert.py").export
    domain = get_domain(str(plain_world))
    assert domain.world.user_table == "users"  # inferred: named like users, referenced
    assert set(domain.tools.write_names) == {
        "cancel_pending_order", "exchange_delivered_order_items", "modify_pending_order_address",
        "modify_pending_order_items", "modify_pending_order_payment", "modify_user_address",
        "return_delivered_order_items",
    }  # fmt: skip
    # τ-bench's own final-state hashes, which the built-in retail domain reproduces for every
    # task (test_retail_taubench); replaying the built-in here again would double the time.
    built_in = [e["taubench_data_hash"] for e in retail_expected]
    env = Environment.generated(domain, cache_dir=cache_dir)
    world_hashes, failed_calls = [], 0
    for task in retail_tasks:
        with env.sandbox() as box:
            trace = box.run(task.actions)
            failed_calls += sum(not e.ok for e in trace)
            world_hashes.append(taubench_hash(export(box.conn)))
    assert len(world_hashes) == 115
    mismatched = [i for i, (a, b) in enumerate(zip(world_hashes, built_in, strict=True)) if a != b]
    assert mismatched == []
    assert digest(plain_world / "retail.sqlite") == before


def test_replay_command_and_its_databases_on_the_plain_world(
    plain_world, taubench_retail_dir, tmp_path, cache_dir
):
    tasks = json.loads((taubench_retail_dir / "tasks_test.json").read_text())[:5]
    file = tmp_path / "tasks.json"
    file.write_text(json.dumps(tasks))
    args = ["replay", "--domain", plain_world, "--tasks", file, "--databases", tmp_path / "dbs"]
    result = CliRunner().invoke(app, [*map(str, args), "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(lines) == 5
    export = _module(plain_world / "convert.py").export
    expected = json.loads((taubench_retail_dir / "expected_test.json").read_text())
    for line in lines:
        conn = sqlite3.connect(tmp_path / "dbs" / f"{line['task_index']}.sqlite")
        # τ-bench's own expected hash, from the file the world's replay wrote
        assert taubench_hash(export(conn)) == expected[line["task_index"]]["taubench_data_hash"]


def propose_plain_retail(records: dict) -> dict:
    """Cancel the user's first pending order, else move their default address (the records:
    the users row and the orders referencing it)."""
    pending = [o for o in records.get("orders", []) if o["status"] == "pending"]
    if pending:
        order = pending[0]["order_id"]
        ask = f"cancel order {order}, no longer needed"
        action = {"name": "cancel_pending_order",
                  "arguments": {"order_id": order, "reason": "no longer needed"}}  # fmt: skip
    else:
        ask = "your default address is now 1 Main St, Austin, TX 78701, USA"
        address = {"address1": "1 Main St", "address2": "", "city": "Austin", "state": "TX",
                   "country": "USA", "zip": "78701"}  # fmt: skip
        action = {"name": "modify_user_address",
                  "arguments": {"user_id": records["user_id"], **address}}  # fmt: skip
    return {
        "reasoning": "scripted",
        "user_id": records["user_id"],
        "instruction": f"You are {records['user_id']}; {ask}.",
        "actions": [action],
        "outputs": [],
    }


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_every_command_on_the_plain_world(
    plain_world, retail_tasks, taubench_retail_env, monkeypatch, cache_dir, tmp_path
):
    from loopback import oracle_endpoint

    from apigen_mt.testing.scripted_roles import OracleRoles

    monkeypatch.setenv("APIGEN_MT_CACHE_DIR", str(cache_dir))
    before = digest(plain_world / "retail.sqlite")
    runner = CliRunner()
    shown = json.loads(runner.invoke(app, ["domains", "show", str(plain_world), "--json"]).stdout)
    assert shown["user_table"]["name"] == "users"
    assert {"column": "user_id", "references": "users.user_id"} in next(
        t for t in shown["tables"] if t["name"] == "orders"
    )["foreign_keys"]
    # The linter's verdicts on τ-bench's 115 tasks: the same as the built-in domain's through
    # format and execution; from the policy stage on the world differs, having no rules.
    every = tmp_path / "all.json"
    every.write_text(json.dumps([t.model_dump() for t in retail_tasks]))
    checked = runner.invoke(
        app, ["validate", "--domain", str(plain_world), "--tasks", str(every), "--json"]
    )
    stages = json.loads(checked.stdout.splitlines()[-1])["stages"]
    from apigen_mt.validate import summarize, validate_tasks

    built_in = summarize(validate_tasks(taubench_retail_env, retail_tasks)).stages
    assert (stages["format"], stages["execution"]) == (built_in["format"], built_in["execution"])
    assert stages["policy"] >= built_in["policy"]
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps([t.model_dump() for t in retail_tasks[:6]]))
    oracle = OracleRoles(propose=propose_plain_retail)
    for t in retail_tasks[:6]:
        oracle.expect(t.instruction, [a.model_dump() for a in t.actions], t.outputs)
    with oracle_endpoint(monkeypatch, oracle=oracle):
        args = ["eval", "--domain", plain_world, "--tasks", tasks, "--trials", "1"]
        scored = runner.invoke(app, [*map(str, args), "--out", str(tmp_path), "--json"])
        assert scored.exit_code == 0, scored.output
        assert json.loads(scored.stdout.strip().splitlines()[-1])["pass_hat_k"] == [1.0]
        made = runner.invoke(app, ["generate", "--domain", str(plain_world), "--n", "4",
                                   "--out", str(tmp_path), "--best-of-n", "1", "--trials", "1",
                                   "--json"])  # fmt: skip
    assert made.exit_code == 0, made.output
    last = json.loads(made.stdout.strip().splitlines()[-1])
    assert last["funnel"]["accepted_blueprints"] >= 1
    exported = runner.invoke(app, ["export", last["run_id"], "--out", str(tmp_path),
                                   "--format", "sharegpt"])  # fmt: skip
    assert exported.exit_code == 0, exported.output
    rows = json.loads((tmp_path / "exports" / f"{last['run_id']}.sharegpt.json").read_text())
    assert len(rows) == last["funnel"]["trajectories_unique"]
    import asyncio

    from apigen_mt.browse import make_datasette

    page = asyncio.run(make_datasette(tmp_path / "runs.sqlite").client.get(
        f"/apigen/run/{last['run_id']}"))  # fmt: skip
    assert page.status_code == 200
    assert digest(plain_world / "retail.sqlite") == before
