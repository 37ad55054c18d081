"""τ²'s airline records over the v1 tables: the same rows, shown as τ²'s pydantic models dump
them (`user_id` inside users, `status` null on live reservations), with τ²'s number types."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import sqlite_utils

from apigen_mt.environments.airline import records as v1
from apigen_mt.environments.tau2.data import as_float, as_int


def user(db: sqlite_utils.Database, user_id: str) -> dict[str, Any] | None:
    found = v1.user(db, user_id)
    return None if found is None else {"user_id": user_id, **found}


def reservation(db: sqlite_utils.Database, reservation_id: str) -> dict[str, Any] | None:
    found = v1.reservation(db, reservation_id)
    return None if found is None else {**found, "status": found.get("status")}


def _cabins(values: dict[str, Any]) -> dict[str, Any]:
    return {cabin: as_int(v) for cabin, v in values.items()}


class AirlineTau2:
    """τ²'s airline `db.json` <-> the airline tables."""

    tau2_name = "airline"
    # which records a written row belongs to (environments/tau2/hashing.py)
    RECORD_OF: ClassVar[dict[str, tuple[tuple[str, str], ...]]] = {
        "users": (("users", "user_id"),),
        "payment_methods": (("users", "user_id"),),
        "flights": (("flights", "flight_number"),),
        "flight_dates": (("flights", "flight_number"),),
        "reservations": (("reservations", "reservation_id"),),
    }

    def import_db(self, db: sqlite_utils.Database, data: dict[str, Any]) -> None:
        # The number types τ²'s models give on load: gift card and certificate amounts are
        # floats; seats, seat prices, reservation prices, payments and bag counts ints.
        users = {
            uid: {
                **{k: v for k, v in u.items() if k != "user_id"},
                "payment_methods": {
                    mid: {**m, **({"amount": as_float(m["amount"])} if "amount" in m else {})}
                    for mid, m in u["payment_methods"].items()
                },
            }
            for uid, u in data["users"].items()
        }
        flights = {}
        for number, f in data["flights"].items():
            dates = {}
            for day, d in f["dates"].items():
                d = dict(d)
                for key in ("available_seats", "prices"):
                    if key in d:
                        d[key] = _cabins(d[key])
                dates[day] = d
            flights[number] = {**f, "dates": dates}
        reservations = {}
        for rid, r in data["reservations"].items():
            r = {k: v for k, v in r.items() if not (k == "status" and v is None)}
            r["flights"] = [{**f, "price": as_int(f["price"])} for f in r["flights"]]
            r["payment_history"] = [
                {**p, "amount": as_int(p["amount"])} for p in r["payment_history"]
            ]
            for key in ("total_baggages", "nonfree_baggages"):
                r[key] = as_int(r[key])
            reservations[rid] = r
        v1.AirlineTaubench().import_data(
            db, {"users": users, "flights": flights, "reservations": reservations}
        )

    def export_records(self, db, collection: str, ids: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key in ids:
            if collection == "users":
                record = user(db, key)
            elif collection == "reservations":
                record = reservation(db, key)
            else:
                record = v1.flight(db, key)
                if record is not None:
                    dates = db.query(
                        "SELECT date, status, details FROM flight_dates WHERE flight_number = ? "
                        "ORDER BY rowid",
                        [key],
                    )
                    record = {
                        **record,
                        "dates": {
                            d["date"]: {"status": d["status"], **json.loads(d["details"])}
                            for d in dates
                        },
                    }
            if record is not None:
                found[key] = record
        return found

    def export_db(self, db: sqlite_utils.Database) -> dict[str, Any]:
        data = v1.AirlineTaubench().export_data(db)
        return {
            "flights": data["flights"],
            "users": {uid: {"user_id": uid, **u} for uid, u in data["users"].items()},
            "reservations": {
                rid: {**r, "status": r.get("status")} for rid, r in data["reservations"].items()
            },
        }
