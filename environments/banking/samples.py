"""What phase 1 samples from a bank: a customer with accounts, cards, payees and recent
transactions."""

from __future__ import annotations

import json
import random
from typing import Any

import sqlite_utils


def _rows(db, sql: str, params: list) -> list[dict[str, Any]]:
    cur = db.execute(sql, params)
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def sample_records(db: sqlite_utils.Database, rng: random.Random) -> tuple[str, str]:
    ids = [r[0] for r in db.execute("SELECT customer_id FROM customers ORDER BY rowid")]
    cid = rng.choice(ids)
    return cid, records_for(db, cid)


def records_for(db: sqlite_utils.Database, cid: str) -> str:
    """The records of one user, as `sample_records` gives them."""
    customer = _rows(db, "SELECT * FROM customers WHERE customer_id = ?", [cid])[0]
    accounts = _rows(db, "SELECT * FROM accounts WHERE customer_id = ? ORDER BY account_id", [cid])
    transactions = {
        a["account_id"]: _rows(
            db,
            "SELECT transaction_id, posted_at, amount, description, kind, status FROM "
            "transactions WHERE account_id = ? ORDER BY posted_at DESC LIMIT 8",
            [a["account_id"]],
        )
        for a in accounts
    }
    records = {
        "user_id": cid,
        "customer": customer,
        "accounts": accounts,
        "cards": _rows(db, "SELECT * FROM cards WHERE customer_id = ?", [cid]),
        "payees": _rows(db, "SELECT * FROM payees WHERE customer_id = ?", [cid]),
        "recent_transactions": transactions,
        "now": "2025-03-14 10:00",
    }
    return json.dumps(records)


def id_choices(records: dict[str, Any]) -> dict[str, list[str]]:
    """The ids a task on these records can name: the customer's own."""
    accounts = [a["account_id"] for a in records["accounts"]]
    return {
        "customer_id": [records["user_id"]],
        "account_id": accounts,
        "from_account_id": accounts,
        "to_account_id": accounts,
        "card_id": [c["card_id"] for c in records["cards"]],
        "payee_id": [p["payee_id"] for p in records["payees"]],
        "transaction_id": [
            t["transaction_id"] for ts in records["recent_transactions"].values() for t in ts
        ],
    }


def sample_calls(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    email, dob, cid = db.execute(
        "SELECT email, date_of_birth, customer_id FROM customers ORDER BY rowid LIMIT 1"
    ).fetchone()
    account = db.execute(
        "SELECT account_id FROM accounts WHERE customer_id = ? LIMIT 1", [cid]
    ).fetchone()[0]
    return [
        {"name": "verify_identity", "arguments": {"email": email, "date_of_birth": dob}},
        {"name": "list_accounts", "arguments": {"customer_id": cid}},
        {"name": "list_cards", "arguments": {"customer_id": cid}},
        {"name": "list_payees", "arguments": {"customer_id": cid}},
        {"name": "list_transactions", "arguments": {"account_id": account, "limit": 5}},
    ]


def seed_examples(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """The first two hand-written tasks, which were written against seed 0's data."""
    from .tasks import TASKS

    return [{"reasoning": "hand-written example", **t} for t in TASKS[:2]]
