"""Context samplers for blueprint proposal, each drawn with a randomly varied size.

Deterministic for a given seed: the same seed gives the same tools, rules, records,
persona and examples.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from apigen_mt.environments import Environment
from apigen_mt.tools.api_graph import ApiGraph, build_api_graph

from .personas import PERSONAS


class SampledContext(BaseModel):
    user_id: str
    records: str
    tools: list[str]  # the walk: write tools and the reads that feed them
    rules: list[str]  # "name: description"
    persona: str
    examples: list[str]  # JSON blueprints


@dataclass
class ExamplePool:
    """Few-shot examples: the domain's seeds, plus every blueprint validated so far."""

    seeds: list[str]
    validated: list[str] = field(default_factory=list)

    def add(self, blueprint_json: str) -> None:
        self.validated.append(blueprint_json)

    def sample(self, rng: random.Random, k: int) -> list[str]:
        pool = self.seeds + self.validated
        return rng.sample(pool, k=min(k, len(pool)))


def api_graph_of(env: Environment) -> ApiGraph:
    hooks = env.domain.tasks
    with env.sandbox() as sandbox:
        samples = {
            c["name"]: sandbox.call(c["name"], c["arguments"]).observation
            for c in hooks.sample_calls(sandbox.db)
        }
    return build_api_graph(env.domain.tools, samples, hooks.api_graph_add, hooks.api_graph_remove)


def example_pool_of(env: Environment) -> ExamplePool:
    with env.sandbox() as sandbox:
        return ExamplePool(
            seeds=[json.dumps(e) for e in env.domain.tasks.seed_examples(sandbox.db)]
        )


def sample_context(
    env: Environment, graph: ApiGraph, pool: ExamplePool, rng: random.Random
) -> SampledContext:
    rules = env.domain.rules.rules
    n_rules = rng.randint(min(2, len(rules)), len(rules)) if rules else 0
    with env.sandbox() as sandbox:
        user_id, records = env.domain.tasks.sample_records(sandbox.db, rng)
    return SampledContext(
        user_id=user_id,
        records=records,
        tools=graph.walk(rng),
        rules=[f"{r.name}: {r.description}" for r in rng.sample(rules, n_rules)],
        persona=rng.choice(PERSONAS),
        examples=pool.sample(rng, rng.randint(0, 2)),
    )


def tool_schemas(env: Environment, names: list[str]) -> list[dict[str, Any]]:
    """The walk's tools first (the focus), then every other write tool (still allowed)."""
    tools = env.domain.tools
    ordered = list(dict.fromkeys(names + tools.write_names))
    return [tools[n].openai_schema() for n in ordered]
