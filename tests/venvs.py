"""Virtual environments that tests make once and keep under the cache, for code that must
run beside ours rather than in our environment (LLaMA-Factory and torch; the 1.x MCP SDK)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from apigen_mt.environments import default_cache_dir


def cached_venv(name: str, *requirements: str) -> str:
    """The Python of `<cache>/<name>`, made with `requirements` installed the first time;
    the test is skipped, with pip's reason, where they do not install."""
    venv = default_cache_dir() / name
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *requirements],
            capture_output=True,
            text=True,
        )
        if install.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            pytest.skip(f"{' '.join(requirements)} does not install here: {install.stderr[-300:]}")
    return str(python)
