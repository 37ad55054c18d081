"""τ²'s `get_db_hash()` of a sandbox without dumping the whole database each time.

τ²'s hash is sha256 of `json.dumps(db, sort_keys=True)`: the text of each record, sorted,
inside its collection. The master's record texts are made once per environment; a
sandbox's hash re-renders only the records its tracked writes touched (a written row names
its record through the adapter's `RECORD_OF`: table -> (collection, id column)) and joins
the texts. Exactly the full dump's text (tests compare both, and τ²'s own hash).
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from ..schema import quote
from ..state import dirty_rows

_lock = threading.Lock()


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class Tau2Hasher:
    def __init__(self, env) -> None:
        self.adapter = env.domain.tau2
        with env._lock:  # the master connection is shared
            exported = self.adapter.export_db(_Db(env.master))
        self.master = {
            c: {k: _text(v) for k, v in records.items()} for c, records in exported.items()
        }

    def hexdigest(self, env, sandbox) -> str:
        touched = self._touched(env, sandbox.conn)
        texts = {c: dict(records) for c, records in self.master.items()}
        for collection, ids in touched.items():
            fresh = self.adapter.export_records(sandbox.db, collection, sorted(ids))
            for key in ids:
                if key in fresh:
                    texts[collection][key] = _text(fresh[key])
                else:
                    texts[collection].pop(key, None)
        body = ", ".join(
            f"{json.dumps(c)}: {{"
            + ", ".join(f"{json.dumps(k)}: {texts[c][k]}" for k in sorted(texts[c]))
            + "}"
            for c in sorted(texts)
        )
        return hashlib.sha256(("{" + body + "}").encode()).hexdigest()

    def _touched(self, env, conn) -> dict[str, set[str]]:
        """The records a sandbox's written rows belong to, as the master and it have them."""
        out: dict[str, set[str]] = {}
        for table, rowids in dirty_rows(conn).items():
            for collection, column in self.adapter.RECORD_OF.get(table, ()):
                sql = f"SELECT {quote(column)} FROM {quote(table)} WHERE rowid IN "
                sql += f"({', '.join('?' * len(rowids))})"
                with env._lock:
                    before = env.master.execute(sql, sorted(rowids)).fetchall()
                after = conn.execute(sql, sorted(rowids)).fetchall()
                out.setdefault(collection, set()).update(r[0] for r in before + after)
        return out


class _Db:
    """The sqlite-utils face the exporters read through, over a plain connection."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def query(self, sql: str, params: Any = None):
        cursor = self.conn.execute(sql, () if params is None else params)
        keys = [d[0] for d in cursor.description]
        return (dict(zip(keys, row, strict=True)) for row in cursor)

    def execute(self, sql: str, params: Any = None):
        return self.conn.execute(sql, () if params is None else params)


def tau2_hash_of(env, sandbox) -> str:
    """τ²'s hash of a sandbox's database (the master's record texts cached on `env`; a
    domain whose adapter hashes itself, telecom, dumps it whole)."""
    if hasattr(env.domain.tau2, "db_hash"):
        return env.domain.tau2.db_hash(sandbox.db)
    with _lock:
        hasher = env.__dict__.get("_tau2_hasher")
        if hasher is None:
            hasher = env.__dict__["_tau2_hasher"] = Tau2Hasher(env)
    return hasher.hexdigest(env, sandbox)


def tau2_user_hash_of(env, sandbox) -> str | None:
    """τ²'s `get_user_db_hash()`: the user's side of a dual-control sandbox (else None)."""
    adapter = env.domain.tau2
    return adapter.user_db_hash(sandbox.db) if hasattr(adapter, "user_db_hash") else None
