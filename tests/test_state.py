"""State digests and row-level diffs."""

import sqlite3

import pytest

from apigen_mt.environments import Schema, Table, diff, render_diff, state_hash
from apigen_mt.environments.state import ROW

SCHEMA = Schema(
    tables=(Table("t", {"id": "text", "n": "num", "tags": "json", "ok": "bool"}, pk=("id",)),)
)


def _db(rows):
    import sqlite_utils

    conn = sqlite3.connect(":memory:", isolation_level=None)
    db = sqlite_utils.Database(conn)
    SCHEMA.create(db)
    SCHEMA.insert(db, "t", rows)
    return conn


def test_hash_is_stable_and_independent_of_insertion_order():
    a = _db([{"id": "a", "n": 1}, {"id": "b", "n": 2.5}])
    b = _db([{"id": "b", "n": 2.5}, {"id": "a", "n": 1}])
    assert state_hash(a, SCHEMA) == state_hash(b, SCHEMA)


def test_hash_sees_int_versus_float():
    assert state_hash(_db([{"id": "a", "n": 1}]), SCHEMA) != state_hash(
        _db([{"id": "a", "n": 1.0}]), SCHEMA
    )


def test_num_columns_keep_the_imported_type():
    conn = _db([{"id": "a", "n": 100}, {"id": "b", "n": 100.0}])
    assert [type(v) for (v,) in conn.execute("SELECT n FROM t ORDER BY id")] == [int, float]


def test_diff_reports_changed_added_and_deleted_rows():
    before = _db([{"id": "a", "n": 1, "tags": ["x"], "ok": True}, {"id": "gone", "n": 0}])
    after = _db([{"id": "a", "n": 1.0, "tags": ["x", "y"], "ok": True}, {"id": "new", "n": 3}])
    changes = diff(before, after, SCHEMA)
    got = {(c.key[0], c.column): (c.before, c.after) for c in changes}
    assert got[("a", "n")] == (1, 1.0)
    assert got[("a", "tags")] == (["x"], ["x", "y"])
    assert got[("gone", ROW)][1] is None and got[("new", ROW)][0] is None
    text = render_diff(changes)
    assert "~ t[a].tags: ['x'] -> ['x', 'y']" in text
    assert "+ t[new] added" in text and "- t[gone] deleted" in text
    assert diff(before, before, SCHEMA) == []
    assert render_diff([]) == "(no change to the database)"


def test_unknown_columns_are_refused():
    with pytest.raises(ValueError, match="unknown columns"):
        SCHEMA["t"].encode({"id": "a", "nope": 1})
