"""τ²-bench's own code (../shared/tau2bench/reference) as the oracle for our τ² domains.

τ² needs Python 3.12 and its own dependencies, so it runs in a venv of its own (made once
under the cache, ~50 s) as a subprocess speaking tests/tau2_oracle.py's JSON-lines protocol.
Tests that need it skip with the reason where ../shared/tau2bench or Python 3.12 is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from venvs import cached_venv

from apigen_mt.environments import default_cache_dir

REPO = Path(__file__).resolve().parents[1]
TAU2_ENV = "APIGEN_MT_TAU2_DIR"
ORACLE = Path(__file__).with_name("tau2_oracle.py")


def tau2_dir() -> Path:
    return Path(os.environ.get(TAU2_ENV) or REPO.parent / "shared" / "tau2bench")


def tau2_data() -> Path:
    """τ²'s data folder (`TAU2_DATA_DIR`); skips where absent."""
    data = tau2_dir() / "data"
    if not (data / "tau2" / "domains" / "retail" / "db.json").is_file():
        pytest.skip(f"τ² data not found at {data} (set ${TAU2_ENV})")
    return data


def tasks_file(domain: str) -> Path:
    return tau2_data() / "tau2" / "domains" / domain / "tasks.json"


def _python312() -> list[str] | None:
    """A Python 3.12 command: python3.12 on PATH (these machines: pyenv's 3.12.1)."""
    if shutil.which("python3.12") is None:
        return None
    env = {**os.environ, "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.12.1")}
    probe = subprocess.run(["python3.12", "--version"], capture_output=True, text=True, env=env)
    return ["python3.12"] if probe.returncode == 0 else None


def tau2_python() -> str:
    """The Python of τ²'s venv, made (and τ² installed into it) the first time."""
    reference = tau2_dir() / "reference"
    if not (reference / "pyproject.toml").is_file():
        pytest.skip(f"τ²'s reference code not found at {reference} (set ${TAU2_ENV})")
    base = _python312()
    if base is None:
        pytest.skip("τ² needs Python 3.12 (python3.12 is not on PATH)")
    env = {**os.environ, "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.12.1")}
    return cached_venv("tau2-venv", str(reference), base=base, env=env)


class Tau2Oracle:
    """τ²'s environment in its venv: `reset(domain)`, `call(name, arguments)`, `hash()`."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [tau2_python(), str(ORACLE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            # offline: litellm would fetch its price map from the network at import
            env={
                **os.environ,
                "TAU2_DATA_DIR": str(tau2_data()),
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            },
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"τ²'s oracle exited ({self.proc.wait()})")
        return json.loads(line)

    def reset(self, domain: str) -> None:
        self.ask({"op": "reset", "domain": domain})

    def call(
        self, name: str, arguments: dict[str, Any], requestor: str = "assistant"
    ) -> dict[str, Any]:
        return self.ask(
            {"op": "call", "name": name, "arguments": arguments, "requestor": requestor}
        )

    def task(self, domain: str, task_index: int) -> str:
        """A fresh environment in the task's initial state; the task's id."""
        return self.ask({"op": "task", "domain": domain, "task_index": task_index})["id"]

    def hash(self) -> str:
        return self.ask({"op": "hash"})["hash"]

    def user_hash(self) -> str | None:
        return self.ask({"op": "hash"})["user_hash"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def gold_results(domain: str) -> list[dict[str, Any]]:
    """τ²'s replay of every task's gold actions: observations and final hashes. Cached by
    the oracle's, τ²'s and the data's content (τ² takes ~20 s a domain)."""
    data = tau2_data() / "tau2" / "domains" / domain
    digest = hashlib.sha256()
    for path in (ORACLE, tau2_dir() / "reference" / "pyproject.toml", *sorted(data.iterdir())):
        digest.update(path.read_bytes())
    cached = default_cache_dir() / f"tau2-gold-{domain}-{digest.hexdigest()[:16]}.json"
    if cached.is_file():
        return json.loads(cached.read_text())
    oracle = Tau2Oracle()
    try:
        results = oracle.ask({"op": "gold", "domain": domain})["tasks"]
    finally:
        oracle.close()
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(results))
    return results


def tau2_messages(transcript) -> list[dict[str, Any]]:
    """A stored transcript (LangChain messages; the user's own tool traffic marked with
    side "user") as τ²'s messages: the user's calls a UserMessage's tool calls, their
    results ToolMessages of requestor "user"."""
    out = []
    for m in transcript:
        side = "user" if m.additional_kwargs.get("side") == "user" else "assistant"
        if m.type == "tool":
            out.append({"role": "tool", "id": m.tool_call_id, "content": str(m.content),
                        "requestor": side})  # fmt: skip
        elif m.type == "human":
            out.append({"role": "user", "content": str(m.content)})
        else:
            calls = [{"id": c["id"], "name": c["name"], "arguments": c["args"],
                      "requestor": side} for c in m.tool_calls]  # fmt: skip
            out.append({"role": side, "content": str(m.content) or None,
                        "tool_calls": calls or None})  # fmt: skip
    return out
