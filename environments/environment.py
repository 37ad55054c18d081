"""A domain's master database (built once, read-only) and the sandboxes episodes run in."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils

from .registry import Domain, get_domain
from .sandbox import Sandbox
from .schema import quote
from .state import (
    RowDigests,
    rolled_back_to_image,
    track_changes,
    tracking_connection,
)

CACHE_ENV = "APIGEN_MT_CACHE_DIR"
IDLE_SANDBOXES = 64  # rolled-back sandbox connections an environment keeps for reuse


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "apigen-mt")


class Environment:
    """One domain database. The master file is opened read-only; work happens in sandboxes."""

    def __init__(self, domain: Domain, master_path: Path):
        self.domain = domain
        self.master_path = Path(master_path)
        # The data folder the master was imported from (τ²'s domain folder), when known: a
        # domain's phase-1 hooks may read its other files (telecom's task compositions).
        self.data_folder: Path | None = None
        self._master = sqlite3.connect(
            f"{self.master_path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        self._lock = threading.Lock()  # one backup at a time from the shared master connection
        self._digests: RowDigests | None = None
        self._image: bytes | None = None
        self._image_schema = 0  # the image's PRAGMA schema_version
        self._idle: list[sqlite3.Connection] = []
        # Sandboxes from elsewhere (an MCP world's files and servers); None: in memory.
        self._backend = domain.sandboxes(self) if domain.sandboxes else None

    @classmethod
    def generated(
        cls, domain: Domain | str, *, seed: int = 0, cache_dir: Path | None = None
    ) -> Environment:
        """The domain's own seeded database (no external data needed); for a world, a
        read-only copy of its database file (the seed does not apply)."""
        domain = get_domain(domain) if isinstance(domain, str) else domain
        if domain.source_database is not None:
            return cls(domain, copy_cached(domain.source_database, cache_dir))
        name = f"{domain.name}-seed{seed}-v{domain.data_version}.sqlite"
        return cls(
            domain, _build_cached(domain, cache_dir, name, lambda db: domain.generate(db, seed))
        )

    @classmethod
    def from_taubench(
        cls, domain: Domain | str, data_dir: Path | str, *, cache_dir: Path | None = None
    ) -> Environment:
        """τ-bench's JSON database for this domain, imported once (cached by content)."""
        domain = get_domain(domain) if isinstance(domain, str) else domain
        if domain.taubench is None:
            raise ValueError(f"domain {domain.name!r} has no τ-bench import")
        data = load_taubench_data(domain, Path(data_dir))
        content = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
        name = f"{domain.name}-taubench-{content}-v{domain.data_version}.sqlite"
        return cls(
            domain,
            _build_cached(
                domain, cache_dir, name, lambda db: domain.taubench.import_data(db, data)
            ),
        )

    @classmethod
    def from_tau2(
        cls,
        domain: Domain | str,
        data_dir: Path | str | None = None,
        *,
        cache_dir: Path | None = None,
    ) -> Environment:
        """τ²-bench's `db.json` for this domain (from `data_dir`, or `$TAU2_DATA_DIR`),
        imported once (cached by content)."""
        from .tau2.data import read_db_json, tau2_data_dir

        domain = get_domain(domain) if isinstance(domain, str) else domain
        if domain.tau2 is None:
            raise ValueError(f"domain {domain.name!r} has no τ² import")
        adapter = domain.tau2
        folder = tau2_data_dir(adapter.tau2_name, data_dir, getattr(adapter, "db_file", "db.json"))
        data = adapter.read(folder) if hasattr(adapter, "read") else read_db_json(folder)
        content = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
        name = f"{domain.name}-tau2-{content}-v{domain.data_version}.sqlite"
        master = _build_cached(domain, cache_dir, name, lambda db: domain.tau2.import_db(db, data))
        env = cls(domain, master)
        env.data_folder = folder
        return env

    @classmethod
    def for_data(
        cls,
        domain: Domain | str,
        data_dir: Path | str | None = None,
        *,
        tasks_file: Path | str | None = None,
        seed: int = 0,
        cache_dir: Path | None = None,
    ) -> Environment:
        """The database a command runs on: a τ² domain's `db.json` (from `data_dir`, the
        task file's own folder, or `$TAU2_DATA_DIR`), τ-bench's files in `data_dir`, or
        the domain's generated data."""
        domain = get_domain(domain) if isinstance(domain, str) else domain
        if domain.tau2 is not None:
            from .tau2.data import find_tau2_data

            folder = find_tau2_data(
                domain.tau2.tau2_name, data_dir, tasks_file,
                getattr(domain.tau2, "db_file", "db.json"),
            )  # fmt: skip
            if folder is not None:
                return cls.from_tau2(domain, folder, cache_dir=cache_dir)
        elif data_dir:
            return cls.from_taubench(domain, data_dir, cache_dir=cache_dir)
        return cls.generated(domain, seed=seed, cache_dir=cache_dir)

    @property
    def master(self) -> sqlite3.Connection:
        """Read-only connection to the master (writes raise sqlite3.OperationalError)."""
        return self._master

    def sandbox(self) -> Sandbox:
        return Sandbox(self)

    def sandbox_image(self) -> bytes:
        """The master with change tracking installed, serialized once: a sandbox is a copy
        of these bytes (cheaper than a page-by-page backup plus two dozen triggers each)."""
        with self._lock:
            if self._image is None:
                conn = sqlite3.connect(":memory:", isolation_level=None)
                self._master.backup(conn)
                track_changes(conn, self.domain.schema)
                self._image_schema = conn.execute("PRAGMA schema_version").fetchone()[0]
                self._image = conn.serialize()
                conn.close()
            return self._image

    def _sandbox_connection(self) -> sqlite3.Connection:
        """A connection holding the image, with a transaction open that closing the sandbox
        rolls back. Reused when one is idle: a new copy of the image costs its
        deserialisation and, at the first statement, parsing its schema and triggers."""
        if self._backend is not None:
            return self._backend.acquire()
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = tracking_connection(self.sandbox_image())
        conn.execute("BEGIN")
        return conn

    def _recycle(self, conn: sqlite3.Connection) -> None:
        """Undo a closed sandbox's writes; keep its connection only if that restored the
        image (a write that something committed, or a schema change, retires it)."""
        if self._backend is not None:
            self._backend.release(conn)
            return
        if rolled_back_to_image(conn, self._image_schema):
            with self._lock:
                if len(self._idle) < IDLE_SANDBOXES:
                    self._idle.append(conn)
                    return
        conn.close()

    def state_hash(self) -> str:
        return self.digests.hexdigest()

    @property
    def digests(self) -> RowDigests:
        """Per-row digests of the master, computed once: sandboxes hash against them."""
        with self._lock:
            if self._digests is None:
                self._digests = RowDigests(self._master, self.domain.schema)
            return self._digests

    @property
    def tracks_exactly(self) -> bool:
        """Whether every write to a sandbox is tracked by row (hashes and diffs then read
        only those rows). Sandboxes that other processes write are read whole."""
        return self._backend is None or getattr(self._backend, "tracks_exactly", False)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        self._master.close()

    def __enter__(self) -> Environment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_taubench_data(domain: Domain, data_dir: Path) -> dict[str, dict[str, Any]]:
    missing = [f for f in domain.taubench_files if not (data_dir / f"{f}.json").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{data_dir} lacks τ-bench {domain.name} files: "
            + ", ".join(f"{m}.json" for m in missing)
        )
    return {f: json.loads((data_dir / f"{f}.json").read_text()) for f in domain.taubench_files}


def _build_cached(
    domain: Domain, cache_dir: Path | None, name: str, fill: Callable[[sqlite_utils.Database], None]
) -> Path:
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    path = cache / name
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        db = sqlite_utils.Database(tmp)
        domain.schema.create(db)
        fill(db)
        db.conn.commit()
        db.conn.execute("VACUUM")
        db.close()

    return _publish(path, write)


def _publish(path: Path, write: Callable[[Path], None]) -> Path:
    """Write a read-only file beside `path` and rename it there atomically: concurrent
    builders never see half a file."""
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        write(tmp)
        tmp.chmod(0o444)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_only_copy(source: Path) -> sqlite3.Connection:
    """A user's database in memory. Their file is only ever opened read-only (`mode=ro`)
    and copied with SQLite's backup API, so a file in WAL mode comes with its committed
    frames."""
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such database file")
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        mem = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        src.backup(mem)
        src.close()
        mem.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise ValueError(f"{source}: not a readable SQLite database ({exc})") from None
    return mem


# (file, mtime, size, and the same for a -wal beside it; cache dir) -> its cached copy:
# a run asks for a world's copy several times, and each would read the whole file.
_COPIES: dict[tuple, Path] = {}


def copy_cached(source: Path, cache_dir: Path | None) -> Path:
    """A read-only copy of a user's database in the cache, keyed by its content; read
    again only when the file (or its -wal) changed since this process last copied it."""
    source = Path(source)
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    identity = (str(cache), *_file_identity(source), *_file_identity(Path(f"{source}-wal")))
    known = _COPIES.get(identity)
    if known is not None and known.exists():
        return known
    _COPIES[identity] = path = _copy_cached(source, cache)
    return path


def _file_identity(path: Path) -> tuple:
    try:
        st = path.stat()
    except OSError:
        return (str(path), None, None)
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _copy_cached(source: Path, cache: Path) -> Path:
    mem = read_only_copy(source)
    image = mem.serialize()
    content = hashlib.sha256(image).hexdigest()[:16]
    path = cache / f"world-{content}.sqlite"
    if path.exists():
        mem.close()
        return path
    cache.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        dst = sqlite3.connect(tmp)
        mem.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")  # read-only copies need no -wal file
        dst.close()

    try:
        return _publish(path, write)
    finally:
        mem.close()


def save_database(conn: sqlite3.Connection, path: Path) -> None:
    """`conn`'s database as a new file: tables, rows (rowids kept), AUTOINCREMENT counters,
    then indexes, triggers and views; change tracking left out."""
    objects = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE "
        "'\\_dirty%' ESCAPE '\\' ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid"
    ).fetchall()
    path.unlink(missing_ok=True)
    out = sqlite3.connect(path, isolation_level=None)
    try:
        out.execute("BEGIN")
        tables = [n for kind, n, _ in objects if kind == "table" and n != "sqlite_sequence"]
        for kind, name, sql in objects:
            if kind == "table" and name != "sqlite_sequence":  # made by AUTOINCREMENT
                out.execute(sql)
        for table in tables:
            cur = conn.execute(f"SELECT rowid, * FROM {quote(table)}")
            cols = ", ".join(["rowid", *(quote(d[0]) for d in cur.description[1:])])
            marks = ", ".join("?" * len(cur.description))
            out.executemany(f"INSERT INTO {quote(table)} ({cols}) VALUES ({marks})", cur)
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
            out.execute("DELETE FROM sqlite_sequence")
            out.executemany(
                "INSERT INTO sqlite_sequence VALUES (?, ?)",
                conn.execute("SELECT name, seq FROM sqlite_sequence"),
            )
        for kind, _name, sql in objects:
            if kind != "table":
                out.execute(sql)
        out.execute("COMMIT")
    finally:
        out.close()
