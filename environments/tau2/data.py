"""Where τ²'s data lives, how it maps onto our tables, and τ²'s database hash."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils

DATA_DIR_ENV = "TAU2_DATA_DIR"  # τ²'s own variable: the folder holding `tau2/domains/`


class Tau2Adapter(Protocol):
    """Maps a domain between τ²'s `db.json` and our tables."""

    tau2_name: str  # τ²'s own name for the domain ("retail")
    # table -> the (collection, id column) records a row of it belongs to (tau2/hashing.py)
    RECORD_OF: dict[str, tuple[tuple[str, str], ...]]

    def import_db(self, db: sqlite_utils.Database, data: dict[str, Any]) -> None:
        """Fill empty tables from `db.json`, with the value types τ²'s models give it."""

    def export_db(self, db: sqlite_utils.Database) -> dict[str, Any]:
        """The tables as τ²'s `model_dump()` of its database: every field, nulls kept."""

    def export_records(self, db, collection: str, ids: list[str]) -> dict[str, Any]:
        """Those records of a collection (absent ids: deleted), as `export_db` shows them."""


def tau2_hash(data: Any) -> str:
    """τ²'s `get_db_hash()`: sha256 of `json.dumps(model_dump(), sort_keys=True)`."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def tau2_data_dir(
    tau2_name: str, given: Path | str | None = None, db_file: str = "db.json"
) -> Path:
    """The folder with a domain's `db.json` (telecom: `db.toml`): `given` (that folder, or
    τ²'s data root), else `$TAU2_DATA_DIR/tau2/domains/<name>`. FileNotFoundError says where
    it looked."""
    candidates: list[Path] = []
    if given is not None:
        root = Path(given)
        candidates += [root, root / "tau2" / "domains" / tau2_name, root / "domains" / tau2_name]
    elif os.environ.get(DATA_DIR_ENV):
        candidates.append(Path(os.environ[DATA_DIR_ENV]) / "tau2" / "domains" / tau2_name)
    for folder in candidates:
        if (folder / db_file).is_file():
            return folder
    looked = ", ".join(str(c) for c in candidates) or f"nowhere (${DATA_DIR_ENV} is not set)"
    raise FileNotFoundError(
        f"τ²'s {tau2_name} {db_file} not found; looked in {looked}. Pass --data-dir (τ²'s "
        f"domains/{tau2_name} folder) or set ${DATA_DIR_ENV} to τ²'s data folder."
    )


def find_tau2_data(
    tau2_name: str,
    given: Path | str | None,
    tasks_file: Path | str | None = None,
    db_file: str = "db.json",
) -> Path | None:
    """τ²'s data folder for a command: `given` (an error if it has none), else the task
    file's own folder where τ²'s `db.json` sits beside it, else `$TAU2_DATA_DIR`'s, else
    None (the domain's generated data)."""
    if given is not None:
        return tau2_data_dir(tau2_name, given, db_file)
    if tasks_file is not None and (Path(tasks_file).parent / db_file).is_file():
        return Path(tasks_file).parent
    try:
        return tau2_data_dir(tau2_name, None, db_file) if os.environ.get(DATA_DIR_ENV) else None
    except FileNotFoundError:
        return None


def read_db_json(folder: Path) -> dict[str, Any]:
    path = folder / "db.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a τ² database ({exc})") from None


def as_float(value: Any) -> Any:
    """A number as a pydantic `float` field holds it (ints become floats)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def as_int(value: Any) -> Any:
    """A number as a pydantic `int` field holds it (a whole float becomes an int)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
