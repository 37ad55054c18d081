"""What phase 1 samples from an airline database: a user with their reservations."""

from __future__ import annotations

import datetime
import json
import random
from typing import Any

import sqlite_utils

from . import records


def sample_records(db: sqlite_utils.Database, rng: random.Random) -> tuple[str, str]:
    """A random user with their profile and reservations (and each flight's current status)."""
    ids = [r[0] for r in db.execute("SELECT user_id FROM users ORDER BY rowid")]
    user_id = rng.choice(ids)
    return user_id, records_for(db, user_id)


def records_for(db: sqlite_utils.Database, user_id: str) -> str:
    """The records of one user, as `sample_records` gives them."""
    user = records.user(db, user_id)
    reservations = {}
    for rid in user["reservations"]:
        r = records.reservation(db, rid)
        if r is None:
            continue
        for f in r["flights"]:
            day = records.flight_date(db, f["flight_number"], f["date"]) or {}
            f["status"] = day.get("status", "unknown")
        reservations[rid] = r
    return json.dumps(
        {
            "user_id": user_id,
            "user": user,
            "reservations": reservations,
            "candidate_flights": candidate_flights(db, reservations),
            "now": "2024-05-15 15:00 EST",
        }
    )


def candidate_flights(db: sqlite_utils.Database, reservations: dict, per_route: int = 4) -> dict:
    """Real available flights for the user's routes on the day before, of and after each
    reserved flight: bookings and flight changes are grounded, not invented."""
    out: dict[str, list[dict]] = {}
    for r in list(reservations.values())[:3]:
        for f in r["flights"]:
            route = f"{f['origin']}-{f['destination']}"
            if route in out:
                continue
            day = datetime.date.fromisoformat(f["date"])
            found = []
            for shift in (-1, 0, 1):
                date = (day + datetime.timedelta(days=shift)).isoformat()
                for flight in records.flights_where(
                    db, "origin = ? AND destination = ?", (f["origin"], f["destination"])
                ):
                    info = records.flight_date(db, flight["flight_number"], date)
                    if info and info["status"] == "available":
                        found.append(
                            {"flight_number": flight["flight_number"], "date": date, **info}
                        )
            out[route] = found[:per_route]
    return out


def id_choices(records: dict[str, Any]) -> dict[str, list[str]]:
    """The ids a task on these records can name: the user's reservations and payment
    methods, and the flights reserved or listed as candidates."""
    reserved = [f["flight_number"] for r in records["reservations"].values() for f in r["flights"]]
    listed = [f["flight_number"] for fs in records["candidate_flights"].values() for f in fs]
    return {
        "user_id": [records["user_id"]],
        "reservation_id": list(records["reservations"]),
        "payment_id": list(records["user"]["payment_methods"]),
        "flight_number": reserved + listed,
    }


def sample_calls(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    user_id = db.execute("SELECT user_id FROM users ORDER BY rowid LIMIT 1").fetchone()[0]
    reservation_id, origin, destination, flights = db.execute(
        "SELECT reservation_id, origin, destination, flights FROM reservations "
        "ORDER BY rowid LIMIT 1"
    ).fetchone()
    date = json.loads(flights)[0]["date"]
    return [
        {"name": "get_user_details", "arguments": {"user_id": user_id}},
        {"name": "get_reservation_details", "arguments": {"reservation_id": reservation_id}},
        {
            "name": "search_direct_flight",
            "arguments": {"origin": origin, "destination": destination, "date": date},
        },
        {"name": "list_all_airports", "arguments": {}},
    ]


def seed_examples(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """A cancellation of an insured or business reservation that has not been flown."""
    for rid, user_id, cabin, insurance, flights in db.execute(
        "SELECT reservation_id, user_id, cabin, insurance, flights FROM reservations "
        "WHERE status IS NULL ORDER BY rowid"
    ):
        dates = [f["date"] for f in json.loads(flights)]
        if (insurance == "yes" or cabin == "business") and min(dates) > "2024-05-15":
            return [
                {
                    "reasoning": "An insured (or business) trip not yet flown may be cancelled.",
                    "user_id": user_id,
                    "instruction": f"You are {user_id}. Your plans changed and you want to "
                    f"cancel reservation {rid} entirely and get your money back.",
                    "actions": [
                        {"name": "get_reservation_details", "arguments": {"reservation_id": rid}},
                        {"name": "cancel_reservation", "arguments": {"reservation_id": rid}},
                    ],
                    "outputs": [],
                }
            ]
    return []
