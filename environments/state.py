"""State digests and row-level diffs of a domain database (the paper's `diff_patch`)."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from pydantic import BaseModel

from .schema import Schema, Table, quote

ROW = "*"  # the column name used for a whole row added or deleted


class RowChange(BaseModel):
    """One change: a column of a keyed row, or a whole row (column `*`) added or deleted."""

    table: str
    key: list[Any]
    column: str
    before: Any = None
    after: Any = None


def state_hash(conn: sqlite3.Connection, schema: Schema) -> str:
    """Stable digest of every row of every table (types included, row order irrelevant)."""
    return RowDigests(conn, schema).hexdigest()


_MOD = 1 << 128


def _row_digest(row: tuple) -> int:
    # repr keeps 1 and 1.0 apart and quotes strings, so distinct rows digest apart.
    return int.from_bytes(hashlib.blake2b(repr(row).encode(), digest_size=16).digest(), "big")


def _finish(sums: dict[str, tuple[int, int]]) -> str:
    digest = hashlib.sha256()
    for name in sorted(sums):
        count, total = sums[name]
        digest.update(f"{name}:{count}:{total:032x};".encode())
    return digest.hexdigest()


class RowDigests:
    """Per-row digests of a database, summed per table (a multiset hash).

    Summing makes the state hash incremental: a sandbox that changed a few rows re-digests
    only those rows against its master's cached digests, instead of every row.
    """

    def __init__(self, conn: sqlite3.Connection, schema: Schema):
        self.rows: dict[str, dict[int, int]] = {
            t.name: {
                rid: _row_digest(tuple(rest))
                for rid, *rest in conn.execute(f"SELECT rowid, * FROM {quote(t.name)}")
            }
            for t in schema.tables
        }
        self.sums = {name: (len(r), sum(r.values()) % _MOD) for name, r in self.rows.items()}
        # Tables no trigger can watch are digested whole each time (they are small).
        self.untracked = [t.name for t in schema.tables if not t.tracked]

    def hexdigest(self) -> str:
        return _finish(self.sums)

    def updated(self, conn: sqlite3.Connection, dirty: dict[str, set[int]]) -> str:
        """The digest of `conn`, equal to ours except for the `dirty` rowids per table."""
        sums = dict(self.sums)
        for table in self.untracked:
            rows = conn.execute(f"SELECT * FROM {quote(table)}")
            digests = [_row_digest(tuple(r)) for r in rows]
            sums[table] = (len(digests), sum(digests) % _MOD)
        for table, rowids in dirty.items():
            count, total = sums[table]
            base = self.rows[table]
            for rid in rowids:
                if rid in base:
                    count, total = count - 1, total - base[rid]
            ids = sorted(rowids)
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT rowid, * FROM {quote(table)} WHERE rowid IN ({marks})"
                for _rid, *rest in conn.execute(sql, chunk):
                    count, total = count + 1, total + _row_digest(tuple(rest))
            sums[table] = (count, total % _MOD)
        return _finish(sums)


DIRTY_TABLE = "_dirty"


def track_changes(conn: sqlite3.Connection, schema: Schema) -> None:
    """Triggers that record the rowids each write touches, in `_dirty` (not a schema
    table: hashes, diffs and exports never see it). A rolled-back savepoint un-records
    them too. Installed once in the sandbox image (environment.py), so each sandbox gets
    them with its copy of the data; `recursive_triggers` is per connection (see
    `tracking_connection`)."""
    conn.execute(
        f"CREATE TABLE {DIRTY_TABLE} (tbl TEXT, rid INTEGER, PRIMARY KEY (tbl, rid)) WITHOUT ROWID"
    )
    for t in schema.tables:
        if not t.tracked:
            continue
        literal = "'" + t.name.replace("'", "''") + "'"
        mark = f"INSERT OR IGNORE INTO {DIRTY_TABLE} VALUES ({literal}, {{0}}.rowid);"
        for event, refs in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
            body = " ".join(mark.format(r) for r in refs)
            trigger = quote(f"_dirty_{event.lower()}_{t.name}")
            conn.execute(
                f"CREATE TRIGGER {trigger} AFTER {event} ON {quote(t.name)} BEGIN {body} END"
            )


def tracking_connection(image: bytes) -> sqlite3.Connection:
    """A private in-memory database from a serialized image with `track_changes` in it."""
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    conn.deserialize(image)
    conn.execute("PRAGMA recursive_triggers = ON")  # so REPLACE reports its deletes
    return conn


def rolled_back_to_image(conn: sqlite3.Connection, schema_version: int) -> bool:
    """Roll back `conn`'s open transaction. True only when that provably restored the
    image it was opened from: no tracked change left (every write to a domain table is
    tracked, so a write something committed shows) and the image's schema."""
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        (dirty,) = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {DIRTY_TABLE})").fetchone()
        (version,) = conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.Error:
        return False
    return not dirty and version == schema_version


def dirty_rows(conn: sqlite3.Connection) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for table, rid in conn.execute(f"SELECT tbl, rid FROM {DIRTY_TABLE}"):
        out.setdefault(table, set()).add(rid)
    return out


def diff(
    before: sqlite3.Connection,
    after: sqlite3.Connection,
    schema: Schema,
    keys: dict[str, set[tuple]] | None = None,
) -> list[RowChange]:
    """Row-level changes from `before` to `after`, in table and key order. With `keys`
    (see `touched_keys`), only those rows are compared: every other row is known equal."""
    changes: list[RowChange] = []
    for t in schema.tables:
        only = None if keys is None or not t.tracked else keys.get(t.name, set())
        if only is not None and not only:
            continue
        old, cols = _rows_by_key(before, t, only)
        new, _ = _rows_by_key(after, t, only)
        for key in sorted(old.keys() | new.keys(), key=repr):
            a, b = old.get(key), new.get(key)
            if a == b and (a is None or _same_types(a, b)):
                continue
            if a is None or b is None:
                row = a if b is None else b
                changes.append(
                    RowChange(
                        table=t.name,
                        key=list(key),
                        column=ROW,
                        before=None if a is None else t.decode(dict(zip(cols, a, strict=True))),
                        after=None if b is None else t.decode(dict(zip(cols, row, strict=True))),
                    )
                )
                continue
            for col, va, vb in zip(cols, a, b, strict=True):
                if va != vb or type(va) is not type(vb):
                    dec = t.decode({col: va, "_": None}), t.decode({col: vb, "_": None})
                    changes.append(
                        RowChange(
                            table=t.name,
                            key=list(key),
                            column=col,
                            before=dec[0][col],
                            after=dec[1][col],
                        )
                    )
    return changes


def render_diff(changes: list[RowChange], limit: int = 200) -> str:
    """The diff as short lines a reviewer (human or LLM) can read."""
    if not changes:
        return "(no change to the database)"
    lines = []
    for c in changes[:limit]:
        where = f"{c.table}[{', '.join(map(str, c.key))}]"
        if c.column == ROW:
            lines.append(
                f"+ {where} added: {c.after}"
                if c.before is None
                else f"- {where} deleted: {c.before}"
            )
        else:
            lines.append(f"~ {where}.{c.column}: {c.before!r} -> {c.after!r}")
    if len(changes) > limit:
        lines.append(f"... and {len(changes) - limit} more changes")
    return "\n".join(lines)


def touched_keys(
    master: sqlite3.Connection, sandboxes: list[sqlite3.Connection], schema: Schema
) -> dict[str, set[tuple]] | None:
    """The keys of every row the sandboxes wrote (as the master had it and as each sandbox
    has it), per table: the only rows where the sandboxes and the master can differ, since
    each began as the master's copy and every write is tracked. None when a written row
    has a NULL key part (compare everything then)."""
    keys: dict[str, set[tuple]] = {}
    for conn in sandboxes:
        for table, rowids in dirty_rows(conn).items():
            cols = ", ".join(quote(c) for c in schema[table].pk)
            ids = sorted(rowids)
            for source in (master, conn):
                for i in range(0, len(ids), 500):
                    chunk = ids[i : i + 500]
                    sql = (
                        f"SELECT {cols} FROM {quote(table)} "
                        f"WHERE rowid IN ({', '.join('?' * len(chunk))})"
                    )
                    keys.setdefault(table, set()).update(map(tuple, source.execute(sql, chunk)))
    if any(None in key for found in keys.values() for key in found):
        return None
    return keys


def _rows_by_key(conn: sqlite3.Connection, t: Table, only: set[tuple] | None = None):
    pk = t.pk
    columns = "rowid, *" if t.keyed_by_rowid else "*"
    select = f"SELECT {columns} FROM {quote(t.name)}"
    if only is None:
        cur = conn.execute(select)
        cols = [d[0] for d in cur.description]
        idx = [cols.index(c) for c in pk]
        return {tuple(r[i] for i in idx): r for r in cur}, cols
    rows: dict[tuple, tuple] = {}
    cols: list[str] = []
    wanted = sorted(only, key=repr)
    key_sql = "(" + ", ".join(quote(c) for c in pk) + ")"
    for i in range(0, len(wanted), 200):
        chunk = wanted[i : i + 200]
        one = "(" + ", ".join("?" * len(pk)) + ")"
        cur = conn.execute(
            f"{select} WHERE {key_sql} IN (VALUES {', '.join([one] * len(chunk))})",
            [v for key in chunk for v in key],
        )
        cols = [d[0] for d in cur.description]
        idx = [cols.index(c) for c in pk]
        rows.update((tuple(r[j] for j in idx), r) for r in cur)
    return rows, cols


def _same_types(a: tuple, b: tuple) -> bool:
    return all(type(x) is type(y) for x, y in zip(a, b, strict=True))
