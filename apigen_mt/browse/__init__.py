"""`apigen-mt browse`: the run store in a browser, read-only, on Datasette.

Datasette (from the sqlite-utils family) already serves any SQLite file with tables,
facets, filters, SQL and JSON; we add pages for what a table cannot show well — a run's
funnel and quality, a blueprint with its rounds and reviews, a trajectory as a chat, an
evaluation's pass^k — through its custom pages, a plugin and canned queries.

The store is served in Datasette's mutable mode, whose read connections are opened with
SQLite's `mode=ro`: nothing can be written through it (Datasette 0.65 has no write API
and we register none). Immutable mode is not used because it ignores the WAL file: a run
still in progress, or not yet checkpointed, would show stale or missing rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def make_datasette(store_path: str | Path) -> Any:
    """A Datasette instance over the store, with our pages, plugin and canned queries."""
    try:
        from datasette.app import Datasette
    except ImportError:
        raise RuntimeError("browse needs Datasette: pip install 'apigen-mt[browse]'") from None
    from datasette.plugins import pm

    from . import plugin

    path = Path(store_path)
    if not path.is_file():
        raise FileNotFoundError(f"no run store at {path}")
    if not pm.is_registered(plugin):  # before the instance: it builds its Jinja env now
        pm.register(plugin, name="apigen_mt_browse")
    ds = Datasette(
        files=[str(path)],
        metadata=_metadata(path.stem),
        template_dir=str(HERE / "templates"),
        settings={"default_page_size": 50, "sql_time_limit_ms": 5000},
    )
    return ds


def serve(store_path: str | Path, host: str, port: int) -> None:
    """Serve until interrupted (uvicorn, which Datasette depends on)."""
    import uvicorn

    uvicorn.run(make_datasette(store_path).app(), host=host, port=port, log_level="warning")


def _metadata(database: str) -> dict[str, Any]:
    meta = json.loads((HERE / "metadata.json").read_text(encoding="utf-8"))
    # Canned queries and table settings belong to the database being served.
    meta["databases"] = {database: meta.pop("database")}
    return meta
