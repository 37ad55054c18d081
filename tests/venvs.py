"""Virtual environments that tests make once and keep under the cache, for code that must
run beside ours rather than in our environment (LLaMA-Factory and torch; the 1.x MCP SDK)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from apigen_mt.environments import default_cache_dir


def cached_venv(name: str, *requirements: str, base: list[str] | None = None, env=None) -> str:
    """The Python of `<cache>/<name>`, made with `requirements` installed the first time
    (by `base`, a Python command, default ours); the test is skipped, with the reason,
    where that Python is missing or they do not install."""
    venv = default_cache_dir() / name
    python = venv / "bin" / "python"
    if not python.exists():
        made = subprocess.run(
            [*(base or [sys.executable]), "-m", "venv", str(venv)],
            capture_output=True,
            text=True,
            env=env,
        )
        if made.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            pytest.skip(f"cannot make the {name} venv: {made.stderr[-300:]}")
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *requirements],
            capture_output=True,
            text=True,
        )
        if install.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            pytest.skip(f"{' '.join(requirements)} does not install here: {install.stderr[-300:]}")
    return str(python)
