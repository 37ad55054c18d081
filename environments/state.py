"""State digests and row-level diffs of a domain database (the paper's `diff_patch`)."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from pydantic import BaseModel

from .schema import Schema

ROW = "*"  # the column name used for a whole row added or deleted


class RowChange(BaseModel):
    """One change: a column of a keyed row, or a whole row (column `*`) added or deleted."""

    table: str
    key: list[Any]
    column: str
    before: Any = None
    after: Any = None


def state_hash(conn: sqlite3.Connection, schema: Schema) -> str:
    """Stable sha256 of every table's rows in primary-key order (types included)."""
    digest = hashlib.sha256()
    for t in sorted(schema.tables, key=lambda t: t.name):
        rows = conn.execute(f'SELECT * FROM "{t.name}" ORDER BY {t.order_by}').fetchall()
        digest.update(t.name.encode())
        # repr keeps 1 and 1.0 apart, and strings quoted, so distinct states hash apart.
        digest.update(repr(rows).encode())
    return digest.hexdigest()


def diff(before: sqlite3.Connection, after: sqlite3.Connection, schema: Schema) -> list[RowChange]:
    """Row-level changes from `before` to `after`, in table and key order."""
    changes: list[RowChange] = []
    for t in schema.tables:
        old, cols = _rows_by_key(before, t.name, t.pk)
        new, _ = _rows_by_key(after, t.name, t.pk)
        for key in sorted(old.keys() | new.keys(), key=repr):
            a, b = old.get(key), new.get(key)
            if a == b and (a is None or _same_types(a, b)):
                continue
            if a is None or b is None:
                row = a if b is None else b
                changes.append(RowChange(
                    table=t.name, key=list(key), column=ROW,
                    before=None if a is None else t.decode(dict(zip(cols, a, strict=True))),
                    after=None if b is None else t.decode(dict(zip(cols, row, strict=True))),
                ))
                continue
            for col, va, vb in zip(cols, a, b, strict=True):
                if va != vb or type(va) is not type(vb):
                    dec = t.decode({col: va, "_": None}), t.decode({col: vb, "_": None})
                    changes.append(RowChange(table=t.name, key=list(key), column=col,
                                             before=dec[0][col], after=dec[1][col]))
    return changes


def render_diff(changes: list[RowChange], limit: int = 200) -> str:
    """The diff as short lines a reviewer (human or LLM) can read."""
    if not changes:
        return "(no change to the database)"
    lines = []
    for c in changes[:limit]:
        where = f"{c.table}[{', '.join(map(str, c.key))}]"
        if c.column == ROW:
            lines.append(f"+ {where} added: {c.after}" if c.before is None
                         else f"- {where} deleted: {c.before}")
        else:
            lines.append(f"~ {where}.{c.column}: {c.before!r} -> {c.after!r}")
    if len(changes) > limit:
        lines.append(f"... and {len(changes) - limit} more changes")
    return "\n".join(lines)


def _rows_by_key(conn: sqlite3.Connection, table: str, pk: tuple[str, ...]):
    cur = conn.execute(f'SELECT * FROM "{table}"')
    cols = [d[0] for d in cur.description]
    idx = [cols.index(c) for c in pk]
    return {tuple(r[i] for i in idx): r for r in cur}, cols


def _same_types(a: tuple, b: tuple) -> bool:
    return all(type(x) is type(y) for x, y in zip(a, b, strict=True))
