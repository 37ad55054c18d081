"""A world built the way a user builds one (plain sqlite3 functions over a real-shaped
database, tests/worlds/acme) works through every command: domains show, validate, replay,
eval with a scripted agent playing the gold, generate with the scripted oracle, export and
browse — and the user's database file is never modified."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from loopback import oracle_endpoint
from typer.testing import CliRunner
from world_helpers import digest, propose_acme, tasks_of, world_copy

from apigen_mt.cli import app
from apigen_mt.environments import Environment, get_domain
from apigen_mt.testing.scripted_roles import OracleRoles

LOOPBACK = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    return world_copy(tmp_path_factory.mktemp("worlds"))


@pytest.fixture(scope="module")
def original(world) -> str:
    return digest(world / "app.sqlite")


def cli(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_domains_show_derives_schema_classification_and_records(world, original, cli_env):
    result = cli("domains", "show", world, "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["name"] == "acme"
    tables = {t["name"]: t for t in shown["tables"]}
    assert set(tables) == {
        "Customer", "Product", "Order", "OrderLine", "Refund", "AuditLog", "sqlite_sequence"
    }  # fmt: skip
    assert tables["OrderLine"]["primary_key"] == ["OrderId", "LineNo"]  # composite
    assert tables["AuditLog"]["primary_key"] == ["rowid"]  # no declared key
    assert {"column": "CustomerId", "references": "Customer.CustomerId"} in tables["Order"][
        "foreign_keys"
    ]
    assert {c["name"]: c["type"] for c in tables["Product"]["columns"]}["UnitPrice"] == "REAL"
    writes = {t["name"]: t["writes"] for t in shown["tools"]}
    assert writes == {
        "find_customer_by_email": False, "get_customer_orders": False, "get_order": False,
        "get_product": False, "cancel_order": True, "update_shipping_address": True,
        "refund_order_line": True, "add_loyalty_points": True,
    }  # fmt: skip
    assert all(t["evidence"].startswith("SQL: ") for t in shown["tools"])
    assert [t["name"] for t in shown["not_tools"]] == ["summarize"]  # `dumps`: imported
    params = {t["name"]: t["parameters"] for t in shown["tools"]}
    # Google, NumPy and reST docstrings, and Annotated, all describe their arguments.
    assert "email address" in params["find_customer_by_email"]["properties"]["email"]["description"]
    assert params["get_customer_orders"]["properties"]["customer_id"]["description"]
    assert params["get_order"]["properties"]["order_id"]["description"] == "The order's numeric id."
    assert params["get_product"]["properties"]["sku"]["description"] == "The product's SKU."
    assert params["cancel_order"]["properties"]["reason"]["enum"] == [
        "no longer needed", "ordered by mistake"
    ]  # fmt: skip
    links = {(link["from"], link["to"]) for link in shown["api_graph"]}
    assert ("get_customer_orders", "cancel_order") in links
    assert ("get_order", "get_product") in links
    assert "committee alone" in shown["rules"]
    assert shown["walks"] and all(any(writes[t] for t in walk) for walk in shown["walks"])
    text = cli("domains", "show", world)
    assert text.exit_code == 0 and "user table: Customer" in " ".join(text.stdout.split())
    assert digest(world / "app.sqlite") == original


def test_records_follow_foreign_keys_and_narrow_integer_ids(world, cache_dir):
    domain = get_domain(str(world))
    with Environment.generated(domain, cache_dir=cache_dir) as env, env.sandbox() as box:
        user_id, text = domain.tasks.sample_records(box.db, random.Random(3))
        records = json.loads(text)
        assert records["Customer"]["CustomerId"] == int(user_id)
        orders = {o["OrderId"] for o in records["Order"]}
        assert orders and all(o["CustomerId"] == int(user_id) for o in records["Order"])
        assert {line["OrderId"] for line in records["OrderLine"]} <= orders  # grandchildren
        skus = {line["Sku"] for line in records["OrderLine"]}
        assert {p["Sku"] for p in records["Product"]} == skus  # parents of collected rows
        choices = domain.tasks.id_choices(records)
        assert choices["order_id"] == sorted(str(o) for o in orders)
        assert choices["customer_id"] == [user_id]
        assert "sku" not in choices  # any product may be meant, not only the user's own
        again = domain.tasks.records_for(box.db, user_id)
        assert json.loads(again) == records


def test_tool_calls_as_users_write_them(world, cache_dir):
    env = Environment.generated(get_domain(str(world)), cache_dir=cache_dir)
    with env.sandbox() as box:
        # numbers as strings are coerced as the hints say; extra keys are refused
        ok = box.call("get_customer_orders", {"customer_id": "4"})
        assert ok.ok and json.loads(ok.observation)[0]["OrderId"] in (6, 7)
        bad = box.call("get_order", {"order_id": 7, "verbose": True})
        assert not bad.ok and "verbose" in bad.observation
        # an exception is a refusal: `Error: <message>`, and the call's writes are undone
        refused = box.call("cancel_order", {"order_id": 7, "reason": "no longer needed"})
        assert refused.observation == "Error: order 7 is Delivered; only Pending orders cancel"
        # conn.rollback() inside a tool undoes only that call's writes
        assert box.call("add_loyalty_points", {"customer_id": 1, "points": 5}).ok
        missing = box.call("add_loyalty_points", {"customer_id": 999, "points": 5})
        assert missing.observation == "Error: no such customer"
        # conn.commit() and `with conn:` stay inside the sandbox and the call's savepoint
        assert box.call("cancel_order", {"order_id": 4, "reason": "no longer needed"}).ok
        refund = box.call("refund_order_line", {"line": {"order_id": 7, "line_no": 2}})
        assert json.loads(refund.observation) == {"RefundId": 1, "Amount": 129.99}
        twice = box.call("refund_order_line", {"line": {"order_id": 7, "line_no": 2}})
        assert twice.observation == "Error: line already refunded (refund 1)"
        changed = {(c.table, c.column) for c in box.diff()}
        assert changed == {
            ("Customer", "LoyaltyPoints"), ("Order", "Status"), ("AuditLog", "*"),
            ("Refund", "*"), ("sqlite_sequence", "*"),
        }  # fmt: skip
        assert box.executor.undeclared_writes == []
        from apigen_mt.environments import state_hash

        assert box.state_hash() == state_hash(box.conn, env.domain.schema)  # incremental = full
    with env.sandbox() as fresh:  # nothing leaked into the next episode
        assert fresh.state_hash() == env.state_hash() and fresh.diff() == []


def test_a_read_that_writes_is_impossible_to_miss(tmp_path, cache_dir):
    folder = world_copy(tmp_path)
    tools = folder / "tools.py"
    tools.write_text(
        tools.read_text(encoding="utf-8")
        + '''

def view_product(conn: sqlite3.Connection, sku: str) -> dict:
    """Look a product up (and, sloppily, count the view)."""
    conn.execute("UPDATE Product SET InStock = InStock WHERE Sku = ?", (sku,))
    return get_product(conn, sku)
''',
        encoding="utf-8",
    )
    (folder / "world.toml").write_text(
        (folder / "world.toml").read_text() + 'reads = ["view_product"]\n', encoding="utf-8"
    )
    domain = get_domain(str(folder))
    shown = domain.world.classified["view_product"]
    assert not shown.writes and "BUT observed" in shown.evidence
    task = [{"user_id": "3", "instruction": "x", "actions": [
        {"name": "view_product", "arguments": {"sku": "LAMP-H"}},
        {"name": "cancel_order", "arguments": {"order_id": 4, "reason": "no longer needed"}},
    ], "outputs": []}]  # fmt: skip
    file = tmp_path / "t.json"
    file.write_text(json.dumps(task))
    result = CliRunner().invoke(
        app,
        ["validate", "--domain", str(folder), "--tasks", str(file), "--cache-dir", str(cache_dir)],
    )
    assert result.exit_code == 1
    assert "view_product) is classified as a read but changed the database" in " ".join(
        result.output.split()
    )


def test_validate_and_replay_with_final_databases(world, original, cli_env, tmp_path):
    tasks = world / "tasks.json"
    checked = cli("validate", "--domain", world, "--tasks", tasks, "--json")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout.splitlines()[-1])["passed"] == 4
    out, dbs = tmp_path / "replay.jsonl", tmp_path / "dbs"
    replayed = cli("replay", "--domain", world, "--tasks", tasks, "--out", out, "--databases", dbs)
    assert replayed.exit_code == 0, replayed.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["task_index"] for line in lines] == [0, 1, 2, 3]
    assert lines[2]["observations"][-1] == '{"RefundId": 1, "Amount": 99.0}'
    # each final database is a plain SQLite file anyone can read with their own code
    final = sqlite3.connect(dbs / "2.sqlite")
    assert final.execute("SELECT OrderId, LineNo, Amount FROM Refund").fetchall() == [(7, 1, 99.0)]
    names = {r[0] for r in final.execute("SELECT name FROM sqlite_master")}
    assert "_dirty" not in names and not any(n.startswith("_dirty") for n in names)
    cancelled = sqlite3.connect(dbs / "0.sqlite").execute(
        'SELECT Status FROM "Order" WHERE OrderId = 4'
    )
    assert cancelled.fetchone() == ("Cancelled",)
    assert len({line["state_hash"] for line in lines}) == 4
    assert digest(world / "app.sqlite") == original


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_eval_with_an_agent_playing_the_gold_scores_one(world, original, cli_env, tmp_path):
    oracle = OracleRoles(propose=propose_acme)
    for task in tasks_of(world):
        oracle.expect(task["instruction"], task["actions"], task["outputs"])
    with oracle_endpoint(cli_env, oracle=oracle):
        result = cli("eval", "--domain", world, "--tasks", world / "tasks.json", "--trials", "2",
                     "--out", tmp_path, "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["pass_hat_k"] == [1.0, 1.0]
    assert digest(world / "app.sqlite") == original


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_generate_export_and_browse_a_world_run(world, original, cli_env, tmp_path):
    with oracle_endpoint(cli_env, oracle=OracleRoles(propose=propose_acme)):
        result = cli("generate", "--domain", world, "--n", "6", "--out", tmp_path,
                     "--best-of-n", "1", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    last = json.loads(result.stdout.strip().splitlines()[-1])
    funnel = last["funnel"]
    assert funnel["attempts"] == 6 and funnel["accepted_blueprints"] >= 4
    assert funnel["trajectories_unique"] >= funnel["accepted_blueprints"]
    report = json.loads(cli("report", last["run_id"], "--out", tmp_path, "--json").stdout)
    assert report["funnel"] == funnel
    exported = cli("export", last["run_id"], "--out", tmp_path, "--format", "openai")
    assert exported.exit_code == 0, exported.output
    rows = [
        json.loads(line)
        for line in (tmp_path / "exports" / f"{last['run_id']}.openai.jsonl")
        .read_text()
        .splitlines()
    ]
    assert len(rows) == funnel["trajectories_unique"]
    names = {t["function"]["name"] for t in rows[0]["tools"]}
    assert {"cancel_order", "refund_order_line"} <= names
    calls = {
        c["function"]["name"] for r in rows for m in r["messages"] for c in m.get("tool_calls", [])
    }
    assert calls & {"cancel_order", "refund_order_line", "add_loyalty_points"}
    pytest.importorskip("datasette")
    import asyncio

    from apigen_mt.browse import make_datasette

    ds = make_datasette(tmp_path / "runs.sqlite")
    page = asyncio.run(ds.client.get(f"/apigen/run/{last['run_id']}"))
    assert page.status_code == 200 and "acme" in page.text
    assert digest(world / "app.sqlite") == original


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_generate_with_workers_on_a_world(world, original, cli_env, tmp_path):
    """Worker processes load the world from the path the run stores."""
    with oracle_endpoint(cli_env, oracle=OracleRoles(propose=propose_acme)):
        result = cli("generate", "--domain", world, "--n", "6", "--out", tmp_path,
                     "--best-of-n", "1", "--trials", "1", "--workers", "2", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    last = json.loads(result.stdout.strip().splitlines()[-1])
    from apigen_mt.runs import store_at

    [run] = store_at(tmp_path).runs()
    assert run["domain"] == str(world) and run["config"]["shards"] == 2
    assert last["funnel"]["attempts"] == 6 and last["funnel"]["accepted_blueprints"] >= 4
    assert digest(world / "app.sqlite") == original


def test_a_worlds_own_rules_are_checked(tmp_path, cache_dir):
    folder = world_copy(tmp_path)
    (folder / "rules.py").write_text(
        '''"""Acme's policy rules, with apigen-mt's RuleSet API."""

from apigen_mt.environments import RuleSet

RULES = RuleSet()


@RULES.rule("own_orders_only", tools=["cancel_order", "update_shipping_address"])
def own_orders_only(ctx):
    """Act only on the identified customer's own orders."""
    row = ctx.db.execute(
        'SELECT CustomerId FROM "Order" WHERE OrderId = ?', [ctx.args["order_id"]]
    ).fetchone()
    if row and ctx.user_id and str(row[0]) != ctx.user_id:
        return f"order {ctx.args['order_id']} belongs to customer {row[0]}"
    return None
''',
        encoding="utf-8",
    )
    toml = folder / "world.toml"
    toml.write_text(toml.read_text() + 'rules = "rules.py"\n', encoding="utf-8")
    domain = get_domain(str(folder))
    assert [r.name for r in domain.rules.rules] == ["own_orders_only"]
    assert "rules from rules.py" in domain.world.describe()["rules"]
    task = {"user_id": "3", "instruction": "Cancel order 11.", "outputs": [],
            "actions": [{"name": "cancel_order",
                         "arguments": {"order_id": 11, "reason": "no longer needed"}}]}  # fmt: skip
    file = tmp_path / "t.json"
    file.write_text(json.dumps([task]))
    args = ["validate", "--domain", folder, "--tasks", file, "--cache-dir", cache_dir]
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 1
    assert "policy [own_orders_only]: action 0 (cancel_order): order 11 belongs to customer 6" in (
        " ".join(result.output.split())
    )


@pytest.mark.local_model
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_generate_on_a_world_with_the_embedded_model(world, original, cli_env, tmp_path):
    """The offline default on a user's world: whatever the 135M model manages, every attempt
    is accounted for in the funnel and the database is untouched."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip('llama-cpp-python not installed (pip install -e ".[local]")')
    for name in ("APIGEN_MT_BASE_URL", "APIGEN_MT_MODEL", "APIGEN_MT_API_KEY"):
        cli_env.delenv(name, raising=False)
    result = cli("generate", "--domain", world, "--n", "2", "--out", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    last = json.loads(result.stdout.strip().splitlines()[-1])
    from apigen_mt.report import run_report
    from apigen_mt.runs import store_at

    report = run_report(store_at(tmp_path), last["run_id"])
    assert report.funnel["attempts"] == 2 and report.adds_up()
    assert digest(world / "app.sqlite") == original


def test_every_hint_a_user_writes_becomes_a_schema(tmp_path, cache_dir):
    folder = world_copy(tmp_path)
    (folder / "tools.py").write_text(
        '''import sqlite3
from typing import Optional

from pydantic import BaseModel


class Window(BaseModel):
    start: str
    days: int = 7


def search_orders(
    conn: sqlite3.Connection,
    statuses: list[str],
    min_total: float = 0.0,
    city: Optional[str] = None,
    window: Window | None = None,
    flags: dict[str, bool] | None = None,
    newest_first: bool = True,
) -> list[dict]:
    """Search orders.

    :param statuses: Order statuses to include.
    :param min_total: The smallest total.
    :param city: Only this city.
    :param window: A date window.
    """
    sql = 'SELECT OrderId, Total FROM "Order" WHERE Status IN (%s) AND Total >= ?' % (
        ",".join("?" * len(statuses))
    )
    rows = conn.execute(sql, (*statuses, min_total)).fetchall()
    rows.sort(key=lambda r: r[0], reverse=newest_first)
    return [{"OrderId": i, "Total": t, "window": window.model_dump() if window else None}
            for i, t in rows]


def close_order(conn: sqlite3.Connection, order_id: int) -> None:
    """Close an order."""
    conn.execute('UPDATE "Order" SET Status = ? WHERE OrderId = ?', ("Closed", order_id))
''',
        encoding="utf-8",
    )
    domain = get_domain(str(folder))
    params = domain.tools["search_orders"].parameters
    props = params["properties"]
    assert props["statuses"]["type"] == "array" and props["min_total"]["type"] == "number"
    assert props["statuses"]["description"] == "Order statuses to include."
    assert {"type": "null"} in props["city"]["anyOf"] and params["required"] == ["statuses"]
    assert props["flags"]["anyOf"][0]["additionalProperties"] == {"type": "boolean"}
    assert "Window" in params["$defs"] and props["newest_first"]["type"] == "boolean"
    with Environment.generated(domain, cache_dir=cache_dir) as env, env.sandbox() as box:
        found = box.call(
            "search_orders",
            {"statuses": ["Pending"], "min_total": "200", "window": {"start": "2026-01-01"}},
        )
        assert found.ok, found.observation
        rows = json.loads(found.observation)
        assert rows and rows[0]["window"] == {"start": "2026-01-01", "days": 7}
        assert box.call("close_order", {"order_id": 4}).observation == "null"
        assert domain.tools["close_order"].writes


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_run_refuses_to_resume_on_a_changed_world_database(cli_env, tmp_path):
    world = world_copy(tmp_path / "w")
    with oracle_endpoint(cli_env, oracle=OracleRoles(propose=propose_acme)):
        args = ["generate", "--domain", world, "--n", "2", "--out", tmp_path / "out",
                "--best-of-n", "1", "--trials", "1", "--json"]  # fmt: skip
        first = cli(*args)
        run_id = json.loads(first.stdout.strip().splitlines()[-1])["run_id"]
        conn = sqlite3.connect(world / "app.sqlite")  # the user's data moves on
        conn.execute("UPDATE Product SET InStock = InStock + 1")
        conn.commit()
        conn.close()
        resumed = cli(*args, "--resume", run_id)
        assert resumed.exit_code == 2
        import re

        said = re.sub(r"[│╭╮╰╯─\s]+", " ", resumed.output)  # typer's error box, unwrapped
        assert "changed since this run started" in said
        fresh = cli(*args)  # the same command starts a new run on the new data
        assert (
            fresh.exit_code == 0 and json.loads(fresh.stdout.splitlines()[-1])["run_id"] != run_id
        )


def test_a_worlds_database_is_read_once_until_it_changes(tmp_path, monkeypatch):
    """A run asks for its world's cached copy several times (opening the run, its workers,
    the environment); only a changed file is read again."""
    from apigen_mt.environments import environment

    world = world_copy(tmp_path)
    reads = []
    real = environment.read_only_copy
    monkeypatch.setattr(environment, "read_only_copy", lambda p: reads.append(p) or real(p))
    first = [environment.copy_cached(world / "app.sqlite", tmp_path / "c") for _ in range(3)]
    assert len(set(first)) == 1 and len(reads) == 1
    conn = sqlite3.connect(world / "app.sqlite")
    conn.execute("UPDATE Product SET InStock = InStock + 1")
    conn.commit()
    conn.close()
    changed = environment.copy_cached(world / "app.sqlite", tmp_path / "c")
    assert len(reads) == 2 and changed != first[0]
