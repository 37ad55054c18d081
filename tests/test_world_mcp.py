"""The same world behind an MCP server written with the official SDK (tests/worlds/acme_mcp):
tools listed with their annotations, episodes on their own database copies and pooled
servers reset between episodes, the same final states as its Python twin, and servers that
fail to start, hang or die ending an episode with a recorded reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from loopback import oracle_endpoint
from typer.testing import CliRunner
from world_helpers import digest, propose_acme, tasks_of, world_copy

from apigen_mt.cli import app
from apigen_mt.environments import Environment, get_domain
from apigen_mt.environments.worlds import WorldError, load_world
from apigen_mt.testing.scripted_roles import OracleRoles
from apigen_mt.tools import ToolUnavailable

pytest.importorskip("mcp")


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("mcp-worlds")
    return {"python": world_copy(tmp), "mcp": world_copy(tmp, "acme_mcp")}


@pytest.fixture(scope="module")
def mcp_env(worlds, cache_dir):
    env = Environment.generated(get_domain(str(worlds["mcp"])), cache_dir=cache_dir)
    yield env
    env.close()


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def _variant(worlds: dict[str, Path], name: str, extra_env: dict[str, str]) -> Path:
    """A copy of the MCP world whose server gets `extra_env` (fault switches)."""
    folder = worlds["mcp"].parent / name
    if not folder.exists():
        shutil.copytree(worlds["mcp"], folder)
        toml = (folder / "world.toml").read_text(encoding="utf-8")
        toml = toml.replace("timeout_s = 20", "timeout_s = 3")
        pairs = ", ".join(f"{k} = {json.dumps(v)}" for k, v in extra_env.items())
        (folder / "world.toml").write_text(toml + f"env = {{ {pairs} }}\n", encoding="utf-8")
    return folder


def test_tools_come_from_the_server_with_their_annotations(worlds, monkeypatch, cache_dir):
    monkeypatch.setenv("APIGEN_MT_CACHE_DIR", str(cache_dir))
    before = digest(worlds["mcp"] / "app.sqlite")
    shown = cli("domains", "show", worlds["mcp"], "--json")
    assert shown.exit_code == 0, shown.output
    info = json.loads(shown.stdout)
    assert info["tool_source"] == "mcp"
    tools = {t["name"]: t for t in info["tools"]}
    assert tools["get_order"]["writes"] is False
    assert tools["get_order"]["evidence"] == "MCP annotation readOnlyHint=true"
    assert tools["cancel_order"]["writes"] is True
    python = json.loads(cli("domains", "show", worlds["python"], "--json").stdout)
    assert {t: v["writes"] for t, v in tools.items()} == {
        t["name"]: t["writes"] for t in python["tools"]
    }
    assert info["tables"] == python["tables"]
    assert digest(worlds["mcp"] / "app.sqlite") == before


def test_replays_reach_the_python_twins_final_states(worlds, monkeypatch, cache_dir, tmp_path):
    monkeypatch.setenv("APIGEN_MT_CACHE_DIR", str(cache_dir))
    tasks = worlds["python"] / "tasks.json"
    out = {}
    for kind in ("python", "mcp"):
        lines, dbs = tmp_path / f"{kind}.jsonl", tmp_path / kind
        result = cli(
            "replay", "--domain", worlds[kind], "--tasks", tasks, "--out", lines, "--databases", dbs
        )
        assert result.exit_code == 0, result.output
        out[kind] = [json.loads(x) for x in (tmp_path / f"{kind}.jsonl").read_text().splitlines()]
    assert [r["state_hash"] for r in out["mcp"]] == [r["state_hash"] for r in out["python"]]
    for mine, twin in zip(out["mcp"], out["python"], strict=True):
        for a, b in zip(mine["observations"], twin["observations"], strict=True):
            # the SDK indents its JSON; the values are the same
            assert json.loads(a) == json.loads(b) if a.startswith(("{", "[")) else a == b
    checked = cli("validate", "--domain", worlds["mcp"], "--tasks", tasks)
    assert checked.exit_code == 0, checked.output


def test_pooled_servers_start_every_episode_from_the_master(mcp_env):
    with mcp_env.sandbox() as first:
        assert first.call("cancel_order", {"order_id": 4, "reason": "no longer needed"}).ok
        assert [c.column for c in first.diff()] == ["Status", "*"]  # the order, an audit row
        assert first.state_hash() != mcp_env.state_hash()
        server = first.conn.slot.server
    with mcp_env.sandbox() as second:  # the same server, its file reset
        assert second.conn.slot.server is server
        assert second.state_hash() == mcp_env.state_hash() and second.diff() == []
        assert second.call("cancel_order", {"order_id": 4, "reason": "no longer needed"}).ok


def test_an_error_result_is_a_refusal_and_its_writes_are_undone(worlds, cache_dir):
    folder = _variant(worlds, "fails-after-write", {"ACME_FAIL_AFTER_WRITE": "1"})
    env = Environment.generated(get_domain(str(folder)), cache_dir=cache_dir)
    try:
        with env.sandbox() as box:
            entry = box.call("update_shipping_address", {"order_id": 4, "address": "Elm St 1"})
            assert not entry.ok and entry.observation.startswith("Error: ")
            assert box.diff() == [] and box.state_hash() == env.state_hash()
    finally:
        env.close()


def test_a_server_that_dies_mid_episode_ends_it_with_a_reason(worlds, cache_dir):
    folder = _variant(worlds, "crashes", {"ACME_CRASH_ON": "cancel_order"})
    env = Environment.generated(get_domain(str(folder)), cache_dir=cache_dir)
    try:
        box = env.sandbox()
        assert box.call("get_order", {"order_id": 4}).ok
        with pytest.raises(ToolUnavailable, match="world acme-mcp"):
            box.call("cancel_order", {"order_id": 4, "reason": "no longer needed"})
        box.close()  # the dead server's slot is dropped, not pooled
        with env.sandbox() as fresh:  # a new server serves the next episode
            assert fresh.call("get_order", {"order_id": 4}).ok
    finally:
        env.close()


def test_a_hanging_server_times_out(worlds, cache_dir):
    folder = _variant(worlds, "hangs", {"ACME_HANG_ON": "cancel_order"})
    env = Environment.generated(get_domain(str(folder)), cache_dir=cache_dir)
    try:
        with env.sandbox() as box, pytest.raises(ToolUnavailable, match="timed out after 3 s"):
            box.call("cancel_order", {"order_id": 4, "reason": "no longer needed"})
    finally:
        env.close()


def test_a_server_command_that_does_not_exist_is_a_clear_error(worlds):
    folder = worlds["mcp"].parent / "nowhere"
    shutil.copytree(worlds["mcp"], folder)
    toml = folder / "world.toml"
    toml.write_text(toml.read_text().replace('["python", "server.py"]', '["no-such-server"]'))
    with pytest.raises(WorldError, match=r"world\.toml: \[mcp\] command \['no-such-server'\]"):
        load_world(folder)
    broken = worlds["mcp"].parent / "broken"
    shutil.copytree(worlds["mcp"], broken)
    (broken / "server.py").write_text("import sys\nprint('boom', file=sys.stderr)\nsys.exit(1)\n")
    with pytest.raises(WorldError, match="boom"):  # its stderr is in the reason
        load_world(broken)


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_eval_and_generate_on_the_mcp_world(worlds, monkeypatch, cache_dir, tmp_path):
    monkeypatch.setenv("APIGEN_MT_CACHE_DIR", str(cache_dir))
    before = digest(worlds["mcp"] / "app.sqlite")
    oracle = OracleRoles(propose=propose_acme)
    for task in tasks_of(worlds["mcp"]):
        oracle.expect(task["instruction"], task["actions"], task["outputs"])
    with oracle_endpoint(monkeypatch, oracle=oracle):
        scored = cli("eval", "--domain", worlds["mcp"], "--tasks", worlds["python"] / "tasks.json",
                     "--trials", "1", "--out", tmp_path, "--json")  # fmt: skip
        assert scored.exit_code == 0, scored.output
        assert json.loads(scored.stdout.strip().splitlines()[-1])["pass_hat_k"] == [1.0]
        made = cli("generate", "--domain", worlds["mcp"], "--n", "4", "--out", tmp_path,
                   "--best-of-n", "1", "--trials", "1", "--json")  # fmt: skip
    assert made.exit_code == 0, made.output
    last = json.loads(made.stdout.strip().splitlines()[-1])
    funnel = last["funnel"]
    assert funnel["accepted_blueprints"] >= 2 and funnel["trajectories_unique"] >= 2
    exported = cli("export", last["run_id"], "--out", tmp_path, "--format", "openai")
    assert exported.exit_code == 0, exported.output
    rows = (tmp_path / "exports" / f"{last['run_id']}.openai.jsonl").read_text().splitlines()
    assert len(rows) == funnel["trajectories_unique"]
    tools = {t["function"]["name"]: t for t in json.loads(rows[0])["tools"]}
    assert tools["cancel_order"]["function"]["parameters"]["properties"]["reason"]["enum"]
    import asyncio

    from apigen_mt.browse import make_datasette

    page = asyncio.run(
        make_datasette(tmp_path / "runs.sqlite").client.get(f"/apigen/run/{last['run_id']}")
    )
    assert page.status_code == 200
    assert digest(worlds["mcp"] / "app.sqlite") == before


def test_domains_init_with_an_mcp_server(worlds, tmp_path):
    import tomllib

    target = worlds["mcp"].parent / "init-mcp"
    target.mkdir()
    shutil.copy(worlds["mcp"] / "server.py", target / "server.py")
    result = CliRunner().invoke(
        app,
        ["domains", "init", str(target), "--database", str(worlds["mcp"] / "app.sqlite"),
         "--mcp", "python server.py"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    config = tomllib.loads((target / "world.toml").read_text())
    assert config["mcp"] == {"command": ["python", "server.py"], "database_env": "WORLD_DB"}
    assert "cancel_order" in config["writes"] and "get_order" in config["reads"]
    assert "#   get_order: MCP annotation readOnlyHint=true" in (target / "world.toml").read_text()


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_crash_mid_dialogue_is_a_recorded_reason_and_the_run_goes_on(
    worlds, monkeypatch, cache_dir, tmp_path
):
    folder = _variant(worlds, "crashes-in-eval", {"ACME_CRASH_ON": "cancel_order"})
    monkeypatch.setenv("APIGEN_MT_CACHE_DIR", str(cache_dir))
    oracle = OracleRoles(propose=propose_acme)
    tasks = tasks_of(folder)[:2]  # a cancellation (the server dies), an address change
    for task in tasks:
        oracle.expect(task["instruction"], task["actions"], task["outputs"])
    file = tmp_path / "tasks.json"
    file.write_text(json.dumps(tasks))
    with oracle_endpoint(monkeypatch, oracle=oracle):
        scored = cli("eval", "--domain", folder, "--tasks", file, "--trials", "1",
                     "--out", tmp_path, "--json")  # fmt: skip
    assert scored.exit_code == 0, scored.output
    summary = json.loads(scored.stdout.strip().splitlines()[-1])
    assert summary["per_task"] == {"0": 0, "1": 1} or list(summary["per_task"].values()) == [0, 1]
    from apigen_mt.runs import store_at

    store = store_at(tmp_path)
    reasons = [t["reason"] for t in store.run_trajectories(summary["eval_id"])]
    assert any("tools: world acme-mcp" in r for r in reasons), reasons


def _python_with_mcp_v1() -> str:
    """A Python with the 1.x SDK (`mcp<2`), in a venv cached beside the databases."""
    from venvs import cached_venv

    return cached_venv("mcp-v1-venv", "mcp>=1.10,<2")


def test_a_server_written_for_the_1x_sdk_works_the_same(worlds, cache_dir):
    python = _python_with_mcp_v1()
    folder = worlds["mcp"].parent / "acme_mcp_v1"
    from world_helpers import WORLDS

    shutil.copytree(WORLDS / "acme_mcp_v1", folder)
    shutil.copy(worlds["python"] / "app.sqlite", folder / "app.sqlite")
    toml = folder / "world.toml"
    toml.write_text(
        toml.read_text().replace('["python", "server.py"]', json.dumps([python, "server.py"]))
    )
    domain = get_domain(str(folder))
    assert {t.name: t.writes for t in domain.tools} == {
        "get_order": False, "get_customer_orders": False, "cancel_order": True
    }  # fmt: skip
    assert domain.world.classified["cancel_order"].evidence == "MCP annotation destructiveHint=true"
    env = Environment.generated(domain, cache_dir=cache_dir)
    try:
        with env.sandbox() as box:
            assert (
                json.loads(box.call("get_order", {"order_id": 4}).observation)["Status"]
                == "Pending"
            )
            refused = box.call("cancel_order", {"order_id": 7, "reason": "no longer needed"})
            assert refused.observation == "Error: order 7 is Delivered; only Pending orders cancel"
            assert box.call("cancel_order", {"order_id": 4, "reason": "no longer needed"}).ok
            assert {(c.table, c.column) for c in box.diff()} == {
                ("Order", "Status"),
                ("AuditLog", "*"),
            }
    finally:
        env.close()
