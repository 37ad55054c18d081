"""Servers that tests start as their own processes on loopback (`langgraph dev`,
`phoenix serve`): a free port, start, wait for health, stop."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(command: list[str], health: str, log: Path, **popen) -> Iterator[None]:
    """Run `command` until `health` answers 200 (a failed start fails the test with the
    log's tail), and stop it afterwards."""
    with log.open("w") as sink:
        server = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, **popen)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(health, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{command[0]} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
