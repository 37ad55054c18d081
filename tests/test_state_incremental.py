"""The sandbox's incremental state hash and diff always equal a full recompute."""

from hypothesis import given, settings
from hypothesis import strategies as st

from apigen_mt.environments import state_hash
from apigen_mt.environments.state import diff


def _candidate_calls(env):
    q = env.master.execute
    calls = []
    for order_id, status, user in q(
        "SELECT order_id, status, user_id FROM orders ORDER BY rowid LIMIT 40"
    ):
        methods = [
            r[0]
            for r in q("SELECT payment_method_id FROM payment_methods WHERE user_id = ?", [user])
        ]
        items = [
            r
            for r in q(
                "SELECT i.item_id, v.item_id FROM order_items i JOIN variants v "
                "ON v.product_id = i.product_id AND v.item_id != i.item_id "
                "AND v.available = 1 WHERE i.order_id = ? LIMIT 1",
                [order_id],
            )
        ]
        calls.append(("cancel_pending_order", {"order_id": order_id, "reason": "no longer needed"}))
        calls.append(
            (
                "modify_pending_order_address",
                {
                    "order_id": order_id,
                    "address1": "1 A St",
                    "address2": "",
                    "city": "X",
                    "state": "NY",
                    "country": "USA",
                    "zip": "10001",
                },
            )
        )
        for m in methods:
            calls.append(
                ("modify_pending_order_payment", {"order_id": order_id, "payment_method_id": m})
            )
            if items:
                old, new = items[0]
                kind = (
                    "modify_pending_order_items"
                    if status == "pending"
                    else "exchange_delivered_order_items"
                )
                calls.append(
                    (
                        kind,
                        {
                            "order_id": order_id,
                            "item_ids": [old],
                            "new_item_ids": [new],
                            "payment_method_id": m,
                        },
                    )
                )
                calls.append(
                    (
                        "return_delivered_order_items",
                        {"order_id": order_id, "item_ids": [old], "payment_method_id": m},
                    )
                )
        calls.append(
            (
                "modify_user_address",
                {
                    "user_id": user,
                    "address1": "2 B St",
                    "address2": "Apt 1",
                    "city": "Y",
                    "state": "CA",
                    "country": "USA",
                    "zip": "94105",
                },
            )
        )
    return calls


def test_incremental_hash_equals_full_hash(retail_env):
    candidates = _candidate_calls(retail_env)

    @settings(max_examples=30, deadline=None)
    @given(st.lists(st.sampled_from(candidates), min_size=1, max_size=8))
    def check(calls):
        with retail_env.sandbox() as sandbox:
            for name, args in calls:
                sandbox.call(name, args)
                assert sandbox.state_hash() == state_hash(sandbox.conn, retail_env.domain.schema)

    check()


def test_direct_writes_and_deletes_are_tracked(retail_env):
    with retail_env.sandbox() as sandbox:
        sandbox.conn.execute(
            "DELETE FROM fulfillments WHERE rowid IN (SELECT rowid FROM fulfillments LIMIT 3)"
        )
        sandbox.conn.execute(
            "INSERT OR REPLACE INTO products (product_id, name) "
            "SELECT product_id, name || ' v2' FROM products LIMIT 1"
        )
        assert sandbox.state_hash() == state_hash(sandbox.conn, retail_env.domain.schema)
        assert sandbox.state_hash() != retail_env.state_hash()


def test_diff_of_the_written_rows_equals_the_full_diff(retail_env):
    candidates = _candidate_calls(retail_env)
    schema = retail_env.domain.schema
    calls = st.lists(st.sampled_from(candidates), max_size=6)

    @settings(max_examples=25, deadline=None)
    @given(calls, calls)
    def check(mine, theirs):
        with retail_env.sandbox() as a, retail_env.sandbox() as b:
            for sandbox, sequence in ((a, mine), (b, theirs)):
                for name, args in sequence:
                    sandbox.call(name, args)
            assert a.diff() == diff(retail_env.master, a.conn, schema)
            assert a.diff(b) == diff(b.conn, a.conn, schema)
            assert b.diff(a) == diff(a.conn, b.conn, schema)

    check()


def test_diff_sees_direct_deletes_replacements_and_key_changes(retail_env):
    schema = retail_env.domain.schema
    with retail_env.sandbox() as a, retail_env.sandbox() as b:
        a.conn.execute(
            "DELETE FROM fulfillments WHERE rowid IN (SELECT rowid FROM fulfillments LIMIT 2)"
        )
        a.conn.execute(
            "INSERT OR REPLACE INTO products (product_id, name) "
            "SELECT product_id, name || ' v2' FROM products LIMIT 1"
        )
        b.conn.execute("UPDATE users SET user_id = user_id || '_x' WHERE rowid = 3")
        for x, y in ((a, None), (b, None), (a, b), (b, a)):
            base = retail_env.master if y is None else y.conn
            assert x.diff(y) == diff(base, x.conn, schema) != []
