"""A τ² domain: τ²'s tools and policy over a v1 domain's tables, rules and phase-1 hooks."""

from __future__ import annotations

from pathlib import Path

from apigen_mt.tools import Tool, ToolSet

from ..registry import Domain, TaskHooks, register_domain


def tau2_domain(
    name: str, description: str, v1: Domain, tools: list[Tool], adapter, policy_path: Path
) -> Domain:
    """Registered as `name`: the v1 domain's schema, rules, generator (so it runs offline
    on seeded data) and phase-1 hooks; τ²'s tools, policy and db.json adapter."""
    return register_domain(
        Domain(
            name=name,
            description=description,
            schema=v1.schema,
            tools=ToolSet.of(tools),
            rules=v1.rules,
            generate=v1.generate,
            policy_path=policy_path,
            data_version="1",
            tau2=adapter,
            max_feedback_rounds=v1.max_feedback_rounds,
            tasks=TaskHooks(**{f: getattr(v1.tasks, f) for f in v1.tasks.__dataclass_fields__}),
        )
    )
