"""τ²'s retail records over the v1 tables: the same rows, shown as τ²'s pydantic models dump
them (every optional order field, nulls kept; `user_id` inside each user)."""

from __future__ import annotations

from typing import Any, ClassVar

import sqlite_utils

from apigen_mt.environments.retail.records import (
    RetailTaubench,
    load_orders,
    load_products,
    load_users,
)
from apigen_mt.environments.retail.schema import OPTIONAL_ORDER_FIELDS
from apigen_mt.environments.tau2.data import as_float


def orders(db: sqlite_utils.Database, ids: list[str] | None = None) -> dict[str, dict]:
    return {
        oid: {**o, **{k: o.get(k) for k in OPTIONAL_ORDER_FIELDS}}
        for oid, o in load_orders(db, ids).items()
    }


def users(db: sqlite_utils.Database, ids: list[str] | None = None) -> dict[str, dict]:
    return {uid: {"user_id": uid, **u} for uid, u in load_users(db, ids).items()}


class RetailTau2:
    """τ²'s retail `db.json` <-> the retail tables."""

    tau2_name = "retail"
    # which records a written row belongs to (environments/tau2/hashing.py)
    RECORD_OF: ClassVar[dict[str, tuple[tuple[str, str], ...]]] = {
        "users": (("users", "user_id"),),
        "payment_methods": (("users", "user_id"),),
        "products": (("products", "product_id"),),
        "variants": (("products", "product_id"),),
        "orders": (("orders", "order_id"), ("users", "user_id")),  # a user lists its orders
        "order_items": (("orders", "order_id"),),
        "payments": (("orders", "order_id"),),
        "fulfillments": (("orders", "order_id"),),
    }

    def import_db(self, db: sqlite_utils.Database, data: dict[str, Any]) -> None:
        # τ²'s models make these floats on load (Variant.price, OrderItem.price,
        # OrderPayment.amount, GiftCard.balance, Order.exchange_price_difference).
        products = {
            pid: {
                **p,
                "variants": {
                    vid: {**v, "price": as_float(v["price"])} for vid, v in p["variants"].items()
                },
            }
            for pid, p in data["products"].items()
        }
        users_ = {
            uid: {
                **{k: v for k, v in u.items() if k != "user_id"},
                "payment_methods": {
                    mid: {**m, **({"balance": as_float(m["balance"])} if "balance" in m else {})}
                    for mid, m in u["payment_methods"].items()
                },
            }
            for uid, u in data["users"].items()
        }
        orders_ = {}
        for oid, o in data["orders"].items():
            o = {k: v for k, v in o.items() if v is not None or k not in OPTIONAL_ORDER_FIELDS}
            o["items"] = [{**i, "price": as_float(i["price"])} for i in o["items"]]
            o["payment_history"] = [
                {**p, "amount": as_float(p["amount"])} for p in o["payment_history"]
            ]
            if "exchange_price_difference" in o:
                o["exchange_price_difference"] = as_float(o["exchange_price_difference"])
            orders_[oid] = o
        RetailTaubench().import_data(db, {"products": products, "users": users_, "orders": orders_})

    def export_db(self, db: sqlite_utils.Database) -> dict[str, Any]:
        return {"products": load_products(db), "users": users(db), "orders": orders(db)}

    def export_records(self, db, collection: str, ids: list[str]) -> dict[str, Any]:
        read = {"products": load_products, "users": users, "orders": orders}[collection]
        return read(db, ids)
