"""Banking: a support desk that authenticates callers, then reads balances and
transactions, moves money, pays payees, manages cards and opens disputes."""

from pathlib import Path

from apigen_mt.environments.registry import Domain, TaskHooks, register_domain
from apigen_mt.tools import ToolSet

from .data import generate
from .rules import RULES
from .samples import id_choices, records_for, sample_calls, sample_records, seed_examples
from .schema import SCHEMA
from .tools import TOOLS

DOMAIN = register_domain(
    Domain(
        name="banking",
        description="Retail banking support: verify the caller, then balances, transactions, "
        "transfers, payees, cards and disputes.",
        schema=SCHEMA,
        tools=ToolSet.of(TOOLS),
        rules=RULES,
        generate=generate,
        policy_path=Path(__file__).with_name("policy.md"),
        data_version="1",
        max_feedback_rounds=3,
        tasks=TaskHooks(
            sample_records=sample_records,
            records_for=records_for,
            id_choices=id_choices,
            sample_calls=sample_calls,
            seed_examples=seed_examples,
        ),
    )
)
