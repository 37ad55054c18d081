"""What phase 1 shows the proposer of a world: a user's row and the rows tied to it.

The user is a row of `user_table` (given in world.toml, or inferred). Their records are
that row, the rows that reference it through foreign keys and the rows referencing those
(children, two levels), and the rows any of these reference (parents, e.g. the product of
an order line) — bounded per table and in all. Arguments that name an owned row's key
(`order_id` for `Order.Id`, integer or text) are narrowed to the ids in the records, as
the built-in domains' per-context schemas do.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from apigen_mt.environments.schema import ROWID, quote
from apigen_mt.tools import ToolSet

from .config import WorldError
from .introspect import SEQUENCE_TABLE, TableInfo

USER_WORDS = (
    "user", "customer", "client", "account", "member", "patient", "person", "employee",
    "guest", "passenger", "student", "subscriber", "buyer", "owner", "profile",
)  # fmt: skip
ROWS_PER_TABLE = 20
ROWS_IN_ALL = 200


def norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("ses") or word.endswith("xes"):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def infer_user_table(infos: list[TableInfo]) -> tuple[str, str]:
    """(table, evidence): a table named like a user, most referenced first; else the most
    referenced table."""
    tables = [i for i in infos if i.name != SEQUENCE_TABLE]
    incoming = {i.name: 0 for i in tables}
    for i in tables:
        for fk in i.foreign_keys:
            if fk.other_table in incoming and fk.other_table != i.name:
                incoming[fk.other_table] += 1
    named = [i for i in tables if any(w in norm(i.name) for w in USER_WORDS) and i.rows > 0]
    if named:
        best = max(named, key=lambda i: (incoming[i.name], -len(i.name)))
        return best.name, (
            f"inferred: {best.name!r} is named like a user and is referenced by "
            f"{incoming[best.name]} foreign key(s)"
        )
    populated = [i for i in tables if i.rows > 0] or tables
    best = max(populated, key=lambda i: incoming[i.name])
    return best.name, f"inferred: {best.name!r} is the most referenced table"


@dataclass
class WorldRecords:
    """Records and id narrowing for one world's schema (built once per world)."""

    infos: list[TableInfo]
    user_table: str
    tools: ToolSet

    def __post_init__(self) -> None:
        self.by_name = {i.name: i for i in self.infos}
        if self.user_table not in self.by_name:
            raise WorldError(
                f"user_table {self.user_table!r} is not a table of the database; tables: "
                + ", ".join(self.by_name)
            )
        user = self.by_name[self.user_table]
        self.user_key = user.pk[0] if len(user.pk) == 1 else ROWID
        self.owned = self._owned_tables()
        self.id_arguments = self._id_arguments()

    # -- records ---------------------------------------------------------------------------

    def user_ids(self, conn: sqlite3.Connection) -> list[str]:
        sql = f"SELECT {quote(self.user_key)} FROM {quote(self.user_table)} ORDER BY rowid"
        return [str(r[0]) for r in conn.execute(sql)]

    def sample(self, conn: sqlite3.Connection, rng: random.Random) -> tuple[str, str]:
        ids = self.user_ids(conn)
        if not ids:
            raise WorldError(f"table {self.user_table!r} has no rows to draw a user from")
        user_id = rng.choice(ids)
        return user_id, self.records_for(conn, user_id)

    def records_for(self, conn: sqlite3.Connection, user_id: str) -> str:
        return json.dumps(self.collect(conn, user_id), ensure_ascii=False, default=_jsonable)

    def collect(self, conn: sqlite3.Connection, user_id: str) -> dict[str, Any]:
        rows: dict[str, dict[tuple, dict]] = {}
        budget = [ROWS_IN_ALL]
        user_rows = self._select(conn, self.user_table, self.user_key, [user_id], as_text=True)
        if not user_rows:
            raise KeyError(f"no {self.user_table} row with {self.user_key} = {user_id!r}")
        self._add(rows, self.user_table, user_rows[:1], budget)
        frontier = [self.user_table]
        for _depth in range(2):  # children, then grandchildren
            reached = []
            for table in frontier:
                for child, fk in self._children(table):
                    values = [r[fk.other_column] for r in rows.get(table, {}).values()
                              if fk.other_column in r]  # fmt: skip
                    if self._add(rows, child, self._select(conn, child, fk.column, values), budget):
                        reached.append(child)
            frontier = reached
        for table in list(rows):  # parents of every collected row
            for fk in self.by_name[table].foreign_keys:
                if fk.other_table not in self.by_name:
                    continue
                values = [
                    r[fk.column] for r in rows[table].values() if r.get(fk.column) is not None
                ]
                parents = self._select(conn, fk.other_table, fk.other_column, values)
                self._add(rows, fk.other_table, parents, budget)
        records: dict[str, Any] = {"user_id": user_id}
        for table, found in rows.items():
            listed = list(found.values())
            records[table] = listed[0] if table == self.user_table else listed
        return records

    def _children(self, table: str) -> Iterable[tuple[str, Any]]:
        for info in self.infos:
            for fk in info.foreign_keys:
                if fk.other_table == table and info.name != table:
                    yield info.name, fk

    def _select(
        self, conn: sqlite3.Connection, table: str, column: str, values: list, as_text=False
    ) -> list[dict]:
        values = list(dict.fromkeys(v for v in values if v is not None))[: ROWS_PER_TABLE * 5]
        if not values:
            return []
        info = self.by_name[table]
        rowid = "rowid AS __rowid__, " if info.pk == (ROWID,) else ""
        target = f"CAST({quote(column)} AS TEXT)" if as_text else quote(column)
        sql = (
            f"SELECT {rowid}* FROM {quote(table)} WHERE {target} IN "
            f"({', '.join('?' * len(values))}) ORDER BY rowid LIMIT {ROWS_PER_TABLE}"
        )
        cur = conn.execute(sql, [str(v) for v in values] if as_text else values)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur]

    def _add(self, rows: dict, table: str, found: list[dict], budget: list[int]) -> bool:
        info = self.by_name[table]
        added = False
        for row in found:
            key = tuple(row.get("__rowid__") if c == ROWID else row.get(c) for c in info.pk)
            if key in rows.get(table, {}) or budget[0] <= 0:
                continue
            if len(rows.get(table, {})) >= ROWS_PER_TABLE:
                break
            row = {k: v for k, v in row.items() if k != "__rowid__"}
            rows.setdefault(table, {})[key] = row
            budget[0] -= 1
            added = True
        return added

    # -- ids -------------------------------------------------------------------------------

    def _owned_tables(self) -> set[str]:
        owned, frontier = {self.user_table}, [self.user_table]
        while frontier:
            table = frontier.pop()
            for child, _fk in self._children(table):
                if child not in owned:
                    owned.add(child)
                    frontier.append(child)
        return owned

    def _id_arguments(self) -> dict[str, list[tuple[str, str]]]:
        """Tool argument name -> the (table, key column) pairs it names."""
        keys: dict[str, list[tuple[str, str]]] = {}
        for info in self.infos:
            if len(info.pk) != 1 or info.pk == (ROWID,):
                continue
            column = info.pk[0]
            table = _singular(norm(info.name))
            for form in {norm(column), table + norm(column), table + "id", table + "ids"}:
                keys.setdefault(form, []).append((info.name, column))
        found: dict[str, list[tuple[str, str]]] = {}
        for tool in self.tools:
            for arg in tool.parameters.get("properties", {}):
                n = norm(arg)
                if not (n.endswith("id") or n.endswith("ids")) and n not in keys:
                    continue
                for form in (n, n.removeprefix("new"), _singular(n)):
                    if form in keys:
                        found[arg] = keys[form]
                        break
        return found

    def id_choices(self, records: dict[str, Any]) -> dict[str, list[str]]:
        """Owned-row ids the records hold, for each argument that names them."""
        out: dict[str, list[str]] = {}
        for arg, targets in self.id_arguments.items():
            if not all(table in self.owned for table, _ in targets):
                continue  # e.g. a product id: any product may be meant, not only the user's
            values = []
            for table, column in targets:
                found = records.get(table)
                for row in [found] if isinstance(found, dict) else found or []:
                    if isinstance(row, dict) and row.get(column) is not None:
                        values.append(str(row[column]))
            if values:
                out[arg] = sorted(set(values))
        return out

    def fill(
        self, tool_name: str, records: dict[str, Any], complete: bool = True
    ) -> dict[str, Any] | None:
        """Arguments for a tool from the records (first rows first): with `complete`, None
        when a required argument has nothing to take (the sample calls); else whatever can
        be taken (the values that link tools in the API graph)."""
        params = self.tools[tool_name].parameters
        return self._fill_object(params, params.get("$defs", {}), records, complete)

    def _fill_object(
        self, schema: dict, defs: dict, records: dict[str, Any], complete: bool
    ) -> dict[str, Any] | None:
        props, required = schema.get("properties", {}), set(schema.get("required", []))
        args: dict[str, Any] = {}
        for arg, sub in props.items():
            sub = _resolved(sub, defs)
            if sub.get("type") == "object" and sub.get("properties"):
                value = self._fill_object(sub, defs, records, complete)
            else:
                value = _as_type(self._value_for(arg, records), sub)
                if value is None and "enum" in sub and sub["enum"]:
                    value = sub["enum"][0]
            if value is not None:
                args[arg] = value
            elif arg in required and complete:
                return None
        return args

    def _value_for(self, arg: str, records: dict[str, Any]) -> Any:
        for table, column in self.id_arguments.get(arg, []):
            found = records.get(table)
            for row in [found] if isinstance(found, dict) else found or []:
                if row.get(column) is not None:
                    return row[column]
        n = norm(arg)
        for found in records.values():
            for row in _rows_of(found):
                for column, value in row.items():
                    if norm(column) == n and value is not None:
                        return value
        return None


def _rows_of(found: Any) -> list[dict]:
    if isinstance(found, dict):
        return [found]
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def _resolved(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return {**defs.get(ref.rsplit("/", 1)[1], {}), **rest}
    return schema


def _as_type(value: Any, schema: dict[str, Any]) -> Any:
    """A record's value as the argument's JSON type wants it (an int id for a str)."""
    kind = schema.get("type")
    if value is None or kind is None:
        return value
    if kind == "string" and not isinstance(value, str):
        return str(value)
    if kind == "integer" and isinstance(value, str):
        return int(value) if value.lstrip("-").isdigit() else None
    if kind == "array":
        return [value]
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
