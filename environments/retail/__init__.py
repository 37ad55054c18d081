"""Retail: τ-bench's online store (users, orders, products), with τ-bench parity."""

from pathlib import Path

from apigen_mt.environments.registry import Domain, TaskHooks, register_domain
from apigen_mt.tools import ToolSet

from .data import generate
from .records import RetailTaubench
from .rules import RULES
from .samples import (
    API_GRAPH_ADD,
    API_GRAPH_REMOVE,
    id_choices,
    records_for,
    sample_calls,
    sample_records,
    seed_examples,
)
from .schema import SCHEMA
from .tools import TOOLS

DOMAIN = register_domain(
    Domain(
        name="retail",
        description="Online store support: look up users and orders; cancel, modify, return "
        "and exchange orders; update addresses and payment methods.",
        schema=SCHEMA,
        tools=ToolSet.of(TOOLS),
        rules=RULES,
        generate=generate,
        policy_path=Path(__file__).with_name("policy.md"),
        data_version="1",
        taubench=RetailTaubench(),
        taubench_files=("users", "orders", "products"),
        max_feedback_rounds=3,
        tasks=TaskHooks(
            sample_records=sample_records,
            records_for=records_for,
            id_choices=id_choices,
            sample_calls=sample_calls,
            seed_examples=seed_examples,
            api_graph_add=API_GRAPH_ADD,
            api_graph_remove=API_GRAPH_REMOVE,
        ),
    )
)
