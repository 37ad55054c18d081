"""Master databases (built once, read-only), sandboxes, the seeded generator."""

import sqlite3

import pytest

from apigen_mt.environments import Environment, get_domain
from apigen_mt.environments.retail.data import generate_json
from apigen_mt.environments.state import state_hash


def test_master_is_read_only(retail_env):
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        retail_env.master.execute("DELETE FROM users")


def test_sandbox_changes_never_reach_the_master_or_other_sandboxes(retail_env):
    before = retail_env.state_hash()
    with retail_env.sandbox() as a, retail_env.sandbox() as b:
        order = a.db.execute(
            "SELECT order_id FROM orders WHERE status = 'pending' LIMIT 1"
        ).fetchone()[0]
        assert a.call("cancel_pending_order", {"order_id": order, "reason": "no longer needed"}).ok
        assert a.state_hash() != b.state_hash() == before
        changes = a.diff()
        assert {(c.table, c.column) for c in changes} >= {
            ("orders", "status"),
            ("orders", "cancel_reason"),
        }
        assert a.diff(b) == changes
    assert retail_env.state_hash() == before


def _pending_order(sandbox) -> str:
    sql = "SELECT order_id FROM orders WHERE status = 'pending' LIMIT 1"
    return sandbox.db.execute(sql).fetchone()[0]


def _cancel(sandbox) -> None:
    arguments = {"order_id": _pending_order(sandbox), "reason": "no longer needed"}
    assert sandbox.call("cancel_pending_order", arguments).ok


def test_a_closed_sandbox_connection_is_reused_with_its_writes_undone(cache_dir):
    env = Environment.generated("retail", seed=0, cache_dir=cache_dir)
    master = env.state_hash()
    first = env.sandbox()
    _cancel(first)
    first.conn.execute("DELETE FROM users WHERE rowid = 1")  # a write outside any tool
    conn = first.conn
    first.close()
    with env.sandbox() as second:
        assert second.conn is conn  # reused, not copied again from the image
        assert second.state_hash() == master == state_hash(second.conn, env.domain.schema)
        assert second.diff() == []
    env.close()


def test_a_committed_write_retires_the_connection(cache_dir):
    env = Environment.generated("retail", seed=0, cache_dir=cache_dir)
    master = env.state_hash()
    for escape in ("COMMIT", "END"):
        sandbox = env.sandbox()
        _cancel(sandbox)
        sandbox.conn.execute(escape)  # a tool that broke the rule and committed
        _cancel(sandbox)  # later calls commit one by one, as on any autocommit connection
        conn = sandbox.conn
        sandbox.close()
        with env.sandbox() as fresh:
            assert fresh.conn is not conn
            assert fresh.state_hash() == master
    env.close()


def test_a_committed_schema_change_retires_the_connection(cache_dir):
    env = Environment.generated("retail", seed=0, cache_dir=cache_dir)
    sandbox = env.sandbox()
    sandbox.conn.execute("CREATE TABLE rolled_back (x)")  # undone with the transaction
    conn = sandbox.conn
    sandbox.close()
    with env.sandbox() as again:
        assert again.conn is conn
        assert "rolled_back" not in again.db.table_names()
        again.conn.execute("COMMIT")
        again.conn.execute("CREATE TABLE kept (x)")
    with env.sandbox() as fresh:
        assert fresh.conn is not conn
        assert "kept" not in fresh.db.table_names()
    env.close()


def test_a_closed_sandbox_cannot_reach_the_connection_it_gave_back(retail_env):
    sandbox = retail_env.sandbox()
    sandbox.close()
    sandbox.close()  # closing twice gives nothing back twice
    with retail_env.sandbox() as other, retail_env.sandbox() as another:
        assert other.conn is not another.conn
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            sandbox.call("get_order_details", {"order_id": _pending_order(other)})
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            sandbox.conn.execute("DELETE FROM orders")
        assert other.state_hash() == retail_env.state_hash()


def test_master_is_built_once_and_reused(cache_dir):
    first = Environment.generated("retail", seed=0, cache_dir=cache_dir)
    mtime = first.master_path.stat().st_mtime_ns
    second = Environment.generated("retail", seed=0, cache_dir=cache_dir)
    assert second.master_path == first.master_path
    assert second.master_path.stat().st_mtime_ns == mtime


def test_generator_is_deterministic_and_at_taubench_scale(retail_env, cache_dir):
    assert generate_json(0) == generate_json(0)
    assert generate_json(0) != generate_json(1)
    other = Environment.generated("retail", seed=1, cache_dir=cache_dir)
    assert other.state_hash() != retail_env.state_hash()
    counts = {
        t: retail_env.master.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("users", "orders", "products")
    }
    assert counts == {"users": 500, "orders": 1000, "products": 50}
    statuses = {s for (s,) in retail_env.master.execute("SELECT DISTINCT status FROM orders")}
    assert statuses == {"pending", "processed", "delivered", "cancelled"}


def test_generated_data_is_consistent(retail_env):
    m = retail_env.master
    # Every order's payment method belongs to its user; every order item is a real variant.
    assert (
        m.execute(
            "SELECT count(*) FROM payments p JOIN orders o USING (order_id) "
            "LEFT JOIN payment_methods pm ON pm.payment_method_id = p.payment_method_id "
            "AND pm.user_id = o.user_id WHERE pm.user_id IS NULL"
        ).fetchone()[0]
        == 0
    )
    assert (
        m.execute(
            "SELECT count(*) FROM order_items i LEFT JOIN variants v "
            "ON v.item_id = i.item_id AND v.product_id = i.product_id "
            "WHERE v.item_id IS NULL"
        ).fetchone()[0]
        == 0
    )


def test_unknown_domain_is_a_clear_error():
    with pytest.raises(KeyError, match=r"unknown domain 'nope'; known: .*retail"):
        get_domain("nope")


def test_missing_taubench_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"users\.json, orders\.json, products\.json"):
        Environment.from_taubench("retail", tmp_path, cache_dir=tmp_path)
