"""Worlds against the built-in domains, measured in one run.

    python bench/worlds.py [--data-dir ../shared/taubench/retail] [--rounds 30]

1. A Python-tools world's tool calls against the same calls in the built-in retail domain,
   on the same data: τ-bench's retail converted to a plain SQLite file with tools written
   without our decorators (tests/worlds/taubench_retail). Without --data-dir the data is the
   generated retail database, exported to τ-bench's shape and converted the same way.
2. An MCP world's calls against its Python twin (tests/worlds/acme_mcp vs acme), and the
   MCP world's episode setup from a warm pool: a sandbox with a ready server, then handing
   it back (the file reset to the master and checked), against a fresh server start.

Medians of alternating rounds. The last two lines are `python_world_call_ratio: X`
(goal <= 1.5) and `mcp_episode_setup_ms: Y` (goal <= 50).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from apigen_mt.environments import Environment, get_domain
from apigen_mt.environments.taubench import export_state

WORLDS = Path(__file__).resolve().parents[1] / "tests" / "worlds"


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def retail_pair(data_dir: Path | None, tmp: Path) -> tuple[Environment, Environment]:
    cache = tmp / "cache"
    if data_dir:
        built_in = Environment.from_taubench("retail", data_dir, cache_dir=cache)
        source = data_dir
    else:
        built_in = Environment.generated("retail", seed=0, cache_dir=cache)
        source = tmp / "json"
        source.mkdir()
        with built_in.sandbox() as box:
            for name, rows in export_state(built_in, box).items():
                (source / f"{name}.json").write_text(json.dumps(rows))
    folder = tmp / "taubench_retail"
    shutil.copytree(WORLDS / "taubench_retail", folder)
    _module(folder / "convert.py").convert(source, folder / "retail.sqlite")
    (folder / "policy.md").write_text("# Retail policy\n")
    world = Environment.generated(get_domain(str(folder)), cache_dir=cache)
    return built_in, world


def retail_calls(env: Environment) -> list[dict]:
    """A support session's calls on one user: lookups, details, two writes."""
    db = env.master
    user, email, zip_code = db.execute(
        "SELECT user_id, email, zip FROM users ORDER BY rowid LIMIT 1"
    ).fetchone()
    first, last = db.execute(
        "SELECT first_name, last_name FROM users WHERE user_id = ?", [user]
    ).fetchone()
    pending = db.execute(
        "SELECT order_id FROM orders WHERE status = 'pending' ORDER BY rowid LIMIT 2"
    ).fetchall()
    order = db.execute("SELECT order_id FROM orders ORDER BY rowid LIMIT 1").fetchone()[0]
    product = db.execute("SELECT product_id FROM products ORDER BY rowid LIMIT 1").fetchone()[0]
    address = {"address1": "1 Main St", "address2": "", "city": "Austin", "state": "TX",
               "country": "USA", "zip": "78701"}  # fmt: skip
    return [
        {"name": "find_user_id_by_email", "arguments": {"email": email}},
        {"name": "find_user_id_by_name_zip",
         "arguments": {"first_name": first, "last_name": last, "zip": zip_code}},
        {"name": "get_user_details", "arguments": {"user_id": user}},
        {"name": "get_order_details", "arguments": {"order_id": order}},
        {"name": "get_product_details", "arguments": {"product_id": product}},
        {"name": "list_all_product_types", "arguments": {}},
        {"name": "cancel_pending_order",
         "arguments": {"order_id": pending[0][0], "reason": "no longer needed"}},
        {"name": "modify_pending_order_address",
         "arguments": {"order_id": pending[1][0], **address}},
        {"name": "get_order_details", "arguments": {"order_id": "#W0000000"}},  # a refusal
    ]  # fmt: skip


def acme_calls() -> list[dict]:
    return [
        {"name": "find_customer_by_email", "arguments": {"email": "ava.okafor@example.com"}},
        {"name": "get_customer_orders", "arguments": {"customer_id": 3}},
        {"name": "get_order", "arguments": {"order_id": 4}},
        {"name": "get_product", "arguments": {"sku": "TENT-4P"}},
        {"name": "cancel_order", "arguments": {"order_id": 4, "reason": "no longer needed"}},
        {"name": "refund_order_line", "arguments": {"line": {"order_id": 7, "line_no": 1}}},
        {"name": "cancel_order", "arguments": {"order_id": 7, "reason": "no longer needed"}},
    ]


def calls_ms(env: Environment, calls: list[dict]) -> float:
    """Milliseconds per call of one session's calls (a fresh sandbox, not timed)."""
    with env.sandbox() as box:
        start = time.perf_counter()
        for c in calls:
            box.call(c["name"], c["arguments"])
        elapsed = time.perf_counter() - start
        failed = [e.name for e in box.trace if not e.ok]
    return elapsed * 1000 / len(calls), failed


def direct_ms(world: Environment, calls: list[dict], rounds: int) -> float:
    """The world's own functions on a plain connection to a copy of its database: what
    the calls cost without our validation, savepoints, change tracking and rendering."""
    import sqlite3

    tools = _module(world.domain.world.config.tools)  # a second, plain import of the file
    times = []
    for _ in range(rounds):
        conn = sqlite3.connect(":memory:")
        world.master.backup(conn)
        start = time.perf_counter()
        for c in calls:
            with contextlib.suppress(ValueError, LookupError):  # a refusal
                getattr(tools, c["name"])(conn, **c["arguments"])
        times.append((time.perf_counter() - start) * 1000 / len(calls))
        conn.close()
    return statistics.median(times)


def alternate(pair: dict[str, tuple[Environment, list]], rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in pair}
    for _ in range(rounds):
        for name, (env, calls) in pair.items():
            ms, _ = calls_ms(env, calls)
            times[name].append(ms)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="τ-bench retail data folder")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="apigen-bench-worlds-"))

    built_in, world = retail_pair(args.data_dir, tmp)
    calls = retail_calls(built_in)
    for env in (built_in, world):  # warm both: digests, images, imports
        _, failed = calls_ms(env, calls)
    print(f"retail session: {len(calls)} calls, refused in both: {failed}")
    retail = alternate({"built-in": (built_in, calls), "world": (world, calls)}, args.rounds)
    print(f"built-in retail: {retail['built-in']:.3f} ms/call")
    print(f"python-tools world (same data): {retail['world']:.3f} ms/call")
    direct = direct_ms(world, calls, args.rounds)
    print(f"the world's functions called directly (no sandbox, no adapter): {direct:.3f} ms/call")
    print(f"adapter and sandbox cost per call: {retail['world'] - direct:.3f} ms")

    acme = tmp / "acme"
    shutil.copytree(WORLDS / "acme", acme)
    subprocess.run([sys.executable, "build_db.py"], cwd=acme, check=True)
    shutil.copytree(WORLDS / "acme_mcp", tmp / "acme_mcp")
    shutil.copy(acme / "app.sqlite", tmp / "acme_mcp" / "app.sqlite")
    python_env = Environment.generated(get_domain(str(acme)), cache_dir=tmp / "cache")
    mcp_env = Environment.generated(get_domain(str(tmp / "acme_mcp")), cache_dir=tmp / "cache")
    start = time.perf_counter()
    mcp_env._backend.warm(1)
    fresh_ms = (time.perf_counter() - start) * 1000
    twin = alternate(
        {"python": (python_env, acme_calls()), "mcp": (mcp_env, acme_calls())}, args.rounds
    )
    print(f"acme python-tools world: {twin['python']:.3f} ms/call")
    print(f"acme MCP world (SDK server, stdio): {twin['mcp']:.3f} ms/call")
    print(f"mcp_call_ratio_vs_python: {twin['mcp'] / twin['python']:.2f}")
    setups = []
    for _ in range(args.rounds):
        begin = time.perf_counter()
        box = mcp_env.sandbox()  # a pooled slot: its server is up, its file is the master
        box.close()  # reset to the master and checked: ready for the next episode
        setups.append((time.perf_counter() - begin) * 1000)
    print(f"fresh MCP server start: {fresh_ms:.0f} ms")
    mcp_env.close()
    python_env.close()
    print(f"python_world_call_ratio: {retail['world'] / retail['built-in']:.2f}")
    print(f"mcp_episode_setup_ms: {statistics.median(setups):.2f}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
