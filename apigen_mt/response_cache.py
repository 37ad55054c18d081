"""An opt-in SQLite cache of LLM responses keyed by the full request.

Re-running a pipeline with the same inputs then costs nothing. It answers identical
requests identically, so it only makes sense where that is what you want (re-runs, tests).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core._api import LangChainBetaWarning
from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.load import dumps, loads
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, Generation

_ALLOWED = [ChatGeneration, ChatGenerationChunk, Generation, AIMessage, AIMessageChunk]


class SQLiteResponseCache(BaseCache):
    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, generations TEXT NOT NULL)"
        )
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _key(prompt: str, llm_string: str) -> str:
        return hashlib.sha256(f"{llm_string}\x00{prompt}".encode()).hexdigest()

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT generations FROM responses WHERE key = ?", [self._key(prompt, llm_string)]
            ).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LangChainBetaWarning)
            # Only generations and messages: a cache file must not smuggle in configuration.
            return loads(row[0], allowed_objects=_ALLOWED)

    def update(self, prompt: str, llm_string: str, return_val: Sequence[Any]) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?)",
                [self._key(prompt, llm_string), dumps(list(return_val))],
            )

    def clear(self, **kwargs: Any) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM responses")
