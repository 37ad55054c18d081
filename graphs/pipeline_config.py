"""What a run is asked to do. Stored with the run, so a resume uses the same settings."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator, model_validator

from apigen_mt.environments import domain_key

# Settings that change how fast a run goes, not what it produces.
NOT_IDENTITY = {"concurrency"}


class PipelineConfig(BaseModel):
    domain: str
    n: int = Field(10, ge=1, description="phase-1 attempts (context samples) per batch")
    seed: int = 0
    data_seed: int = 0  # the generated domain database's seed
    data_dir: str | None = None  # τ-bench-format data instead of generated data
    # A world's database, by content (its cache copy's name): a resume on a changed file
    # is refused rather than mixing two states in one run.
    world_database: str | None = None
    recombine_rate: float = Field(
        0.25, ge=0, le=1, description="recombinations per accepted proposed blueprint"
    )
    trials: int = Field(3, ge=1, le=20, description="dialogues per accepted blueprint")
    # `--audit k`: k solver dialogues per accepted blueprint first; a flagged task's
    # blueprint is `audit_failed` (graphs/audit_gate.py). 0: no audit.
    # `--request-judge`: the human_judge model asks, every user turn, whether the user
    # wants something its instruction does not contain (a flag; a call per turn)
    request_judge: bool = False
    audit: int = Field(0, ge=0, le=20, description="solver dialogues per accepted blueprint")
    target: int | None = Field(None, ge=1, description="keep going until this many trajectories")
    max_attempts: int | None = Field(None, ge=1, description="attempt budget with --target")
    concurrency: int = Field(16, ge=1, le=4096, description="LLM calls in flight, in all")
    committee_size: int = Field(3, ge=1, le=15)
    threshold: int = Field(3, ge=0, le=4)
    max_rounds: int | None = Field(None, ge=1, le=20)
    best_of_n: int = Field(4, ge=1, le=16)
    max_steps: int = Field(30, ge=1, le=400)  # agent actions per dialogue, as τ-bench counts
    # Workers the run is split across (apigen_mt.scale); part of what a run is, since the
    # split decides which worker store holds which attempt.
    shards: int = Field(1, ge=1, le=1024, description="worker shards (--workers)")
    # Every role played by the scripted oracle (`apigen-mt demo`), not a model: said
    # wherever the run is shown.
    scripted: bool = False

    @field_validator("domain")
    @classmethod
    def _world_by_path(cls, value: str) -> str:
        return domain_key(value)  # a world folder is stored as its absolute path

    @model_validator(mode="after")
    def _budget_needs_target(self) -> PipelineConfig:
        if self.max_attempts is not None and self.target is None:
            raise ValueError("--max-attempts is the budget of --target; give --target too")
        return self

    @property
    def attempt_budget(self) -> int:
        """Attempts the run may make: n, or with a target up to max_attempts (10 x n)."""
        if self.target is None:
            return self.n
        return self.max_attempts or 10 * self.n

    def identity(self) -> dict:
        """The settings that define what the run produces (resume must match them)."""
        return self.model_dump(exclude=NOT_IDENTITY)
