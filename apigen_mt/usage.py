"""Token usage from every LLM call, accounted per role (and stage, when tagged)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from uuid import UUID

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


# Roles whose calls carry no `stage:` tag are counted under the stage they serve.
STAGE_OF_ROLE = {
    "reviewer": "committee",
    "human": "dialogue",
    "human_judge": "dialogue",
    "assistant": "dialogue",
}
UsageSink = Callable[[str, str, str, int, int], None]  # role, stage, model, prompt, completion


class UsageRecorder(BaseCallbackHandler):
    """Attach once to a run's config: every chat-model call below it is reported to `sink`
    with its role (the role's run name), stage (the `stage:` tag) and model name."""

    def __init__(self, sink: UsageSink):
        self.sink = sink
        self._open: dict[UUID, tuple[str, str, str]] = {}
        self._lock = threading.Lock()

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        tags, metadata = tags or [], metadata or {}
        role = next((t.split(":", 1)[1] for t in tags if t.startswith("role:")), None)
        role = role or metadata.get("apigen_role") or name or "unknown"
        stage = next((t.split(":", 1)[1] for t in tags if t.startswith("stage:")), "")
        stage = stage or STAGE_OF_ROLE.get(role, role)
        params = kwargs.get("invocation_params") or {}
        model = str(
            metadata.get("ls_model_name") or params.get("model") or params.get("model_name") or ""
        )
        with self._lock:
            self._open[run_id] = (role, stage, model or params.get("_type", "unknown"))

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **_: Any) -> None:
        with self._lock:
            key = self._open.pop(run_id, None)
        if key is not None:
            self.sink(*key, *_usage_of(response))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **_: Any) -> None:
        with self._lock:
            self._open.pop(run_id, None)
