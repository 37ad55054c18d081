"""A tiny domain, added from outside the package exactly as the README describes."""

import json
import random
from pathlib import Path
from typing import Annotated

from pydantic import Field

from apigen_mt.environments.registry import Domain, TaskHooks, register_domain
from apigen_mt.environments.rules import RuleSet
from apigen_mt.environments.schema import Schema, Table
from apigen_mt.tools import ToolError, ToolSet, tool

SCHEMA = Schema(
    tables=(
        Table("customers", {"customer_id": "text", "name": "text"}, pk=("customer_id",)),
        Table(
            "items",
            {"item_id": "text", "customer_id": "text", "status": "text"},
            pk=("item_id",),
        ),
    )
)
ItemId = Annotated[str, Field(description="The item id, such as 'it_3'.")]


@tool()
def get_items(db, customer_id: Annotated[str, Field(description="Customer id.")]) -> list:
    """The customer's items and their status."""
    rows = db.execute("SELECT item_id, status FROM items WHERE customer_id = ?", [customer_id])
    return [{"item_id": i, "status": s} for i, s in rows]


@tool(writes=True)
def return_item(db, item_id: ItemId) -> dict:
    """Return a delivered item."""
    row = db.execute("SELECT status FROM items WHERE item_id = ?", [item_id]).fetchone()
    if row is None:
        raise ToolError("item not found")
    if row[0] != "delivered":
        raise ToolError("only delivered items can be returned")
    db.execute("UPDATE items SET status = 'returned' WHERE item_id = ?", [item_id])
    return {"item_id": item_id, "status": "returned"}


RULES = RuleSet()


@RULES.rule("own_items_only", tools=["return_item"])
def own_items_only(ctx):
    """Customers return only their own items."""
    row = ctx.db.execute(
        "SELECT customer_id FROM items WHERE item_id = ?", [ctx.args["item_id"]]
    ).fetchone()
    return f"item of {row[0]}" if row and ctx.user_id and row[0] != ctx.user_id else None


def generate(db, seed: int) -> None:
    rng = random.Random(seed)
    SCHEMA.insert(db, "customers", [{"customer_id": f"c{i}", "name": f"C {i}"} for i in range(5)])
    SCHEMA.insert(
        db,
        "items",
        [
            {
                "item_id": f"it_{i}",
                "customer_id": f"c{i % 5}",
                "status": rng.choice(["delivered", "pending"]),
            }
            for i in range(20)
        ],
    )


def sample_records(db, rng):
    customer = rng.choice([r[0] for r in db.execute("SELECT customer_id FROM customers")])
    items = dict(db.execute("SELECT item_id, status FROM items WHERE customer_id = ?", [customer]))
    return customer, json.dumps({"user_id": customer, "items": items})


DOMAIN = register_domain(
    Domain(
        name="tinyshop",
        description="Return delivered items.",
        schema=SCHEMA,
        tools=ToolSet.of([get_items, return_item]),
        rules=RULES,
        generate=generate,
        policy_path=Path(__file__).with_name("policy.md"),
        tasks=TaskHooks(
            sample_records=sample_records,
            sample_calls=lambda db: [{"name": "get_items", "arguments": {"customer_id": "c0"}}],
            seed_examples=lambda db: [],
        ),
    ),
    replace=True,
)
