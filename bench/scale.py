"""Client CPU per LLM call (bare ChatOpenAI vs the dialogue and blueprint graphs) and
2-worker scaling.

python bench/scale.py [--latency 0.05] [--concurrency 64] [--calls 3000] [--dialogues 600]
                      [--attempts 150] [--rounds 3]

The fixed-latency loopback endpoint of bench/throughput.py runs in its own process. In
this process: (1) `--calls` bare `ChatOpenAI.ainvoke` calls with the retail tools bound,
at `--concurrency` in flight; (2) `--dialogues` retail dialogues through the real phase-2
graph (ChatOpenAI, tools on sandboxes, the SQLite run store) under the same limit. Client
CPU per call is this process's CPU time over the calls it made, measured in the same run.
(3) `--attempts` phase-1 attempts through the real blueprint graph (context sampling,
proposer, format, execution and policy checks, a committee of 3), against the same
endpoint, with every request recorded; then the same requests (messages, response format,
parameters) sent again through a bare ChatOpenAI: its baseline is the identical calls.
Then the same dialogues run in 1 and in 2 worker processes, each worker at the same
concurrency, and the calls per second are compared. The last two lines are
`overhead_ratio: <graph CPU per call / bare CPU per call>` and
`scale_2w: <calls/s with 2 workers / calls/s with 1>`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import bench_settings, dialogue_run, serve, tasks

from apigen_mt import models
from apigen_mt.agents import limited_calls
from apigen_mt.environments import Environment
from apigen_mt.graphs.blueprint import build_blueprint_graph, run_blueprint_attempt
from apigen_mt.graphs.context import BlueprintContext
from apigen_mt.models import chat_model
from apigen_mt.store import RunStore


async def bare_calls(base_url: str, env: Environment, n: int, concurrency: int) -> dict:
    """`n` assistant-shaped calls: the retail tools bound, a short conversation."""
    from langchain_core.messages import HumanMessage, SystemMessage

    work = tasks(env, n)
    model = chat_model("assistant", bench_settings(base_url)).bind_tools(
        env.domain.tools.openai_schemas()
    )
    gate = asyncio.Semaphore(concurrency)

    async def one(t: dict) -> None:
        async with gate:
            await model.ainvoke([SystemMessage(env.domain.policy), HumanMessage(t["instruction"])])

    return await _timed(lambda: asyncio.gather(*(one(t) for t in work)), lambda: n)


async def graph_dialogues(base_url: str, env: Environment, n: int, concurrency: int) -> dict:
    run = dialogue_run(env, base_url, tasks(env, n), concurrency)
    with limited_calls(concurrency) as limit:
        return await _timed(run, lambda: limit.calls)


async def blueprint_attempts(base_url: str, env: Environment, n: int, concurrency: int) -> dict:
    """`n` phase-1 attempts; the result carries the request bodies sent ("bodies")."""
    settings = bench_settings(base_url)
    ctx = BlueprintContext(
        env=env,
        store=RunStore(Path(tempfile.mkdtemp()) / "runs.sqlite"),
        proposer=chat_model("proposer", settings),
        reviewers=[chat_model("reviewer", settings)],
        feedback=chat_model("feedback", settings),
    )
    graph = build_blueprint_graph()
    units = asyncio.Semaphore(2 * concurrency)

    async def one(attempt: int):
        async with units:
            return await run_blueprint_attempt(ctx, attempt, graph)

    with limited_calls(concurrency) as limit, _recorded_requests() as bodies:
        out = await _timed(lambda: asyncio.gather(*(one(i) for i in range(n))), lambda: limit.calls)
    return {**out, "bodies": bodies}


async def bare_replay(base_url: str, bodies: list[bytes], concurrency: int) -> dict:
    """The recorded requests again, each one `ChatOpenAI.ainvoke(messages, **parameters)`."""
    from langchain_core.messages import convert_to_messages

    model = chat_model("proposer", bench_settings(base_url))
    calls = []
    for body in bodies:
        data = json.loads(body)
        params = {k: v for k, v in data.items() if k not in ("messages", "model", "stream")}
        calls.append((convert_to_messages(data["messages"]), params))
    gate = asyncio.Semaphore(concurrency)

    async def one(messages, params) -> None:
        async with gate:
            await model.ainvoke(messages, **params)

    return await _timed(lambda: asyncio.gather(*(one(*c) for c in calls)), lambda: len(calls))


@contextmanager
def _recorded_requests():
    """Every request body this process's ChatOpenAI clients send, in a list."""
    transport = models._observed_client()._transport
    bodies: list[bytes] = []
    send = transport.handle_async_request

    async def record(request):
        bodies.append(request.content)
        return await send(request)

    transport.handle_async_request = record
    try:
        yield bodies
    finally:
        del transport.handle_async_request


async def _timed(run, calls) -> dict:
    cpu, wall = time.process_time(), time.perf_counter()
    await run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = calls()
    return {"calls": n, "cpu_ms_per_call": 1000 * cpu / n, "calls_per_s": n / wall, "wall": wall}


def _median(results: list[dict]) -> dict:
    return sorted(results, key=lambda r: r["cpu_ms_per_call"])[len(results) // 2]


def _worker(base_url: str, n: int, concurrency: int, out) -> None:
    env = Environment.generated("retail", seed=0)
    asyncio.run(graph_dialogues(base_url, env, 8, 4))  # warm-up
    out.put(asyncio.run(graph_dialogues(base_url, env, n, concurrency)))


def workers(base_url: str, count: int, n: int, concurrency: int) -> float:
    """Dialogue calls/s of `count` worker processes running `n` dialogues each."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(base_url, n, concurrency, out)) for _ in range(count)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    # Each worker times its own dialogues; they overlap, so the run's rate is the sum.
    return sum(r["calls_per_s"] for r in results)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--latency", type=float, default=0.05)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--calls", type=int, default=3000)
    p.add_argument("--dialogues", type=int, default=600)
    p.add_argument("--attempts", type=int, default=150)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()

    env = Environment.generated("retail", seed=0)
    ports: multiprocessing.Queue = multiprocessing.Queue()
    n_tasks = max(args.calls, args.dialogues)
    server = multiprocessing.Process(target=serve, args=(args.latency, n_tasks, ports), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{ports.get(timeout=120)}/v1"
    try:
        asyncio.run(bare_calls(base_url, env, 64, 16))  # warm-up: imports, pools
        asyncio.run(graph_dialogues(base_url, env, 16, 8))
        c = args.concurrency
        # Alternating rounds, medians: one round of each drifts by ~10% between runs.
        bares, graphs = [], []
        for _ in range(args.rounds):
            bares.append(asyncio.run(bare_calls(base_url, env, args.calls, c)))
            graphs.append(asyncio.run(graph_dialogues(base_url, env, args.dialogues, c)))
        bare, graph = _median(bares), _median(graphs)
        asyncio.run(blueprint_attempts(base_url, env, 8, 8))  # warm-up
        phase1, replays = [], []
        for _ in range(args.rounds):
            phase1.append(asyncio.run(blueprint_attempts(base_url, env, args.attempts, c)))
            replays.append(asyncio.run(bare_replay(base_url, phase1[-1]["bodies"], c)))
        blueprint, replay = _median(phase1), _median(replays)
        print(
            f"latency L = {args.latency * 1000:.0f} ms, C = {c} in flight, "
            f"medians of {args.rounds} alternating rounds"
        )
        for name, r in (
            ("bare ChatOpenAI", bare),
            ("dialogue graph", graph),
            ("blueprint graph", blueprint),
            ("same, replayed bare", replay),
        ):
            print(
                f"{name:>19}: {r['calls']} calls, {r['cpu_ms_per_call']:.2f} ms CPU per call, "
                f"{r['calls_per_s']:.0f} calls/s"
            )
        ratio = blueprint["cpu_ms_per_call"] / replay["cpu_ms_per_call"]
        print(f"blueprint_overhead_ratio: {ratio:.3f}")
        one = workers(base_url, 1, args.dialogues, c)
        two = workers(base_url, 2, args.dialogues, c)
        print(f"dialogue calls/s: 1 worker {one:.0f}, 2 workers {two:.0f} (C = {c} each)")
    finally:
        server.terminate()
    print(f"overhead_ratio: {graph['cpu_ms_per_call'] / bare['cpu_ms_per_call']:.3f}")
    print(f"scale_2w: {two / one:.3f}")


if __name__ == "__main__":
    main()
