"""Context samplers for blueprint proposal, each drawn with a randomly varied size.

Deterministic for a given seed: the same seed gives the same tools, rules, records,
persona and examples.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from apigen_mt.environments import Environment
from apigen_mt.environments.scene import Scene
from apigen_mt.tools.api_graph import ApiGraph, build_api_graph

from .personas import PERSONAS


class SampledContext(BaseModel):
    user_id: str
    records: str
    tools: list[str]  # the walk: write tools and the reads that feed them
    target_writes: int = 1  # how many writes the walk was drawn around (1-4, varied)
    rules: list[str]  # "name: description"
    persona: str
    examples: list[str]  # JSON blueprints
    scene: Scene | None = None  # where the task starts (a domain with `sample_scene`)


TARGET_WRITES = (1, 2, 3, 4)  # varied across attempts: tasks of every size


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


def attempt_user(users: list[str], seed: int, attempt: int) -> str:
    """The pool user of an attempt, drawn on its own so a sharded run can tell which
    worker owns an attempt without sampling its context."""
    return random.Random(f"{seed}:{attempt}:user").choice(users)


def sample_context(
    env: Environment,
    graph: ApiGraph,
    pool: ExamplePool,
    rng: random.Random,
    users: list[str] | None = None,
    user: str | None = None,
) -> SampledContext:
    """A context for one attempt; its user is `user` when given, else one of `users` (a
    run's pool) when the domain can give a chosen user's records, else any user. A domain
    whose tasks start broken draws the attempt's scene first; the records are then the
    ones the scene leaves."""
    rules = env.domain.rules.rules
    n_rules = rng.randint(min(2, len(rules)), len(rules)) if rules else 0
    hooks = env.domain.tasks
    scene = hooks.sample_scene(env, rng) if hooks.sample_scene is not None else None
    with env.sandbox() as sandbox:
        if scene is not None:  # the records are what the task starts from
            scene.prepare(sandbox)
        if user is not None and hooks.records_for is not None:
            user_id = user
            records = hooks.records_for(sandbox.db, user_id)
        elif users and hooks.records_for is not None:
            user_id = rng.choice(users)
            records = hooks.records_for(sandbox.db, user_id)
        else:
            user_id, records = hooks.sample_records(sandbox.db, rng)
    target = rng.choice(TARGET_WRITES)
    persona = rng.choice(PERSONAS)
    return SampledContext(
        user_id=user_id,
        records=records,
        tools=graph.walk(rng, writes=target),
        target_writes=target,
        rules=[f"{r.name}: {r.description}" for r in rng.sample(rules, n_rules)],
        persona=scene.persona if scene is not None and scene.persona else persona,
        examples=pool.sample(rng, rng.randint(0, 2)),
        scene=scene,
    )


def user_pool(env: Environment, n: int, recombine_rate: float, seed: int) -> list[str] | None:
    """The users a run draws its attempts from, so that recombination finds parents.

    Drawn uniformly from hundreds of users, two accepted blueprints of one user are rare.
    With `recombine_rate` r > 0, n attempts share ceil(n / (1 + 4r)) users (r = 0.25: about
    two attempts per user; a user's attempts then have ~60% odds of coming in twos or more),
    picked once per run from the seed. r = 0, or a domain without `records_for`: None (any
    user, as before).
    """
    if recombine_rate <= 0 or env.domain.tasks.records_for is None:
        return None
    size = max(2, math.ceil(n / (1 + 4 * recombine_rate)))
    users: list[str] = []
    with env.sandbox() as sandbox:
        for i in range(20 * size):  # the hook draws with replacement: collect distinct ones
            if len(users) == size:
                break
            user_id, _ = env.domain.tasks.sample_records(
                sandbox.db, random.Random(f"{seed}:pool:{i}")
            )
            if user_id not in users:
                users.append(user_id)
    return users


def tool_schemas(env: Environment, names: list[str]) -> list[dict[str, Any]]:
    """The walk's tools first (the focus), then every other write tool (still allowed)."""
    tools = env.domain.tools
    ordered = list(dict.fromkeys(names + tools.write_names))
    return [tools[n].openai_schema() for n in ordered]


def id_choices_of(env: Environment, records: str) -> dict[str, list[str]]:
    """The ids the domain lets a task on `records` name, by argument; {} when the domain
    declares none or the records are not the JSON its hook reads."""
    hook = env.domain.tasks.id_choices
    if hook is None:
        return {}
    try:
        return {k: [str(v) for v in vs] for k, vs in hook(json.loads(records)).items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}
