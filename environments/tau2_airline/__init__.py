"""τ²-bench's airline (`tau2-airline`): τ²'s tools, error texts, observations and policy over
the v1 airline tables, with τ²'s `db.json` as data (`--data-dir` or `$TAU2_DATA_DIR`).

Policy: τ²-bench's `domains/airline/policy.md` (MIT, Copyright (c) 2025 Sierra Research),
kept byte for byte (tests compare it with τ²'s file). Without τ²'s data the domain runs on
the v1 generator's seeded database, so generation works offline.
"""

from pathlib import Path

from apigen_mt.environments.airline import DOMAIN as V1
from apigen_mt.environments.registry import Domain, TaskHooks, register_domain
from apigen_mt.tools import ToolSet

from .records import AirlineTau2
from .tools import TOOLS

DOMAIN = register_domain(
    Domain(
        name="tau2-airline",
        description="τ²-bench's airline reservations (airline as τ²'s code behaves): book, "
        "change and cancel flights, bags, passengers and certificates.",
        schema=V1.schema,
        tools=ToolSet.of(TOOLS),
        rules=V1.rules,
        generate=V1.generate,
        policy_path=Path(__file__).with_name("policy.md"),
        data_version="1",
        tau2=AirlineTau2(),
        max_feedback_rounds=V1.max_feedback_rounds,
        tasks=TaskHooks(**{f: getattr(V1.tasks, f) for f in V1.tasks.__dataclass_fields__}),
    )
)
