"""What a worker needs to run one shard's batch: plain JSON, so it crosses process and
machine boundaries (a subprocess's stdin, a Ray task's argument)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from apigen_mt.settings import ModelSettings


class ShardSpec(BaseModel):
    run_id: str
    config: dict[str, Any]  # the run's PipelineConfig (concurrency: this worker's share)
    index: int
    count: int
    first: int  # the batch's first attempt; the batch is config["n"] attempts
    store_path: str  # the worker's working store (a local path on the worker)
    settings: dict[str, Any]  # ModelSettings, API keys removed (workers read their own env)

    def model_settings(self) -> ModelSettings:
        """The driver's settings with this worker's own API keys filled in."""
        from apigen_mt.settings import load_settings

        own = load_settings()
        settings = ModelSettings.model_validate(self.settings)
        roles = {
            role: s if s.api_key else s.model_copy(update={"api_key": own.for_role(role).api_key})
            for role, s in settings.roles.items()
        }
        return settings.model_copy(update={"roles": roles})


def shareable_settings(settings: ModelSettings) -> dict[str, Any]:
    """Settings to send to workers: keys stay on the machines that have them, except the
    embedded model's placeholder."""
    roles = {
        role: s.model_copy(update={"api_key": s.api_key if s.api_key == "local" else None})
        for role, s in settings.roles.items()
    }
    return settings.model_copy(update={"roles": roles}).model_dump()


def split_concurrency(total: int, count: int) -> list[int]:
    """`total` calls in flight shared by `count` workers (each at least one)."""
    base, extra = divmod(total, count)
    return [max(1, base + (i < extra)) for i in range(count)]
