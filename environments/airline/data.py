"""A seeded, deterministic airline database in τ-bench's shape (May 2024, 'now' the 15th)."""

from __future__ import annotations

import random
import string

import sqlite_utils

from .records import AirlineTaubench
from .tools import AIRPORTS

N_FLIGHTS, N_USERS, N_RESERVATIONS = 200, 300, 900
DATES = [f"2024-05-{d:02}" for d in range(1, 31)]
TODAY = "2024-05-15"
FIRST = [
    "Ava",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lena",
    "Mateo",
    "Noor",
    "Omar",
    "Priya",
    "Quinn",
    "Raj",
    "Sofia",
    "Tomas",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
    "Zane",
]
LAST = [
    "Adams",
    "Brown",
    "Chen",
    "Diaz",
    "Evans",
    "Garcia",
    "Hassan",
    "Ito",
    "Jones",
    "Kim",
    "Lopez",
    "Martin",
    "Nguyen",
    "Okafor",
    "Patel",
    "Rossi",
    "Silva",
    "Tanaka",
    "Usman",
    "Wang",
]
STREETS = ["Oak", "Maple", "Cedar", "Pine", "Elm", "Willow", "Lake", "Hill", "River", "Sunset"]
CITY_STATE = [
    ("Austin", "TX"),
    ("Denver", "CO"),
    ("Seattle", "WA"),
    ("Boston", "MA"),
    ("Chicago", "IL"),
    ("Phoenix", "AZ"),
    ("Miami", "FL"),
    ("Newark", "NJ"),
]
CABINS = ("basic_economy", "economy", "business")


def generate(db: sqlite_utils.Database, seed: int) -> None:
    """Fill an empty airline database; the same seed always gives the same rows."""
    AirlineTaubench().import_data(db, generate_json(seed))


def generate_json(seed: int) -> dict[str, dict]:
    rng = random.Random(seed)
    flights = _flights(rng)
    users = _users(rng)
    reservations = _reservations(rng, users, flights)
    return {"users": users, "flights": flights, "reservations": reservations}


def _flights(rng: random.Random) -> dict[str, dict]:
    codes = list(AIRPORTS)
    flights = {}
    for i in range(1, N_FLIGHTS + 1):
        origin, destination = rng.sample(codes, 2)
        hour, length = rng.randrange(5, 22), rng.choice([1, 1.5, 2, 2.5, 3, 4, 5])
        end = hour + length
        arrival = f"{int(end) % 24:02}:{int(end % 1 * 60):02}:00" + ("+1" if end >= 24 else "")
        number = f"HAT{i:03}"
        flights[number] = {
            "flight_number": number,
            "origin": origin,
            "destination": destination,
            "scheduled_departure_time_est": f"{hour:02}:00:00",
            "scheduled_arrival_time_est": arrival,
            "dates": {d: _day(rng, d, hour) for d in DATES},
        }
    return flights


def _day(rng: random.Random, date: str, hour: int) -> dict:
    if date < TODAY or (date == TODAY and hour < 12):
        if rng.random() < 0.08:
            return {"status": "cancelled"}
        dep = f"{date}T{hour:02}:{rng.randrange(60):02}:00"
        return {
            "status": "landed",
            "actual_departure_time_est": dep,
            "actual_arrival_time_est": dep,
        }
    if date == TODAY:
        status = rng.choice(["on time", "delayed", "flying"])
        return {"status": status, "estimated_departure_time_est": f"{date}T{hour:02}:30:00"}
    if rng.random() < 0.04:
        return {"status": rng.choice(["cancelled", "delayed"])}
    base = rng.randrange(50, 200)
    return {
        "status": "available",
        "available_seats": {c: rng.randrange(0, 21) for c in CABINS},
        "prices": {
            "basic_economy": base,
            "economy": base + rng.randrange(40, 160),
            "business": base + rng.randrange(200, 600),
        },
    }


def _users(rng: random.Random) -> dict[str, dict]:
    users = {}
    while len(users) < N_USERS:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        uid = f"{first.lower()}_{last.lower()}_{rng.randrange(1000, 10000)}"
        if uid in users:
            continue
        city, state = rng.choice(CITY_STATE)
        methods = {}
        for _ in range(rng.randrange(1, 5)):
            source = rng.choice(["credit_card", "gift_card", "certificate"])
            pid = f"{source}_{rng.randrange(10**6, 10**7)}"
            if source == "credit_card":
                methods[pid] = {
                    "source": source,
                    "brand": rng.choice(["visa", "mastercard"]),
                    "last_four": f"{rng.randrange(10**4):04}",
                    "id": pid,
                }
            else:
                amount = (
                    rng.choice([100, 150, 250, 500])
                    if source == "certificate"
                    else (rng.randrange(0, 400))
                )
                methods[pid] = {"source": source, "amount": amount, "id": pid}
        users[uid] = {
            "name": {"first_name": first, "last_name": last},
            "address": {
                "address1": f"{rng.randrange(1, 999)} {rng.choice(STREETS)} Street",
                "address2": f"Suite {rng.randrange(100, 999)}",
                "city": city,
                "country": "USA",
                "state": state,
                "zip": f"{rng.randrange(10000, 99999)}",
            },
            "email": f"{first.lower()}.{last.lower()}{rng.randrange(1000, 9999)}@example.com",
            "dob": _dob(rng),
            "payment_methods": methods,
            "saved_passengers": [
                {"first_name": rng.choice(FIRST), "last_name": rng.choice(LAST), "dob": _dob(rng)}
                for _ in range(rng.randrange(0, 3))
            ],
            "membership": rng.choice(["regular", "regular", "silver", "gold"]),
            "reservations": [],
        }
    return users


def _dob(rng: random.Random) -> str:
    return f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02}-{rng.randrange(1, 29):02}"


def _reservations(rng: random.Random, users: dict, flights: dict) -> dict[str, dict]:
    by_origin: dict[str, list[dict]] = {}
    for f in flights.values():
        by_origin.setdefault(f["origin"], []).append(f)
    reservations: dict[str, dict] = {}
    user_ids = list(users)
    while len(reservations) < N_RESERVATIONS:
        rid = "".join(rng.choices(string.ascii_uppercase + string.digits, k=6))
        if rid in reservations or rid.startswith("HATHA"):
            continue
        uid = rng.choice(user_ids)
        user = users[uid]
        out = rng.choice(list(flights.values()))
        back = [
            f for f in by_origin.get(out["destination"], []) if f["destination"] == out["origin"]
        ]
        round_trip = bool(back) and rng.random() < 0.5
        date = rng.choice(DATES)
        legs = [(out, date)]
        if round_trip:
            later = DATES[min(DATES.index(date) + rng.randrange(1, 6), len(DATES) - 1)]
            legs.append((rng.choice(back), later))
        cabin = rng.choice(CABINS)
        passengers = [
            {
                "first_name": user["name"]["first_name"],
                "last_name": user["name"]["last_name"],
                "dob": user["dob"],
            }
        ]
        passengers += [
            {"first_name": rng.choice(FIRST), "last_name": rng.choice(LAST), "dob": _dob(rng)}
            for _ in range(rng.choice([0, 0, 1, 2]))
        ]
        priced = [
            {
                "origin": f["origin"],
                "destination": f["destination"],
                "flight_number": f["flight_number"],
                "date": d,
                "price": f["dates"][d].get("prices", {}).get(cabin, rng.randrange(60, 700)),
            }
            for f, d in legs
        ]
        insurance = rng.choice(["yes", "no"])
        total = sum(p["price"] for p in priced) * len(passengers)
        total += 30 * len(passengers) * (insurance == "yes")
        cards = [p for p, m in user["payment_methods"].items() if m["source"] != "certificate"]
        payer = cards[0] if cards else next(iter(user["payment_methods"]))
        created_day = rng.randrange(0, min(DATES.index(date), DATES.index(TODAY)) + 1)
        created = f"{DATES[created_day]}T{rng.randrange(24):02}:{rng.randrange(60):02}:00"
        bags = rng.randrange(0, 2 * len(passengers) + 1)
        reservations[rid] = {
            "reservation_id": rid,
            "user_id": uid,
            "origin": out["origin"],
            "destination": out["destination"],
            "flight_type": "round_trip" if round_trip else "one_way",
            "cabin": cabin,
            "flights": priced,
            "passengers": passengers,
            "payment_history": [{"payment_id": payer, "amount": total}],
            "created_at": created,
            "total_baggages": bags,
            "nonfree_baggages": 0,
            "insurance": insurance,
        }
        user["reservations"].append(rid)
    return reservations
