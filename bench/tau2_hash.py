"""τ²'s `get_db_hash()` of a sandbox: the full dump against the incremental hash, one run.

    python bench/tau2_hash.py [--data ../shared/tau2bench/data] [--rounds 20]

For each τ² domain, replays a gold task's writes in a sandbox, then times both ways of
hashing it (they must agree). Last line: `tau2_hash_speedup: X` (full / incremental, the
smaller domain's).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from apigen_mt.environments import Environment
from apigen_mt.environments.tau2 import load_tau2_tasks, tau2_hash
from apigen_mt.environments.tau2.hashing import tau2_hash_of

DATA = Path(__file__).resolve().parents[2] / "shared" / "tau2bench" / "data"


def _timed(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _domain(domain: str, args) -> float:
    env = Environment.from_tau2(f"tau2-{domain}", args.data)
    tasks = load_tau2_tasks(args.data / "tau2" / "domains" / domain / "tasks.json")
    task = next(t for t in tasks if len(t.criteria().actions or []) > 2)
    with env.sandbox() as sandbox:
        sandbox.run([{"name": a.name, "arguments": a.arguments} for a in task.criteria().actions])
        tau2_hash_of(env, sandbox)  # the master's texts, made once

        def full() -> str:
            return tau2_hash(env.domain.tau2.export_db(sandbox.db))

        assert full() == tau2_hash_of(env, sandbox)
        slow = _timed(full, args.rounds)
        fast = _timed(lambda: tau2_hash_of(env, sandbox), args.rounds)
    print(f"{domain}: full dump {slow * 1000:.1f} ms, incremental {fast * 1000:.1f} ms")
    return slow / fast


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    ratios = [_domain(domain, args) for domain in ("retail", "airline")]
    print(f"tau2_hash_speedup: {min(ratios):.1f}")


if __name__ == "__main__":
    main()
