"""A user's database described from itself: tables, columns, declared types, keys and
foreign keys (sqlite-utils reads them), as the `Schema` that hashes and diffs use."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

import sqlite_utils

from apigen_mt.environments.schema import ROWID, Schema, Table

from .config import WorldError

SEQUENCE_TABLE = "sqlite_sequence"  # AUTOINCREMENT's counters: state, though no trigger sees it


@dataclass(frozen=True)
class ForeignKey:
    column: str
    other_table: str
    other_column: str


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: dict[str, str]  # name -> declared type ("" when none)
    pk: tuple[str, ...]  # ("rowid",) when the table declares no key
    foreign_keys: tuple[ForeignKey, ...] = ()
    rows: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "columns": [{"name": c, "type": t} for c, t in self.columns.items()],
            "primary_key": list(self.pk),
            "foreign_keys": [
                {"column": f.column, "references": f"{f.other_table}.{f.other_column}"}
                for f in self.foreign_keys
            ],
            "rows": self.rows,
            "notes": list(self.notes),
        }


def introspect(conn: sqlite3.Connection, source: str) -> tuple[Schema, list[TableInfo]]:
    """The schema of every table (SQLite's `sqlite_sequence` included); views, virtual
    tables and their shadow tables are not state of their own and are left out."""
    db = sqlite_utils.Database(conn)
    kinds = {row[1]: row[2] for row in conn.execute("PRAGMA main.table_list")}
    infos: list[TableInfo] = []
    for name in db.table_names():
        kind = kinds.get(name, "table")
        if kind != "table" or (name.startswith("sqlite_") and name != SEQUENCE_TABLE):
            continue
        table = db[name]
        sql = table.schema or ""
        if re.search(r"\bWITHOUT\s+ROWID\b", sql, re.IGNORECASE):
            raise WorldError(
                f"{source}: table {name!r} is a WITHOUT ROWID table, which worlds do not "
                "support yet (change tracking keys rows by rowid)"
            )
        columns = {c.name: (c.type or "") for c in table.columns}
        pk_cols = sorted((c for c in table.columns if c.is_pk), key=lambda c: c.is_pk)
        pk = tuple(c.name for c in pk_cols) or (ROWID,)
        notes = []
        if pk == (ROWID,):
            notes.append("no declared primary key: rows are keyed by rowid")
        if name == SEQUENCE_TABLE:
            notes.append("AUTOINCREMENT counters: hashed and diffed whole")
        fks = tuple(
            ForeignKey(fk.column, fk.other_table, fk.other_column or _pk_of(db, fk.other_table))
            for fk in table.foreign_keys
        )
        infos.append(TableInfo(name, columns, pk, fks, table.count, tuple(notes)))
    if not infos:
        raise WorldError(f"{source}: the database has no tables")
    schema = Schema(
        tables=tuple(
            Table(
                i.name,
                dict.fromkeys(i.columns, "any"),
                pk=i.pk,
                tracked=i.name != SEQUENCE_TABLE,
            )
            for i in infos
        )
    )
    return schema, infos


def _pk_of(db: sqlite_utils.Database, table: str) -> str:
    """A foreign key that names no column references the other table's primary key."""
    try:
        pks = db[table].pks
    except Exception:  # a dangling reference: keep the table's rowid
        return ROWID
    return pks[0] if pks else ROWID
