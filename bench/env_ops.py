"""Sandbox fork + state hash: ours (SQLite backup + incremental digest) vs τ-bench's way
(deep copy of the JSON dict + sha256 of str() of nested sorted tuples), on the same data.

    python bench/env_ops.py [--data-dir ../shared/taubench/retail] [--runs 30]

Without --data-dir it uses the generated retail database (exported to τ-bench's JSON shape),
so it runs anywhere. Prints medians; the last line is `speedup: <baseline / ours>`.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from apigen_mt.environments import Environment, state_hash
from apigen_mt.environments.environment import load_taubench_data
from apigen_mt.environments.taubench import export_state, taubench_hash


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="τ-bench retail data folder")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    cache = Path(tempfile.mkdtemp(prefix="apigen-bench-"))

    if args.data_dir:
        env = Environment.from_taubench("retail", args.data_dir, cache_dir=cache)
        data = load_taubench_data(env.domain, args.data_dir)
        source = f"τ-bench data in {args.data_dir}"
    else:
        env = Environment.generated("retail", seed=0, cache_dir=cache)
        with env.sandbox() as sandbox:
            data = export_state(env, sandbox)
        source = "generated retail data (seed 0)"
    rows = sum(
        env.master.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
        for t in env.domain.schema.names
    )
    pending = env.master.execute(
        "SELECT order_id FROM orders WHERE status = 'pending' ORDER BY rowid LIMIT 1"
    ).fetchone()[0]

    setup_start = time.perf_counter()
    env.state_hash()  # per-row digests of the master: once per process
    setup_ms = (time.perf_counter() - setup_start) * 1000

    def baseline() -> str:
        return taubench_hash(copy.deepcopy(data))

    def baseline_write() -> str:
        fork = copy.deepcopy(data)
        fork["orders"][pending]["status"] = "cancelled"
        return taubench_hash(fork)

    def ours() -> str:
        with env.sandbox() as sandbox:
            return sandbox.state_hash()

    def ours_write() -> str:
        with env.sandbox() as sandbox:
            sandbox.call(
                "cancel_pending_order", {"order_id": pending, "reason": "no longer needed"}
            )
            return sandbox.state_hash()

    def ours_full() -> str:
        with env.sandbox() as sandbox:
            return state_hash(sandbox.conn, env.domain.schema)

    results = {
        "baseline fork+hash (deepcopy + tuple-str-sha256)": median_ms(baseline, args.runs),
        "baseline fork+write+hash": median_ms(baseline_write, args.runs),
        "ours fork+hash (backup + incremental digest)": median_ms(ours, args.runs),
        "ours fork+cancel_pending_order+hash": median_ms(ours_write, args.runs),
        "ours fork+full re-digest (no incremental)": median_ms(ours_full, args.runs),
    }
    print(f"data: {source}; {rows} rows; median of {args.runs} runs each")
    print(f"one-off master digest: {setup_ms:.2f} ms")
    for name, ms in results.items():
        print(f"{name:<52} {ms:9.3f} ms")
    values = list(results.values())
    print(f"speedup with a write: {values[1] / values[3]:.1f}")
    print(f"speedup without incremental hashing: {values[0] / values[4]:.1f}")
    print(f"speedup: {values[0] / values[2]:.1f}")


if __name__ == "__main__":
    main()
