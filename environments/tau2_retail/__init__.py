"""τ²-bench's retail (`tau2-retail`): τ²'s tools, error texts, observations and policy over
the v1 retail tables, with τ²'s `db.json` as data (`--data-dir` or `$TAU2_DATA_DIR`).

Policy: τ²-bench's `domains/retail/policy.md` (MIT, Copyright (c) 2025 Sierra Research),
kept byte for byte (tests compare it with τ²'s file). Without τ²'s data the domain runs on
the v1 generator's seeded database, so generation works offline.
"""

from pathlib import Path

from apigen_mt.environments.retail import DOMAIN as V1
from apigen_mt.environments.tau2.domain import tau2_domain

from .records import RetailTau2
from .tools import TOOLS

DOMAIN = tau2_domain(
    "tau2-retail",
    "τ²-bench's online store support (retail as τ²'s code behaves): users, orders and "
    "products; cancel, modify, return and exchange orders.",
    V1,
    TOOLS,
    RetailTau2(),
    Path(__file__).with_name("policy.md"),
)
