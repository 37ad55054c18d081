"""Shared fixtures. Tests are offline (pytest-socket); τ-bench data is optional."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apigen_mt.environments import Environment

REPO = Path(__file__).resolve().parents[1]
# Hugging Face libraries read these at import: tests never reach the hub.
for _name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_name, "1")
TAUBENCH_ENV = "APIGEN_MT_TAUBENCH_DIR"


def taubench_dir() -> Path:
    return Path(os.environ.get(TAUBENCH_ENV) or REPO.parent / "shared" / "taubench")


@pytest.fixture(scope="session")
def taubench_root() -> Path:
    """../shared/taubench (or $APIGEN_MT_TAUBENCH_DIR); tests check what they need in it."""
    return taubench_dir()


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def retail_env(cache_dir) -> Environment:
    """The generated retail database (seed 0): no external data needed."""
    return Environment.generated("retail", seed=0, cache_dir=cache_dir)


@pytest.fixture(scope="session")
def taubench_retail_dir() -> Path:
    path = taubench_dir() / "retail"
    if not (path / "tasks_test.json").is_file():
        pytest.skip(f"τ-bench retail data not found at {path} (set ${TAUBENCH_ENV})")
    return path


@pytest.fixture(scope="session")
def retail_tasks(taubench_retail_dir):
    from apigen_mt.environments.taubench import load_tasks

    return load_tasks(taubench_retail_dir / "tasks_test.json")


@pytest.fixture(scope="session")
def retail_expected(taubench_retail_dir) -> list[dict]:
    import json

    return json.loads((taubench_retail_dir / "expected_test.json").read_text())


@pytest.fixture(scope="session")
def taubench_retail_env(taubench_retail_dir, cache_dir) -> Environment:
    return Environment.from_taubench("retail", taubench_retail_dir, cache_dir=cache_dir)


@pytest.fixture(scope="session")
def taubench_airline_dir() -> Path:
    path = taubench_dir() / "airline"
    if not (path / "tasks_test.json").is_file():
        pytest.skip(f"τ-bench airline data not found at {path} (set ${TAUBENCH_ENV})")
    return path


@pytest.fixture(scope="session")
def taubench_airline_env(taubench_airline_dir, cache_dir) -> Environment:
    return Environment.from_taubench("airline", taubench_airline_dir, cache_dir=cache_dir)


@pytest.fixture(scope="session")
def airline_env(cache_dir) -> Environment:
    """The generated airline database (seed 0): no external data needed."""
    return Environment.generated("airline", seed=0, cache_dir=cache_dir)


@pytest.fixture()
def cli_env(monkeypatch, cache_dir):
    """The CLI as a user runs it: this session's database cache, no stray endpoint or
    price settings from the machine's environment."""
    monkeypatch.setenv("APIGEN_MT_CACHE_DIR", str(cache_dir))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "APIGEN_MT_PRICES"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch
