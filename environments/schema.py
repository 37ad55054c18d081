"""Table declarations for a domain database, and the value encoding they imply."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import sqlite_utils

# text/int: plain SQLite types. json: lists and dicts stored as JSON text. bool: 0/1 stored,
# True/False read back. num: BLOB affinity, so SQLite keeps int vs float exactly as written
# (τ-bench's hash sees str(100) != str(100.0)). any: a column of a user's own database,
# declared by its DDL and read back exactly as SQLite returns it.
ColumnKind = Literal["text", "int", "json", "bool", "num", "any"]
_SQL_TYPE = {"text": str, "int": int, "json": str, "bool": int, "num": bytes, "any": bytes}
ROWID = "rowid"  # the key of a table that declares none


def quote(name: str) -> str:
    """An SQL identifier, double-quoted (a user's names may hold spaces or quotes)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, ColumnKind]
    pk: tuple[str, ...]  # ("rowid",) for a table that declares no key
    # False for tables no trigger can watch (SQLite's own `sqlite_sequence`): hashes and
    # diffs read them whole instead of only the rows a sandbox wrote.
    tracked: bool = True

    def encode(self, row: dict[str, Any]) -> dict[str, Any]:
        unknown = set(row) - set(self.columns)
        if unknown:
            raise ValueError(f"table {self.name}: unknown columns {sorted(unknown)}")
        return {k: _encode(self.columns[k], v) for k, v in row.items()}

    def decode(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: _decode(self.columns.get(k, "text"), v) for k, v in row.items()}

    def key_of(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[c] for c in self.pk)

    @property
    def order_by(self) -> str:
        return ", ".join(quote(c) for c in self.pk)

    @property
    def keyed_by_rowid(self) -> bool:
        """The key is SQLite's rowid, which `SELECT *` does not return."""
        return ROWID in self.pk and ROWID not in self.columns


@dataclass(frozen=True)
class Schema:
    tables: tuple[Table, ...]

    def __getitem__(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tables]

    def create(self, db: sqlite_utils.Database) -> None:
        for t in self.tables:
            db[t.name].create(
                {c: _SQL_TYPE[k] for c, k in t.columns.items()},
                pk=t.pk if len(t.pk) > 1 else t.pk[0],
            )

    def insert(self, db: sqlite_utils.Database, table: str, rows: list[dict[str, Any]]) -> None:
        t = self[table]
        db[table].insert_all((t.encode(r) for r in rows), batch_size=500)


def _encode(kind: ColumnKind, value: Any) -> Any:
    if value is None:
        return None
    if kind == "json":
        return json.dumps(value)
    if kind == "bool":
        return int(bool(value))
    return value


def _decode(kind: ColumnKind, value: Any) -> Any:
    if value is None:
        return None
    if kind == "json":
        return json.loads(value)
    if kind == "bool":
        return bool(value)
    return value
