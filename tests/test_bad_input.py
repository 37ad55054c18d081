"""Hostile and malformed tool calls: always an observation, never a crash, never a leak.

Every tool of every built-in domain is called with schema-shaped arguments full of
SQL-injection strings and real ids, and with arbitrary junk. A refused call changes
nothing; a read changes nothing; the master database never changes.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apigen_mt.environments import Environment, get_domain, state_hash

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
DOMAINS = ["retail", "airline", "banking"]
TOOLS = get_domain("retail").tools


def _real_ids(env) -> list[str]:
    """A few real key values from every table (ids an attacker would try)."""
    ids: list[str] = []
    for table in env.domain.schema.tables:
        for column in table.pk:
            rows = env.master.execute(f'SELECT "{column}" FROM "{table.name}" LIMIT 3')
            ids += [str(r[0]) for r in rows]
    return ids


def _value_for(spec: dict, strings: st.SearchStrategy) -> st.SearchStrategy:
    if "enum" in spec:
        return st.one_of(st.sampled_from(spec["enum"]), strings)
    if spec.get("type") == "array":
        items = spec.get("items", {})
        inner = _object_of(items, strings) if "properties" in items else strings
        return st.lists(inner, max_size=4)
    if spec.get("type") == "integer" or "anyOf" in spec:
        return st.integers(-3, 10**6) | st.floats(allow_nan=True) | strings
    return strings


def _object_of(spec: dict, strings: st.SearchStrategy) -> st.SearchStrategy:
    props = spec.get("properties", {})
    return st.fixed_dictionaries({k: _value_for(v, strings) for k, v in props.items()})


def _shaped_arguments(tool, strings) -> st.SearchStrategy:
    return _object_of(tool.parameters, strings)


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def environments(cache_dir):
    envs = {name: Environment.generated(name, seed=0, cache_dir=cache_dir) for name in DOMAINS}
    before = {n: state_hash(e.master, e.domain.schema) for n, e in envs.items()}
    yield envs
    for name, env in envs.items():
        assert state_hash(env.master, env.domain.schema) == before[name], name


@pytest.mark.parametrize(
    ("domain", "tool"),
    [(d, t) for d in DOMAINS for t in get_domain(d).tools],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_hostile_arguments_never_crash_or_leak(environments, domain, tool):
    env = environments[domain]
    strings = st.sampled_from(INJECTIONS + _real_ids(env)) | st.text(max_size=30)
    with env.sandbox() as fresh:  # the master's tables plus the change tracking
        tables = fresh.conn.execute("SELECT count(*) FROM main.sqlite_master").fetchone()[0]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(args=_shaped_arguments(tool, strings) | st.dictionaries(st.text(max_size=10), JUNK))
    def check(args):
        with env.sandbox() as sandbox:
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
