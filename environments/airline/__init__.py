"""Airline: τ-bench's flight reservation desk (users, flights, reservations), with parity."""

from pathlib import Path

from apigen_mt.environments.registry import Domain, TaskHooks, register_domain
from apigen_mt.tools import ToolSet

from .data import generate
from .records import AirlineTaubench
from .rules import RULES
from .samples import id_choices, records_for, sample_calls, sample_records, seed_examples
from .schema import SCHEMA
from .tools import TOOLS

DOMAIN = register_domain(
    Domain(
        name="airline",
        description="Flight reservations: look up users, reservations and flights; book, "
        "change, cancel; bags, passengers and goodwill certificates.",
        schema=SCHEMA,
        tools=ToolSet.of(TOOLS),
        rules=RULES,
        generate=generate,
        policy_path=Path(__file__).with_name("policy.md"),
        data_version="2",
        taubench=AirlineTaubench(),
        taubench_files=("users", "flights", "reservations"),
        max_feedback_rounds=5,
        tasks=TaskHooks(
            sample_records=sample_records,
            records_for=records_for,
            id_choices=id_choices,
            sample_calls=sample_calls,
            seed_examples=seed_examples,
        ),
    )
)
