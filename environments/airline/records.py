"""Airline records in τ-bench's JSON shape, read from and written to our tables.

Tools and the τ-bench exporter share these functions, so an observation and an exported
record can never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlite_utils

from .schema import ADDRESS_FIELDS, SCHEMA

RESERVATION_FIELDS = (
    "reservation_id",
    "user_id",
    "origin",
    "destination",
    "flight_type",
    "cabin",
    "flights",
    "passengers",
    "payment_history",
    "created_at",
    "total_baggages",
    "nonfree_baggages",
    "insurance",
)


def _rows(db, table: str, where: str = "", params=(), order: str = "rowid") -> list[dict]:
    t = SCHEMA[table]
    sql = f'SELECT * FROM "{table}"' + (f" WHERE {where}" if where else "") + f" ORDER BY {order}"
    return [t.decode(r) for r in db.query(sql, params)]


def payment_methods(db, user_id: str) -> dict[str, dict[str, Any]]:
    out = {}
    for pm in _rows(db, "payment_methods", "user_id = ?", (user_id,), "position"):
        record: dict[str, Any] = {"source": pm["source"]}
        record.update({k: pm[k] for k in ("brand", "last_four", "amount") if pm[k] is not None})
        record["id"] = pm["payment_method_id"]
        out[pm["payment_method_id"]] = record
    return out


def user(db, user_id: str) -> dict[str, Any] | None:
    rows = _rows(db, "users", "user_id = ?", (user_id,))
    return _user(rows[0], payment_methods(db, user_id)) if rows else None


def _user(u: dict[str, Any], methods: dict[str, dict]) -> dict[str, Any]:
    return {
        "name": {"first_name": u["first_name"], "last_name": u["last_name"]},
        "address": {k: u[k] for k in ADDRESS_FIELDS},
        "email": u["email"],
        "dob": u["dob"],
        "payment_methods": methods,
        "saved_passengers": u["saved_passengers"],
        "membership": u["membership"],
        "reservations": u["reservations"],
    }


def reservation(db, reservation_id: str) -> dict[str, Any] | None:
    rows = _rows(db, "reservations", "reservation_id = ?", (reservation_id,))
    return _reservation(rows[0]) if rows else None


def _reservation(r: dict[str, Any]) -> dict[str, Any]:
    record = {k: r[k] for k in RESERVATION_FIELDS}
    if r["status"] is not None:
        record["status"] = r["status"]
    return record


def flight(db, flight_number: str) -> dict[str, Any] | None:
    rows = _rows(db, "flights", "flight_number = ?", (flight_number,))
    return rows[0] if rows else None


def flights_where(db, where: str, params: tuple) -> list[dict[str, Any]]:
    """Flights (without dates) in τ-bench's order, the order of flights.json."""
    return _rows(db, "flights", where, params)


def flight_date(db, flight_number: str, date: str) -> dict[str, Any] | None:
    rows = _rows(db, "flight_dates", "flight_number = ? AND date = ?", (flight_number, date))
    return {"status": rows[0]["status"], **rows[0]["details"]} if rows else None


def all_flights(db) -> list[dict[str, Any]]:
    """Every flight with its dates, in τ-bench's order (the order of flights.json)."""
    dates: dict[str, dict[str, dict]] = defaultdict(dict)
    for d in _rows(db, "flight_dates"):
        dates[d["flight_number"]][d["date"]] = {"status": d["status"], **d["details"]}
    return [{**f, "dates": dates[f["flight_number"]]} for f in _rows(db, "flights")]


# -- writes (through db.execute only, so the executor's savepoint covers them) ---------------


def save_reservation(db, record: dict[str, Any]) -> None:
    row = SCHEMA["reservations"].encode({**record, "status": record.get("status")})
    cols = ", ".join(row)
    db.execute(
        f"INSERT OR REPLACE INTO reservations ({cols}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )


def set_user_reservations(db, user_id: str, ids: list[str]) -> None:
    row = SCHEMA["users"].encode({"reservations": ids})
    db.execute(
        "UPDATE users SET reservations = ? WHERE user_id = ?", [row["reservations"], user_id]
    )


def set_payment_amount(db, user_id: str, payment_id: str, amount: float) -> None:
    value = SCHEMA["payment_methods"].encode({"amount": amount})["amount"]
    db.execute(
        "UPDATE payment_methods SET amount = ? WHERE user_id = ? AND payment_method_id = ?",
        [value, user_id, payment_id],
    )


def delete_payment_method(db, user_id: str, payment_id: str) -> None:
    db.execute(
        "DELETE FROM payment_methods WHERE user_id = ? AND payment_method_id = ?",
        [user_id, payment_id],
    )


def add_payment_method(db, user_id: str, record: dict[str, Any]) -> None:
    position = db.execute(
        "SELECT coalesce(max(position) + 1, 0) FROM payment_methods WHERE user_id = ?", [user_id]
    ).fetchone()[0]
    row = SCHEMA["payment_methods"].encode(
        {
            "user_id": user_id,
            "payment_method_id": record["id"],
            "position": position,
            "source": record["source"],
            "brand": record.get("brand"),
            "last_four": record.get("last_four"),
            "amount": record.get("amount"),
        }
    )
    db.execute(
        f"INSERT INTO payment_methods ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )


class AirlineTaubench:
    """τ-bench's airline JSON (users, flights, reservations) <-> our tables."""

    def import_data(self, db: sqlite_utils.Database, data: dict[str, dict[str, Any]]) -> None:
        users, flights, reservations = data["users"], data["flights"], data["reservations"]
        SCHEMA.insert(
            db,
            "users",
            [
                {
                    "user_id": uid,
                    **u["name"],
                    "email": u["email"],
                    "dob": u["dob"],
                    "membership": u["membership"],
                    **u["address"],
                    "saved_passengers": u["saved_passengers"],
                    "reservations": u["reservations"],
                }
                for uid, u in users.items()
            ],
        )
        SCHEMA.insert(
            db,
            "payment_methods",
            [
                {
                    "user_id": uid,
                    "payment_method_id": pid,
                    "position": i,
                    "source": pm["source"],
                    "brand": pm.get("brand"),
                    "last_four": pm.get("last_four"),
                    "amount": pm.get("amount"),
                }
                for uid, u in users.items()
                for i, (pid, pm) in enumerate(u["payment_methods"].items())
            ],
        )
        SCHEMA.insert(
            db, "flights", [{k: v for k, v in f.items() if k != "dates"} for f in flights.values()]
        )
        SCHEMA.insert(
            db,
            "flight_dates",
            [
                {
                    "flight_number": number,
                    "date": date,
                    "status": d["status"],
                    "details": {k: v for k, v in d.items() if k != "status"},
                }
                for number, f in flights.items()
                for date, d in f["dates"].items()
            ],
        )
        SCHEMA.insert(
            db,
            "reservations",
            [{**r, "status": r.get("status")} for r in reservations.values()],
        )

    def export_data(self, db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
        methods: dict[str, dict[str, dict]] = defaultdict(dict)
        for pm in _rows(db, "payment_methods", order="user_id, position"):
            record: dict[str, Any] = {"source": pm["source"]}
            record.update({k: pm[k] for k in ("brand", "last_four", "amount") if pm[k] is not None})
            record["id"] = pm["payment_method_id"]
            methods[pm["user_id"]][pm["payment_method_id"]] = record
        return {
            "users": {u["user_id"]: _user(u, methods[u["user_id"]]) for u in _rows(db, "users")},
            "flights": {f["flight_number"]: f for f in all_flights(db)},
            "reservations": {
                r["reservation_id"]: _reservation(r) for r in _rows(db, "reservations")
            },
        }
