"""A seeded, deterministic bank: customers with accounts, cards, payees and 120 days of
transactions up to 'now' (2025-03-14 10:00)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlite_utils

from .schema import SCHEMA
from .tools import NOW

N_CUSTOMERS = 200
FIRST = [
    "Alice",
    "Bruno",
    "Carmen",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jamal",
    "Keiko",
    "Liam",
    "Maya",
    "Nikos",
    "Olga",
    "Pavel",
    "Rosa",
    "Samir",
    "Tara",
    "Ugo",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Abbott",
    "Becker",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Gomez",
    "Horvat",
    "Iqbal",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Oliveira",
    "Petrov",
    "Quinn",
    "Reyes",
    "Sato",
    "Toure",
]
MERCHANTS = [
    "Corner Grocer",
    "City Transit",
    "StreamBox",
    "Fuel Stop",
    "Book Nook",
    "Pharmacy Plus",
    "Cafe Lumen",
    "HomeWares",
    "Air Tickets Online",
    "Gym Club",
]
BANKS = ["First Harbor Bank", "Union Mutual", "Northgate Credit", "Pioneer Savings"]
STREETS = ["Oak Ave", "Mill Rd", "Harbor St", "Elm Ct", "Park Ln"]


def generate(db: sqlite_utils.Database, seed: int) -> None:
    """Fill an empty banking database; the same seed always gives the same rows."""
    rng = random.Random(seed)
    now = datetime.fromisoformat(NOW)
    rows: dict[str, list[dict]] = {t.name: [] for t in SCHEMA.tables}
    emails: set[str] = set()
    account_n, card_n, payee_n, txn_n = 20000, 7000, 300, 4000
    for i in range(N_CUSTOMERS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first.lower()}.{last.lower()}{rng.randrange(10, 99)}@example.com"
        if email in emails:
            email = f"{first.lower()}.{last.lower()}{i}@example.com"
        emails.add(email)
        cid = f"cus_{1000 + i}"
        rows["customers"].append(
            {
                "customer_id": cid,
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": f"+1 555 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
                "date_of_birth": f"{rng.randrange(1950, 2004)}-{rng.randrange(1, 13):02}-"
                f"{rng.randrange(1, 29):02}",
                "address": f"{rng.randrange(1, 300)} {rng.choice(STREETS)}, Springfield",
            }
        )
        kinds = ["checking"] + [k for k in ("savings", "credit") if rng.random() < 0.6]
        for kind in kinds:
            aid = f"acc_{account_n}"
            account_n += 1
            balance = {
                "checking": round(rng.uniform(-200, 6000), 2),
                "savings": round(rng.uniform(0, 20000), 2),
                "credit": -round(rng.uniform(0, 2500), 2),
            }[kind]
            limit = {
                "checking": rng.choice([0, 250, 500]),
                "savings": 0,
                "credit": rng.choice([2000, 5000, 10000]),
            }[kind]
            if kind == "checking" and balance < -limit:
                balance = round(-limit / 2, 2)
            rows["accounts"].append(
                {
                    "account_id": aid,
                    "customer_id": cid,
                    "kind": kind,
                    "balance": balance,
                    "overdraft_limit": limit,
                    "status": "open",
                }
            )
            if kind in ("checking", "credit"):
                rows["cards"].append(
                    {
                        "card_id": f"card_{card_n}",
                        "account_id": aid,
                        "customer_id": cid,
                        "last_four": f"{rng.randrange(10000):04}",
                        "status": "frozen" if rng.random() < 0.1 else "active",
                    }
                )
                card_n += 1
            for _ in range(rng.randrange(4, 14)):
                when = now - timedelta(days=rng.randrange(0, 120), minutes=rng.randrange(1, 1440))
                kind_t = rng.choice(["card", "card", "card", "payment", "deposit", "fee"])
                amount = {
                    "card": -round(rng.uniform(3, 250), 2),
                    "payment": -round(rng.uniform(20, 900), 2),
                    "deposit": round(rng.uniform(100, 3000), 2),
                    "fee": -float(rng.choice([5, 12, 35])),
                }[kind_t]
                description = {
                    "card": rng.choice(MERCHANTS),
                    "payment": f"Payment to {rng.choice(LAST)} {rng.choice(['LLC', 'Rent'])}",
                    "deposit": "Payroll deposit",
                    "fee": "Monthly service fee",
                }[kind_t]
                rows["transactions"].append(
                    {
                        "transaction_id": f"txn_{txn_n}",
                        "account_id": aid,
                        "posted_at": when.isoformat(timespec="seconds"),
                        "amount": amount,
                        "description": description,
                        "kind": kind_t,
                        "status": "posted",
                    }
                )
                txn_n += 1
        for _ in range(rng.randrange(0, 4)):
            added = now - timedelta(hours=rng.choice([2, 30, 24 * 10, 24 * 90]))
            rows["payees"].append(
                {
                    "payee_id": f"pay_{payee_n}",
                    "customer_id": cid,
                    "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "bank": rng.choice(BANKS),
                    "account_number": f"{rng.randrange(10**9, 10**10)}",
                    "added_at": added.isoformat(timespec="seconds"),
                }
            )
            payee_n += 1
    for table, table_rows in rows.items():
        SCHEMA.insert(db, table, table_rows)
