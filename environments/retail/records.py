"""Retail records in τ-bench's JSON shape, read from and written to our tables.

Tools and the τ-bench exporter share these readers, so an observation and an exported
record can never disagree.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import sqlite_utils

from .schema import ADDRESS_FIELDS, OPTIONAL_ORDER_FIELDS, SCHEMA


def _select(
    db: sqlite_utils.Database,
    table: str,
    where: str = "",
    params: tuple = (),
    order: str | None = None,
) -> list[dict[str, Any]]:
    t = SCHEMA[table]
    sql = f'SELECT * FROM "{table}"' + (f" WHERE {where}" if where else "")
    sql += f" ORDER BY {order or 'rowid'}"
    return [t.decode(r) for r in db.query(sql, params)]


def _in(column: str, ids: list[str] | None) -> tuple[str, tuple]:
    if ids is None:
        return "", ()
    return f"{column} IN ({', '.join('?' * len(ids))})", tuple(ids)


def address_of(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ADDRESS_FIELDS}


def load_users(db: sqlite_utils.Database, ids: list[str] | None = None) -> dict[str, dict]:
    where, params = _in("user_id", ids)
    users = _select(db, "users", where, params)
    methods: dict[str, dict] = defaultdict(dict)
    for pm in _select(db, "payment_methods", where, params, order="user_id, position"):
        record = {"source": pm["source"]}
        record.update({k: pm[k] for k in ("brand", "last_four", "balance") if pm[k] is not None})
        record["id"] = pm["payment_method_id"]
        methods[pm["user_id"]][pm["payment_method_id"]] = record
    orders: dict[str, list[str]] = defaultdict(list)
    for o in db.query(
        f"SELECT order_id, user_id FROM orders {'WHERE ' + where if where else ''}"
        " ORDER BY user_id, user_position",
        params,
    ):
        orders[o["user_id"]].append(o["order_id"])
    return {
        u["user_id"]: {
            "name": {"first_name": u["first_name"], "last_name": u["last_name"]},
            "address": address_of(u),
            "email": u["email"],
            "payment_methods": methods[u["user_id"]],
            "orders": orders[u["user_id"]],
        }
        for u in users
    }


def load_orders(db: sqlite_utils.Database, ids: list[str] | None = None) -> dict[str, dict]:
    where, params = _in("order_id", ids)
    children: dict[str, dict[str, list]] = {
        k: defaultdict(list) for k in ("order_items", "fulfillments", "payments")
    }
    for table, rows in children.items():
        for r in _select(db, table, where, params, order="order_id, position"):
            rows[r.pop("order_id")].append(r)
    out = {}
    for o in _select(db, "orders", where, params):
        oid = o["order_id"]
        record = {
            "order_id": oid,
            "user_id": o["user_id"],
            "address": address_of(o),
            "items": [
                {k: i[k] for k in ("name", "product_id", "item_id", "price", "options")}
                for i in children["order_items"][oid]
            ],
            "fulfillments": [
                {"tracking_id": f["tracking_ids"], "item_ids": f["item_ids"]}
                for f in children["fulfillments"][oid]
            ],
            "status": o["status"],
            "payment_history": [
                {k: p[k] for k in ("transaction_type", "amount", "payment_method_id")}
                for p in children["payments"][oid]
            ],
        }
        record.update({k: o[k] for k in OPTIONAL_ORDER_FIELDS if o[k] is not None})
        out[oid] = record
    return out


def load_products(db: sqlite_utils.Database, ids: list[str] | None = None) -> dict[str, dict]:
    where, params = _in("product_id", ids)
    variants: dict[str, dict] = defaultdict(dict)
    for v in _select(db, "variants", where, params, order="product_id, position"):
        variants[v["product_id"]][v["item_id"]] = {
            "item_id": v["item_id"],
            "options": v["options"],
            "available": v["available"],
            "price": v["price"],
        }
    return {
        p["product_id"]: {
            "name": p["name"],
            "product_id": p["product_id"],
            "variants": variants[p["product_id"]],
        }
        for p in _select(db, "products", where, params)
    }


def insert_users(db: sqlite_utils.Database, users: dict[str, dict]) -> None:
    SCHEMA.insert(
        db,
        "users",
        [
            {"user_id": uid, **u["name"], "email": u["email"], **u["address"]}
            for uid, u in users.items()
        ],
    )
    SCHEMA.insert(
        db,
        "payment_methods",
        [
            {
                "payment_method_id": pid,
                "user_id": uid,
                "position": i,
                "source": pm["source"],
                "brand": pm.get("brand"),
                "last_four": pm.get("last_four"),
                "balance": pm.get("balance"),
            }
            for uid, u in users.items()
            for i, (pid, pm) in enumerate(u["payment_methods"].items())
        ],
    )


def insert_orders(
    db: sqlite_utils.Database, orders: dict[str, dict], user_positions: dict[str, int]
) -> None:
    SCHEMA.insert(
        db,
        "orders",
        [
            {
                "order_id": oid,
                "user_id": o["user_id"],
                "user_position": user_positions.get(oid, 0),
                **o["address"],
                "status": o["status"],
                **{k: o[k] for k in OPTIONAL_ORDER_FIELDS if k in o},
            }
            for oid, o in orders.items()
        ],
    )
    SCHEMA.insert(
        db,
        "order_items",
        [
            {"order_id": oid, "position": i, **item}
            for oid, o in orders.items()
            for i, item in enumerate(o["items"])
        ],
    )
    SCHEMA.insert(
        db,
        "fulfillments",
        [
            {
                "order_id": oid,
                "position": i,
                "tracking_ids": f["tracking_id"],
                "item_ids": f["item_ids"],
            }
            for oid, o in orders.items()
            for i, f in enumerate(o["fulfillments"])
        ],
    )
    SCHEMA.insert(
        db,
        "payments",
        [
            {"order_id": oid, "position": i, **p}
            for oid, o in orders.items()
            for i, p in enumerate(o["payment_history"])
        ],
    )


def insert_products(db: sqlite_utils.Database, products: dict[str, dict]) -> None:
    SCHEMA.insert(
        db, "products", [{"product_id": pid, "name": p["name"]} for pid, p in products.items()]
    )
    SCHEMA.insert(
        db,
        "variants",
        [
            {
                "item_id": iid,
                "product_id": pid,
                "position": i,
                "options": v["options"],
                "available": v["available"],
                "price": v["price"],
            }
            for pid, p in products.items()
            for i, (iid, v) in enumerate(p["variants"].items())
        ],
    )


# -- writes (through db.execute only, so the executor's savepoint covers them) ---------------


def payment_methods_of(db: sqlite_utils.Database, user_id: str) -> dict[str, dict[str, Any]]:
    return load_users(db, [user_id])[user_id]["payment_methods"]


def set_balance(db: sqlite_utils.Database, payment_method_id: str, balance: Any) -> None:
    db.execute(
        "UPDATE payment_methods SET balance = ? WHERE payment_method_id = ?",
        [balance, payment_method_id],
    )


def add_payment(
    db: sqlite_utils.Database, order: dict, kind: str, amount: Any, method_id: str
) -> None:
    db.execute(
        "INSERT INTO payments (order_id, position, transaction_type, amount, "
        "payment_method_id) VALUES (?, ?, ?, ?, ?)",
        [order["order_id"], len(order["payment_history"]), kind, amount, method_id],
    )
    order["payment_history"].append(
        {"transaction_type": kind, "amount": amount, "payment_method_id": method_id}
    )


def set_order(db: sqlite_utils.Database, order: dict, **values: Any) -> None:
    table = SCHEMA["orders"]
    encoded = table.encode(values)
    cols = ", ".join(f'"{c}" = ?' for c in encoded)
    db.execute(
        f"UPDATE orders SET {cols} WHERE order_id = ?", [*encoded.values(), order["order_id"]]
    )
    order.update(values)


def set_user_address(db: sqlite_utils.Database, user_id: str, address: dict[str, Any]) -> None:
    db.execute(
        f"UPDATE users SET {', '.join(f'{k} = ?' for k in address)} WHERE user_id = ?",
        [*address.values(), user_id],
    )


def swap_item(
    db: sqlite_utils.Database, order: dict, item_id: str, new_item_id: str, variant: dict
) -> None:
    """The order's first item `item_id` becomes `new_item_id` at `variant`'s price and
    options, in the order record and its row."""
    position, item = next((p, i) for p, i in enumerate(order["items"]) if i["item_id"] == item_id)
    item.update(item_id=new_item_id, price=variant["price"], options=variant["options"])
    db.execute(
        "UPDATE order_items SET item_id = ?, price = ?, options = ? "
        "WHERE order_id = ? AND position = ?",
        [
            new_item_id,
            variant["price"],
            json.dumps(variant["options"]),
            order["order_id"],
            position,
        ],
    )


class RetailTaubench:
    """τ-bench JSON ⇄ retail tables."""

    def import_data(self, db: sqlite_utils.Database, data: dict[str, dict[str, Any]]) -> None:
        users, orders = data["users"], data["orders"]
        positions = {oid: i for u in users.values() for i, oid in enumerate(u["orders"])}
        insert_products(db, data["products"])
        insert_users(db, users)
        insert_orders(db, orders, positions)

    def export_data(self, db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
        return {"users": load_users(db), "orders": load_orders(db), "products": load_products(db)}
