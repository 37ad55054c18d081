"""Retail hooks for task proposal: record sampling, API-graph samples, seed examples."""

from __future__ import annotations

import json
import random
from typing import Any

import sqlite_utils

from .records import load_orders, load_products, load_users


def sample_records(db: sqlite_utils.Database, rng: random.Random) -> tuple[str, str]:
    """A random user with their profile, orders and the variants of the products they own."""
    ids = [r[0] for r in db.execute("SELECT user_id FROM users ORDER BY rowid")]
    user_id = rng.choice(ids)
    return user_id, records_for(db, user_id)


def records_for(db: sqlite_utils.Database, user_id: str) -> str:
    """The records of one user, as `sample_records` gives them."""
    user = load_users(db, [user_id])[user_id]
    orders = load_orders(db, user["orders"])
    product_ids = sorted({i["product_id"] for o in orders.values() for i in o["items"]})
    products = load_products(db, product_ids)
    variants = {
        p["name"]: [
            {"item_id": v["item_id"], "options": v["options"], "price": v["price"]}
            for v in p["variants"].values()
            if v["available"]
        ][:6]
        for p in products.values()
    }
    return json.dumps(
        {"user_id": user_id, "user": user, "orders": orders, "available_variants": variants}
    )


def id_choices(records: dict[str, Any]) -> dict[str, list[str]]:
    """The ids a task on these records can name: the user's own, and listed variants."""
    user, orders = records["user"], records["orders"]
    items = [i for o in orders.values() for i in o["items"]]
    variants = [v["item_id"] for vs in records["available_variants"].values() for v in vs]
    return {
        "user_id": [records["user_id"]],
        "order_id": list(orders),
        "payment_method_id": list(user["payment_methods"]),
        "item_ids": [i["item_id"] for i in items],
        "new_item_ids": variants + [i["item_id"] for i in items],
        "product_id": [i["product_id"] for i in items],
    }


def sample_calls(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    order_id, user_id = db.execute(
        "SELECT order_id, user_id FROM orders ORDER BY rowid LIMIT 1"
    ).fetchone()
    product_id = db.execute("SELECT product_id FROM products ORDER BY rowid LIMIT 1").fetchone()[0]
    return [
        {"name": "get_user_details", "arguments": {"user_id": user_id}},
        {"name": "get_order_details", "arguments": {"order_id": order_id}},
        {"name": "get_product_details", "arguments": {"product_id": product_id}},
        {"name": "list_all_product_types", "arguments": {}},
    ]


def seed_examples(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Two hand-written blueprints on this database's own records."""
    pending = db.execute(
        "SELECT o.order_id, o.user_id FROM orders o WHERE status = 'pending' ORDER BY rowid LIMIT 1"
    ).fetchone()
    delivered = db.execute(
        "SELECT o.order_id, o.user_id, p.payment_method_id FROM orders o "
        "JOIN payments p ON p.order_id = o.order_id AND p.position = 0 "
        "WHERE status = 'delivered' ORDER BY o.rowid LIMIT 1"
    ).fetchone()
    item = db.execute(
        "SELECT item_id, name FROM order_items WHERE order_id = ? ORDER BY position LIMIT 1",
        [delivered[0]],
    ).fetchone()
    # The policy has the agent identify the customer by email, or name and zip: the
    # instruction gives the user what they will be asked, never their internal user id.
    email = db.execute("SELECT email FROM users WHERE user_id = ?", [pending[1]]).fetchone()[0]
    first, last, zip_code = db.execute(
        "SELECT first_name, last_name, zip FROM users WHERE user_id = ?", [delivered[1]]
    ).fetchone()
    return [
        {
            "reasoning": "A pending order can be cancelled; the reason is one of two.",
            "user_id": pending[1],
            "instruction": f"Your email is {email}. You ordered something by mistake and want "
            f"order {pending[0]} cancelled. If asked why, say you ordered it by mistake.",
            "actions": [
                {
                    "name": "cancel_pending_order",
                    "arguments": {"order_id": pending[0], "reason": "ordered by mistake"},
                }
            ],
            "outputs": [],
        },
        {
            "reasoning": "A delivered order can be returned to its original payment method.",
            "user_id": delivered[1],
            "instruction": f"You are {first} {last}, zip code {zip_code}; you do not remember "
            f"your email. The {item[1]} from order {delivered[0]} is not what you expected; "
            "return it and get the refund to the card you paid with.",
            "actions": [
                {
                    "name": "return_delivered_order_items",
                    "arguments": {
                        "order_id": delivered[0],
                        "item_ids": [item[0]],
                        "payment_method_id": delivered[2],
                    },
                }
            ],
            "outputs": [],
        },
    ]


# find_user_id_* return a bare user id string, which field inference cannot see.
API_GRAPH_ADD = (
    ("find_user_id_by_email", "get_user_details"),
    ("find_user_id_by_name_zip", "get_user_details"),
    ("find_user_id_by_email", "modify_user_address"),
    ("find_user_id_by_name_zip", "modify_user_address"),
)
# After a cancellation, nothing else can be done to that order.
API_GRAPH_REMOVE = tuple(
    ("cancel_pending_order", t)
    for t in (
        "modify_pending_order_items",
        "modify_pending_order_address",
        "modify_pending_order_payment",
        "exchange_delivered_order_items",
        "return_delivered_order_items",
    )
)
