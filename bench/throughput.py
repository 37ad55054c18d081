"""Dialogue throughput against an endpoint with fixed latency, and memory at high concurrency.

python bench/throughput.py [--latency 0.05] [--levels 8 32 64 128] [--dialogues-per-slot 3]
                           [--rss-dialogues 1000]

A loopback OpenAI-compatible server (asyncio, in its own process, so that it does not take
this process's interpreter time) answers every call after exactly L seconds, playing the
user and the agent of retail cancellation tasks. For each concurrency C, 3 x C dialogues
run through the real phase-2 graph, ChatOpenAI clients, tool execution on sandboxes and the
SQLite run store, under one shared limit of C LLM calls. Ideal throughput is C / L calls
per second; efficiency is achieved / ideal. Then 1,000 dialogues run at once (C = 1,000)
and the process's peak RSS is reported. The last line is `efficiency_c64: <float>`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

from apigen_mt.agents import limited_calls
from apigen_mt.environments import Environment
from apigen_mt.graphs.context import DialogueContext
from apigen_mt.graphs.dialogue import build_dialogue_graph, run_dialogue
from apigen_mt.graphs.verify import gold_state_hash
from apigen_mt.models import chat_model
from apigen_mt.settings import load_settings
from apigen_mt.store import RunStore
from apigen_mt.testing.scripted_roles import OracleRoles

ACTION = "cancel_pending_order"


def tasks(env: Environment, n: int) -> list[dict]:
    rows = env.master.execute(
        "SELECT order_id, user_id FROM orders WHERE status = 'pending' ORDER BY rowid"
    ).fetchall()
    out = []
    for i in range(n):
        order, user = rows[i % len(rows)]
        out.append(
            {
                "user_id": user,
                "instruction": f"You are {user} (#{i}); please cancel order {order}.",
                "actions": [
                    {"name": ACTION, "arguments": {"order_id": order, "reason": "no longer needed"}}
                ],
                "outputs": [],
            }
        )
    return out


# -- the endpoint (a child process) -------------------------------------------------------


def serve(latency: float, n_tasks: int, port_out) -> None:
    env = Environment.generated("retail", seed=0)
    oracle = OracleRoles()
    for t in tasks(env, n_tasks):
        oracle.expect(t["instruction"], t["actions"], t["outputs"])
    respond = oracle.fake_server_responder()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = json.loads(await reader.readexactly(length) or b"{}")
                await asyncio.sleep(latency)
                data = json.dumps(_completion(respond(body))).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
        port_out.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _completion(reply) -> dict:
    message: dict = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
            }
            for i, c in enumerate(reply.tool_calls)
        ]
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


# -- the client (this process) ------------------------------------------------------------


def bench_settings(base_url: str):
    return load_settings({"APIGEN_MT_BASE_URL": base_url, "APIGEN_MT_API_KEY": "bench"})


def dialogue_run(env, base_url: str, work: list[dict], concurrency: int):
    """A coroutine factory running every task of `work` through the phase-2 graph. Tasks
    are saved as the pipeline saves them: with the gold state's hash."""
    settings = bench_settings(base_url)
    store = RunStore(Path(tempfile.mkdtemp()) / "runs.sqlite")
    ctx = DialogueContext(
        env=env,
        store=store,
        human=chat_model("human", settings),
        assistant=chat_model("assistant", settings),
        best_of_n=1,
    )
    ids = [store.save_task({**t, "gold_hash": gold_state_hash(env, t["actions"])}) for t in work]
    graph = build_dialogue_graph()
    units = asyncio.Semaphore(2 * concurrency)  # as the pipeline's unit runner does

    async def one(task_id: str):
        async with units:
            return await run_dialogue(ctx, task_id, 0, graph)

    return lambda: asyncio.gather(*(one(i) for i in ids))


async def run_level(env, base_url: str, concurrency: int, work: list[dict]) -> dict:
    run = dialogue_run(env, base_url, work, concurrency)
    with limited_calls(concurrency) as limit:
        start = time.perf_counter()
        finals = await run()
        wall = time.perf_counter() - start
    accepted = sum(bool(f.get("accepted")) for f in finals)
    return {
        "C": concurrency,
        "dialogues": len(work),
        "accepted": accepted,
        "calls": limit.calls,
        "peak_in_flight": limit.peak,
        "wall_s": wall,
        "calls_per_s": limit.calls / wall,
        "dialogues_per_hour": len(work) / wall * 3600,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--latency", type=float, default=0.05)
    p.add_argument("--levels", type=int, nargs="+", default=[8, 32, 64, 128])
    p.add_argument("--dialogues-per-slot", type=int, default=3)
    p.add_argument("--rss-dialogues", type=int, default=1000)
    args = p.parse_args()

    env = Environment.generated("retail", seed=0)
    n_tasks = max(max(args.levels) * args.dialogues_per_slot, args.rss_dialogues)
    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args.latency, n_tasks, ports), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{ports.get(timeout=120)}/v1"
    all_tasks = tasks(env, n_tasks)
    efficiency = {}
    try:
        asyncio.run(run_level(env, base_url, 4, all_tasks[:8]))  # warm-up: imports, pools
        print(f"latency L = {args.latency * 1000:.0f} ms; ideal calls/s = C / L")
        for c in args.levels:
            r = asyncio.run(run_level(env, base_url, c, all_tasks[: c * args.dialogues_per_slot]))
            ideal = c / args.latency
            efficiency[c] = r["calls_per_s"] / ideal
            print(
                f"C={c:>4}: {r['dialogues']} dialogues ({r['accepted']} accepted), "
                f"{r['calls']} calls in {r['wall_s']:.1f} s -> {r['calls_per_s']:.0f} calls/s "
                f"of ideal {ideal:.0f} ({efficiency[c]:.0%}), "
                f"{r['dialogues_per_hour']:.0f} dialogues/hour, peak in flight "
                f"{r['peak_in_flight']}"
            )
        if args.rss_dialogues:
            n = args.rss_dialogues
            r = asyncio.run(run_level(env, base_url, n, all_tasks[:n]))
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
            print(
                f"{n} concurrent dialogues (C={n}): {r['accepted']} accepted in "
                f"{r['wall_s']:.1f} s, peak in flight {r['peak_in_flight']}; "
                f"peak RSS {rss:.2f} GiB"
            )
    finally:
        server.terminate()
    if 64 in efficiency:
        print(f"efficiency_c64: {efficiency[64]:.3f}")
    else:
        sys.exit("efficiency_c64 needs 64 in --levels")


if __name__ == "__main__":
    main()
