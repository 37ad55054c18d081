"""A loopback OpenAI-compatible endpoint playing every role (the oracle), optionally with
injected faults, for tests of the real ChatOpenAI path through the whole pipeline."""

from __future__ import annotations

import random
import threading
from contextlib import contextmanager

from apigen_mt.testing.fake_openai import FakeOpenAIServer, Fault, Reply, Reset, Stall
from apigen_mt.testing.scripted_roles import OracleRoles


class FaultyResponder:
    """Answers like the oracle, except that a seeded share of calls gets a fault."""

    def __init__(self, oracle: OracleRoles, share: float = 0.0, seed: int = 0, stall: float = 2.0):
        self.answer = oracle.fake_server_responder()
        self.share, self.stall = share, stall
        self.rng = random.Random(seed)
        self.injected: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, body):
        with self._lock:
            roll = self.rng.random()
            kind = self.rng.choice(["429", "500", "timeout", "garbage", "reset"])
        if roll >= self.share:
            return self.answer(body)
        with self._lock:
            self.injected[kind] = self.injected.get(kind, 0) + 1
        return {
            "429": Fault(429, {"retry-after-ms": "10"}, '{"error": {"message": "slow down"}}'),
            "500": Fault(500, {"retry-after-ms": "10"}),
            "timeout": Stall(self.stall),
            "garbage": Reply(content="<html>not json{{"),
            "reset": Reset(),
        }[kind]


@contextmanager
def oracle_endpoint(
    monkeypatch, *, share: float = 0.0, latency: float = 0.0, timeout=None, oracle=None
):
    """Every role pointed (by the standard env vars) at a loopback oracle."""
    responder = FaultyResponder(oracle or OracleRoles(), share)
    with FakeOpenAIServer(responder=responder, latency=latency) as server:
        monkeypatch.setenv("APIGEN_MT_BASE_URL", server.base_url)
        monkeypatch.setenv("APIGEN_MT_API_KEY", "test")
        monkeypatch.setenv("APIGEN_MT_MODEL", "fake-model")
        if timeout:
            monkeypatch.setenv("APIGEN_MT_TIMEOUT", str(timeout))
        server.faults = responder.injected
        yield server
