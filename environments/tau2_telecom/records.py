"""τ²'s telecom databases in one SQLite sandbox: each carrier collection a table of records
(its id, its place in τ²'s list, the record as JSON), and the user's side a table `phone`
with two rows (`device`, `surroundings`). Loading a record validates it with τ²'s field
types; τ²'s two hashes, `get_db_hash()` and `get_user_db_hash()`, dump the same shapes.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from pydantic import BaseModel

from apigen_mt.environments.schema import Schema, Table

from .models import COLLECTIONS, Phone, Record, Surroundings, UserWorld

USER_TABLE = "phone"

SCHEMA = Schema(
    (
        *(
            Table(name, {key: "text", "pos": "int", "data": "json"}, (key,))
            for name, (_, key) in COLLECTIONS.items()
        ),
        Table(USER_TABLE, {"part": "text", "data": "json"}, ("part",)),
    )
)


# ---- the carrier's records -----------------------------------------------------------
def load(db: sqlite_utils.Database, collection: str, key: str) -> Any:
    model, column = COLLECTIONS[collection]
    row = db.execute(f"SELECT data FROM {collection} WHERE {column} = ?", [key]).fetchone()
    return None if row is None else model.model_validate_json(row[0])


def load_all(db: sqlite_utils.Database, collection: str) -> list[Any]:
    model, _ = COLLECTIONS[collection]
    rows = db.execute(f"SELECT data FROM {collection} ORDER BY pos").fetchall()
    return [model.model_validate_json(r[0]) for r in rows]


def save(db: sqlite_utils.Database, collection: str, record: Record) -> None:
    """Write a record back (a new one goes at the end of τ²'s list)."""
    _, column = COLLECTIONS[collection]
    key = getattr(record, column)
    data = record.model_dump_json()
    if db.execute(f"UPDATE {collection} SET data = ? WHERE {column} = ?", [data, key]).rowcount:
        return
    (pos,) = db.execute(f"SELECT COALESCE(MAX(pos), -1) + 1 FROM {collection}").fetchone()
    db.execute(f"INSERT INTO {collection} ({column}, pos, data) VALUES (?, ?, ?)",
               [key, pos, data])  # fmt: skip


# ---- the user's side -----------------------------------------------------------------
def phone(db: sqlite_utils.Database) -> Phone:
    return Phone.model_validate_json(_part(db, "device"))


def surroundings(db: sqlite_utils.Database) -> Surroundings:
    return Surroundings.model_validate_json(_part(db, "surroundings"))


def save_user(db: sqlite_utils.Database, device: Phone | None = None,
              around: Surroundings | None = None) -> None:  # fmt: skip
    for part, value in (("device", device), ("surroundings", around)):
        if value is not None:
            db.execute(f"UPDATE {USER_TABLE} SET data = ? WHERE part = ?",
                       [value.model_dump_json(), part])  # fmt: skip


def _part(db: sqlite_utils.Database, part: str) -> str:
    row = db.execute(f"SELECT data FROM {USER_TABLE} WHERE part = ?", [part]).fetchone()
    if row is None:
        raise ValueError(f"the user's {part} is missing from the database")
    return row[0]


# ---- τ²'s observations and hashes ----------------------------------------------------
def render(result: Any) -> str:
    """A tool's result as τ²'s `Environment.to_json_str` writes it: text as it is; else
    JSON of models dumped, numbers and booleans as their str(), dates ISO."""
    if isinstance(result, str):
        return result
    return json.dumps(_shown(result), default=str)


def _shown(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, int | float | bool):
        return str(value)
    if isinstance(value, list):
        return [_shown(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_shown(v) for v in value)
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise ValueError(f"Unsupported type: {type(value)}")


def pydantic_hash(dumped: Any) -> str:
    """τ²'s get_dict_hash of a model_dump()."""
    return hashlib.sha256(json.dumps(dumped, sort_keys=True, default=str).encode()).hexdigest()


def export_db(db: sqlite_utils.Database) -> dict[str, Any]:
    """The carrier's side as τ²'s TelecomDB.model_dump()."""
    return {c: [r.model_dump() for r in load_all(db, c)] for c in COLLECTIONS}


def export_user_db(db: sqlite_utils.Database) -> dict[str, Any]:
    return UserWorld(device=phone(db), surroundings=surroundings(db)).model_dump()


# ---- τ²'s files ----------------------------------------------------------------------
def read_toml(folder: Path, name: str) -> dict[str, Any]:
    path = folder / name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a τ² telecom database ({exc})") from None


def import_db(db: sqlite_utils.Database, carrier: dict[str, Any], user: dict[str, Any]) -> None:
    """Fill the empty tables from τ²'s `db.toml` and `user_db.toml` (validated as τ²'s
    models validate them: its value types, its defaults)."""
    for collection, (model, column) in COLLECTIONS.items():
        rows = []
        for pos, raw in enumerate(carrier.get(collection) or []):
            record = model.model_validate(raw)
            rows.append(
                {column: getattr(record, column), "pos": pos, "data": record.model_dump_json()}
            )
        if rows:
            db[collection].insert_all(rows)
    world = UserWorld.model_validate(user)
    db[USER_TABLE].insert_all(
        [
            {"part": "device", "data": world.device.model_dump_json()},
            {"part": "surroundings", "data": world.surroundings.model_dump_json()},
        ]
    )
