"""Token usage from every LLM call, accounted per role (and stage, when tagged)."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult
from pydantic import BaseModel


class Usage(BaseModel):
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class UsageLedger:
    """Thread-safe totals keyed by (role, stage). Attach `ledger.handler(role)` to a model."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[tuple[str, str], Usage] = defaultdict(Usage)

    def handler(self, role: str) -> BaseCallbackHandler:
        return _RoleUsageHandler(self, role)

    def add(self, role: str, stage: str, prompt: int, completion: int) -> None:
        with self._lock:
            u = self._totals[(role, stage)]
            u.calls += 1
            u.prompt_tokens += prompt
            u.completion_tokens += completion

    def by_role(self) -> dict[str, Usage]:
        out: dict[str, Usage] = defaultdict(Usage)
        with self._lock:
            for (role, _), u in self._totals.items():
                t = out[role]
                t.calls += u.calls
                t.prompt_tokens += u.prompt_tokens
                t.completion_tokens += u.completion_tokens
        return dict(out)

    def by_role_and_stage(self) -> dict[tuple[str, str], Usage]:
        with self._lock:
            return {k: v.model_copy() for k, v in self._totals.items()}

    def total(self) -> Usage:
        roles = self.by_role().values()
        return Usage(
            calls=sum(u.calls for u in roles),
            prompt_tokens=sum(u.prompt_tokens for u in roles),
            completion_tokens=sum(u.completion_tokens for u in roles),
        )


class _RoleUsageHandler(BaseCallbackHandler):
    def __init__(self, ledger: UsageLedger, role: str):
        self.ledger, self.role = ledger, role

    def on_llm_end(self, response: LLMResult, *, tags: list[str] | None = None, **_: Any) -> None:
        stage = next((t.split(":", 1)[1] for t in tags or [] if t.startswith("stage:")), "")
        prompt, completion = _usage_of(response)
        self.ledger.add(self.role, stage, prompt, completion)


def _usage_of(response: LLMResult) -> tuple[int, int]:
    for generations in response.generations:
        for g in generations:
            meta = getattr(getattr(g, "message", None), "usage_metadata", None)
            if meta:
                return meta.get("input_tokens", 0), meta.get("output_tokens", 0)
    usage = (response.llm_output or {}).get("token_usage") or {}
    return usage.get("prompt_tokens", 0) or 0, usage.get("completion_tokens", 0) or 0
