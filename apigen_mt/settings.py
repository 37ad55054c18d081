"""Model settings per LLM role, from environment variables and CLI flags.

Resolution for each field of a role, first match wins:
  1. an explicit override (CLI flag)          e.g. --proposer-model
  2. APIGEN_MT_<ROLE>_<FIELD>                  e.g. APIGEN_MT_PROPOSER_MODEL
  3. APIGEN_MT_<FIELD>                         e.g. APIGEN_MT_MODEL
  4. OPENAI_API_KEY / OPENAI_BASE_URL          (api key and base URL only)
  5. the default below
With no base URL and no API key anywhere, roles use the embedded local model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

ROLES = (
    "proposer", "reviewer", "feedback", "recombiner", "human", "human_judge", "assistant",
    "nl_judge",
)  # fmt: skip
Role = Literal[
    "proposer", "reviewer", "feedback", "recombiner", "human", "human_judge", "assistant",
    "nl_judge",
]  # fmt: skip
StructuredMode = Literal["json_schema", "json_object"]
PREFIX = "APIGEN_MT_"
EMBEDDED_MAX_TOKENS = 512
EMBEDDED_TIMEOUT = 900.0


class RoleSettings(BaseModel):
    """How one role reaches its model."""

    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = None
    temperature: float = Field(0.7, ge=0, le=2)
    max_tokens: int | None = Field(None, gt=0)
    timeout: float = Field(60.0, gt=0)
    max_retries: int = Field(3, ge=0)
    requests_per_second: float | None = Field(None, gt=0)  # per endpoint, shared by its roles
    structured_mode: StructuredMode = "json_schema"
    # `strict: true` with json_schema response formats (OpenAI enforces the schema; vLLM and
    # SGLang enforce it by grammar anyway). False for a server that refuses the flag.
    strict_schema: bool = True

    @property
    def endpoint(self) -> str:
        return self.base_url or "https://api.openai.com/v1"


class ModelSettings(BaseModel):
    roles: dict[str, RoleSettings]
    reviewer_models: list[str] = Field(default_factory=list)  # diverse committee judges
    cache_path: str | None = None  # opt-in SQLite response cache
    embedded: bool = False  # True when no endpoint was configured

    def for_role(self, role: str) -> RoleSettings:
        if role not in self.roles:
            raise KeyError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        return self.roles[role]

    def committee(self, size: int) -> list[RoleSettings]:
        """Settings for `size` judges, cycling through the named reviewer models."""
        base = self.for_role("reviewer")
        names = self.reviewer_models or [base.model]
        return [base.model_copy(update={"model": names[i % len(names)]}) for i in range(size)]


_FIELDS = tuple(RoleSettings.model_fields)
# Judging roles sample at temperature 0: a verdict should not depend on the draw, and the
# committee's diversity comes from its models. The general APIGEN_MT_TEMPERATURE tunes the
# roles that generate (proposer, feedback, recombiner, human, assistant); a judging role's
# own variable (APIGEN_MT_REVIEWER_TEMPERATURE, APIGEN_MT_HUMAN_JUDGE_TEMPERATURE,
# APIGEN_MT_NL_JUDGE_TEMPERATURE) still sets it. nl_judge grades τ²'s NL assertions.
JUDGING_ROLES = ("reviewer", "human_judge", "nl_judge")


def load_settings(
    env: Mapping[str, str] | None = None, overrides: Mapping[str, object] | None = None
) -> ModelSettings:
    """Settings for every role. `overrides` keys are `field` or `<role>_<field>`.

    Raises ValueError naming the variable when a value does not parse.
    """
    env = os.environ if env is None else env
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    roles = {}
    for role in ROLES:
        values: dict[str, object] = {"temperature": 0.0} if role in JUDGING_ROLES else {}
        for field in _FIELDS:
            own_only = field == "temperature" and role in JUDGING_ROLES
            for key, source in (
                (f"{role}_{field}", overrides),
                (field, overrides),
                (f"{PREFIX}{role}_{field}".upper(), env),
                (f"{PREFIX}{field}".upper(), env),
            ):
                if own_only and not key.lower().removeprefix(PREFIX.lower()).startswith(role):
                    continue
                if key in source and source[key] not in ("", None):
                    values[field] = source[key]
                    break
        values.setdefault("api_key", env.get("OPENAI_API_KEY") or None)
        values.setdefault("base_url", env.get("OPENAI_BASE_URL") or None)
        try:
            roles[role] = RoleSettings.model_validate(values)
        except ValidationError as exc:
            raise ValueError(f"invalid model settings for role {role!r}: {exc}") from None
    judges = overrides.get("reviewer_models") or env.get(f"{PREFIX}REVIEWER_MODELS", "")
    if isinstance(judges, str):
        judges = [m.strip() for m in judges.split(",") if m.strip()]
    embedded = all(r.base_url is None and r.api_key is None for r in roles.values())
    return ModelSettings(
        roles=roles,
        reviewer_models=list(judges),
        cache_path=str(overrides.get("cache_path") or env.get(f"{PREFIX}CACHE_RESPONSES") or "")
        or None,
        embedded=embedded,
    )


def pointed_at(
    settings: ModelSettings, base_url: str, model: str, tools_url: str | None = None
) -> ModelSettings:
    """Every role sent to the embedded model; the assistant to `tools_url` when given."""
    local = {
        role: s.model_copy(
            update={
                "base_url": tools_url if role == "assistant" and tools_url else base_url,
                "api_key": "local",
                "model": model,
                "structured_mode": "json_object",
                # A 135M model can ramble to the end of its context; cap every answer.
                "max_tokens": s.max_tokens or EMBEDDED_MAX_TOKENS,
                # CPU prompt evaluation is slow (~200 tokens/s on 2 cores); a retry after a
                # timeout would only queue the same work again on the one-request server.
                "timeout": max(s.timeout, EMBEDDED_TIMEOUT),
                "max_retries": min(s.max_retries, 1),
            }
        )
        for role, s in settings.roles.items()
    }
    return settings.model_copy(update={"roles": local, "reviewer_models": [], "embedded": True})
