"""The simulated user (and its judges) an RL environment talks to: given by the caller, or
the roles' configured endpoints as `eval` uses them (APIGEN_MT_HUMAN_*, APIGEN_MT_NL_JUDGE_*,
APIGEN_MT_HUMAN_JUDGE_*). With no endpoint configured, the embedded model is started the
first time a user is needed and stopped on `close()`."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from apigen_mt.endpoints import resolved_endpoint
from apigen_mt.models import chat_model
from apigen_mt.settings import ModelSettings, load_settings


class ConfiguredRoles:
    def __init__(self, *, user: Any = None, judge: bool = False):
        self._given, self._wants_judge = user, judge
        self._settings: ModelSettings | None = None
        self._stack = ExitStack()

    def _ready(self) -> ModelSettings:
        if self._settings is None:
            settings = load_settings()
            self._settings = self._stack.enter_context(
                resolved_endpoint(settings, say=lambda *_: None)
            )
        return self._settings

    def user(self) -> Any:
        return self._given if self._given is not None else chat_model("human", self._ready())

    def judge(self) -> Any:
        """The best-of-N judge, when more than one candidate is drawn."""
        if not self._wants_judge:
            return None
        return chat_model("human_judge", self._ready())

    def nl_judge(self) -> Any:
        """τ² tasks' NL-assertion judge; a scripted user brings none (and no endpoint)."""
        if self._given is not None and self._settings is None and not _configured():
            return None
        return chat_model("nl_judge", self._ready())

    def close(self) -> None:
        self._stack.close()
        self._settings = None


def _configured() -> bool:
    """Whether an endpoint is configured (else the embedded model would be started)."""
    return not load_settings().embedded
