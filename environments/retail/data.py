"""A seeded, deterministic retail database at τ-bench's scale, from our own catalog."""

from __future__ import annotations

import itertools
import random

import sqlite_utils

from .catalog import CARD_BRANDS, CITIES, FIRST_NAMES, LAST_NAMES, PRODUCTS, STREETS
from .records import RetailTaubench

N_USERS, N_ORDERS = 500, 1000
STATUS_WEIGHTS = {"pending": 42, "processed": 10, "delivered": 38, "cancelled": 10}


def generate(db: sqlite_utils.Database, seed: int) -> None:
    """Fill an empty retail database; the same seed always gives the same rows."""
    RetailTaubench().import_data(db, generate_json(seed))


def generate_json(seed: int) -> dict[str, dict]:
    rng = random.Random(seed)
    products = _products(rng)
    users = _users(rng)
    orders = _orders(rng, users, products)
    return {"products": products, "users": users, "orders": orders}


def _digits(rng: random.Random, n: int, used: set[str]) -> str:
    while True:
        value = str(rng.randrange(10 ** (n - 1), 10**n))
        if value not in used:
            used.add(value)
            return value


def _products(rng: random.Random) -> dict[str, dict]:
    used: set[str] = set()
    out = {}
    for name, (low, high, axes) in PRODUCTS.items():
        combos = list(itertools.product(*axes.values()))
        rng.shuffle(combos)
        variants = {}
        for combo in combos[: rng.randint(min(6, len(combos)), min(20, len(combos)))]:
            item_id = _digits(rng, 10, used)
            variants[item_id] = {
                "item_id": item_id,
                "options": dict(zip(axes, combo, strict=True)),
                "available": rng.random() < 0.85,
                "price": round(rng.uniform(low, high), 2),
            }
        product_id = _digits(rng, 10, used)
        out[product_id] = {"name": name, "product_id": product_id, "variants": variants}
    return out


def _address(rng: random.Random) -> dict[str, str]:
    city, state, prefix = rng.choice(CITIES)
    return {
        "address1": f"{rng.randint(10, 9999)} {rng.choice(STREETS)}",
        "address2": f"Suite {rng.randint(100, 999)}" if rng.random() < 0.6 else "",
        "city": city,
        "country": "USA",
        "state": state,
        "zip": f"{prefix}{rng.randint(0, 99):02d}",
    }


def _users(rng: random.Random) -> dict[str, dict]:
    used: set[str] = set()
    users = {}
    while len(users) < N_USERS:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        user_id = f"{first.lower()}_{last.lower()}_{rng.randint(1000, 9999)}"
        if user_id in users:
            continue
        methods = {}
        for source in rng.sample(["credit_card", "paypal", "gift_card"], rng.randint(1, 3)):
            pid = f"{source}_{_digits(rng, 7, used)}"
            method = {"source": source}
            if source == "credit_card":
                method |= {
                    "brand": rng.choice(CARD_BRANDS),
                    "last_four": f"{rng.randint(0, 9999):04d}",
                }
            if source == "gift_card":
                method["balance"] = rng.randint(0, 250)  # whole dollars, as τ-bench's data
            methods[pid] = {**method, "id": pid}
        users[user_id] = {
            "name": {"first_name": first, "last_name": last},
            "address": _address(rng),
            "email": f"{first.lower()}.{last.lower()}{rng.randint(100, 9999)}@example.com",
            "payment_methods": methods,
            "orders": [],
        }
    return users


def _orders(
    rng: random.Random, users: dict[str, dict], products: dict[str, dict]
) -> dict[str, dict]:
    used: set[str] = set()
    variants = [(p, v) for p in products.values() for v in p["variants"].values()]
    user_ids = list(users)
    statuses, weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    orders = {}
    for n in range(N_ORDERS):
        user_id = user_ids[n] if n < len(user_ids) else rng.choice(user_ids)  # everyone buys
        user = users[user_id]
        order_id = f"#W{_digits(rng, 7, used)}"
        items = [
            {
                "name": p["name"],
                "product_id": p["product_id"],
                "item_id": v["item_id"],
                "price": v["price"],
                "options": dict(v["options"]),
            }
            for p, v in rng.sample(variants, rng.randint(1, 5))
        ]
        status = rng.choices(statuses, weights)[0]
        total = round(sum(i["price"] for i in items), 2)
        method = rng.choice(list(user["payment_methods"]))
        history = [{"transaction_type": "payment", "amount": total, "payment_method_id": method}]
        if status == "cancelled":
            history.append(
                {"transaction_type": "refund", "amount": total, "payment_method_id": method}
            )
        shipped = status in ("processed", "delivered")
        orders[order_id] = {
            "order_id": order_id,
            "user_id": user_id,
            "address": dict(user["address"]) if rng.random() < 0.9 else _address(rng),
            "items": items,
            "fulfillments": [
                {"tracking_id": [_digits(rng, 12, used)], "item_ids": [i["item_id"] for i in items]}
            ]
            if shipped
            else [],
            "status": status,
            "payment_history": history,
        }
        user["orders"].append(order_id)
    return orders
