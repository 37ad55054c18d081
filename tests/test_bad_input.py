"""Hostile and malformed tool calls: always an observation, never a crash, never a leak.

Every retail tool is called with schema-shaped arguments full of SQL-injection strings and
real ids, and with arbitrary junk. A refused call changes nothing; a read changes nothing;
the master database never changes.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apigen_mt.environments import get_domain, state_hash

INJECTIONS = [
    "'; DROP TABLE orders; --",
    '" OR 1=1 --',
    "#W0000000' OR '1'='1",
    "x'); DELETE FROM users; --",
    "1; UPDATE payment_methods SET balance = 1e9",
    "%' UNION SELECT * FROM users --",
    "\x00",
    "",
    "9**9**9**9",
]
TOOLS = get_domain("retail").tools


def _real_ids(env) -> list[str]:
    q = env.master.execute
    ids = [r[0] for r in q("SELECT order_id FROM orders ORDER BY rowid LIMIT 5")]
    ids += [r[0] for r in q("SELECT user_id FROM users ORDER BY rowid LIMIT 3")]
    ids += [r[0] for r in q("SELECT payment_method_id FROM payment_methods LIMIT 5")]
    ids += [r[0] for r in q("SELECT item_id FROM order_items LIMIT 5")]
    ids += [r[0] for r in q("SELECT product_id FROM products LIMIT 3")]
    return ids


def _value_for(spec: dict, strings: st.SearchStrategy) -> st.SearchStrategy:
    if "enum" in spec:
        return st.one_of(st.sampled_from(spec["enum"]), strings)
    if spec.get("type") == "array":
        return st.lists(strings, max_size=4)
    return strings


def _shaped_arguments(tool, strings) -> st.SearchStrategy:
    props = tool.parameters.get("properties", {})
    return st.fixed_dictionaries({k: _value_for(v, strings) for k, v in props.items()})


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def master_hash(retail_env):
    before = state_hash(retail_env.master, retail_env.domain.schema)
    yield before
    assert state_hash(retail_env.master, retail_env.domain.schema) == before


@pytest.mark.parametrize("tool", list(TOOLS), ids=lambda t: t.name)
def test_hostile_arguments_never_crash_or_leak(retail_env, master_hash, tool):
    strings = st.sampled_from(INJECTIONS + _real_ids(retail_env)) | st.text(max_size=30)
    tables = retail_env.master.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(args=_shaped_arguments(tool, strings) | st.dictionaries(st.text(max_size=10), JUNK))
    def check(args):
        with retail_env.sandbox() as sandbox:
            before = sandbox.state_hash()
            entry = sandbox.call(tool.name, args)
            assert isinstance(entry.observation, str)
            assert entry.ok or entry.observation.startswith("Error: ")
            if not entry.ok or not tool.writes:
                assert sandbox.state_hash() == before
            n = sandbox.conn.execute("SELECT count(*) FROM main.sqlite_master").fetchone()[0]
            assert n == tables

    check()


@given(name=st.text(max_size=30), args=JUNK)
@settings(max_examples=60, deadline=None)
def test_unknown_tools_and_non_object_arguments(retail_env, name, args):
    with retail_env.sandbox() as sandbox:
        entry = sandbox.call(name, args)
        if name not in TOOLS or not isinstance(args, dict):
            assert not entry.ok and entry.observation.startswith("Error: ")


def test_calculator_refuses_runaway_arithmetic(retail_env):
    with retail_env.sandbox() as sandbox:
        assert sandbox.call("calculate", {"expression": "(2 + 3) * 4 / 3"}).observation == "6.67"
        assert sandbox.call("calculate", {"expression": "1 / 0"}).observation == (
            "Error: division by zero"
        )
        for bad in ("9**9**9**9", "((9**99)**99)**99", "__import__('os')", "2 ** -1000000"):
            entry = sandbox.call("calculate", {"expression": bad})
            assert entry.observation.startswith("Error: "), bad
