"""Role calls through the real ChatOpenAI path against a loopback server that injects
faults on a share of requests: how many HTTP requests were issued, how many answered,
how many role calls succeeded and how the failures were recorded.

    python bench/role_faults.py [--calls 50] [--fault-rate 0.3] [--seed 0]
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import time

from apigen_mt.agents import Blueprint, ProposerInput, RoleFailure, make_proposer
from apigen_mt.models import chat_model
from apigen_mt.settings import load_settings
from apigen_mt.testing.fake_openai import FakeOpenAIServer, Fault, Reply, Reset, Stall

BLUEPRINT = json.dumps(
    {
        "reasoning": "r",
        "user_id": "u",
        "instruction": "You want X.",
        "actions": [{"name": "think", "arguments": {"thought": "t"}}],
    }
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=50)
    p.add_argument("--fault-rate", type=float, default=0.3)
    p.add_argument("--max-retries", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = random.Random(args.seed)
    injected: collections.Counter[str] = collections.Counter()
    kinds = {
        "429": lambda: Fault(429, {"Retry-After": "0"}),
        "500": lambda: Fault(500),
        "reset": Reset,
        "timeout": lambda: Stall(0.6),
        "garbage": lambda: Reply(content="<html>gateway error</html>"),
    }

    def responder(_body):
        if rng.random() < args.fault_rate:
            kind = rng.choice(list(kinds))
            injected[kind] += 1
            return kinds[kind]()
        return Reply(content=BLUEPRINT)

    outcomes: collections.Counter[str] = collections.Counter()
    start = time.perf_counter()
    with FakeOpenAIServer(responder=responder) as server:
        settings = load_settings(
            {
                "APIGEN_MT_BASE_URL": server.base_url,
                "APIGEN_MT_API_KEY": "k",
                "APIGEN_MT_TIMEOUT": "0.5",
                "APIGEN_MT_MAX_RETRIES": str(args.max_retries),
            }
        )
        proposer = make_proposer(chat_model("proposer", settings))
        x = ProposerInput(domain="retail", policy="p", tools=[], records="{}", persona="p")
        for _ in range(args.calls):
            result = proposer.invoke(x)
            outcomes[
                "ok"
                if isinstance(result, Blueprint)
                else f"failure:{result.kind}"
                if isinstance(result, RoleFailure)
                else "?"
            ] += 1
    elapsed = time.perf_counter() - start
    print(
        f"role calls: {args.calls}; fault rate {args.fault_rate:.0%}; "
        f"client max_retries {args.max_retries}; {elapsed:.1f}s"
    )
    print(f"faults injected: {dict(injected)}")
    print(f"HTTP requests issued: {len(server.requests)}; answered 200: {server.served}")
    print(f"role outcomes: {dict(outcomes)}")
    print(f"success_rate: {outcomes['ok'] / args.calls:.3f}")


if __name__ == "__main__":
    main()
