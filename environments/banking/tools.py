"""The banking desk's tools. Like τ-bench's, they refuse only what the bank's systems would
(unknown ids, missing funds, wrong states); who may do what is policy, in rules.py."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlite_utils import Database

from apigen_mt.environments.common_tools import think, transfer_to_human_agents
from apigen_mt.tools import ToolError, tool

NOW = "2025-03-14T10:00:00"  # the desk's fixed current time
TODAY = NOW[:10]

CustomerId = Annotated[str, Field(description="The customer id, such as 'cus_1042'.")]
AccountId = Annotated[str, Field(description="The account id, such as 'acc_20451'.")]
CardId = Annotated[str, Field(description="The card id, such as 'card_7310'.")]
Amount = Annotated[float, Field(description="Amount in dollars, positive, at most 2 decimals.")]


def _row(db: Database, table: str, key: str, value: str, what: str) -> dict[str, Any]:
    row = db.execute(f"SELECT * FROM {table} WHERE {key} = ?", [value]).fetchone()
    if row is None:
        raise ToolError(f"{what} not found")
    cols = [c[0] for c in db.execute(f"SELECT * FROM {table} LIMIT 0").description]
    return dict(zip(cols, row, strict=True))


def _customer_rows(db: Database, table: str, cols: tuple[str, ...], customer_id: str) -> list:
    """A customer's rows of `table` (after checking the customer exists), oldest id first."""
    _row(db, "customers", "customer_id", customer_id, "customer")
    rows = db.execute(
        f"SELECT {', '.join(cols)} FROM {table} WHERE customer_id = ? ORDER BY {cols[0]}",
        [customer_id],
    ).fetchall()
    return [dict(zip(cols, r, strict=True)) for r in rows]


def _money(amount: float) -> float:
    if not amount > 0 or round(amount, 2) != amount:
        raise ToolError("amount must be positive with at most 2 decimals")
    return amount


def _next_id(db: Database, table: str, key: str, prefix: str) -> str:
    """The next id after the highest one in use (`txn_4410` -> `txn_4411`)."""
    top = db.execute(
        f"SELECT max(CAST(substr({key}, ?) AS INTEGER)) FROM {table}", [len(prefix) + 1]
    ).fetchone()[0]
    return f"{prefix}{(top or 0) + 1}"


def _post(db: Database, account: dict, amount: float, description: str, kind: str) -> str:
    tid = _next_id(db, "transactions", "transaction_id", "txn_")
    db.execute(
        "INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?, 'posted')",
        [tid, account["account_id"], NOW, amount, description, kind],
    )
    db.execute(
        "UPDATE accounts SET balance = ? WHERE account_id = ?",
        [round(account["balance"] + amount, 2), account["account_id"]],
    )
    return tid


def _withdrawable(account: dict) -> float:
    return account["balance"] + account["overdraft_limit"]


@tool()
def verify_identity(
    db: Database,
    email: Annotated[str, Field(description="The email address on file.")],
    date_of_birth: Annotated[str, Field(description="Date of birth, 'YYYY-MM-DD'.")],
) -> str:
    """Authenticate the caller by email and date of birth; returns their customer id.

    Required before anything else in a conversation.
    """
    row = db.execute(
        "SELECT customer_id FROM customers WHERE lower(email) = lower(?) AND date_of_birth = ?",
        [email.strip(), date_of_birth.strip()],
    ).fetchone()
    if row is None:
        raise ToolError("identity could not be verified")
    return row[0]


@tool()
def get_customer_details(db: Database, customer_id: CustomerId) -> dict:
    """A customer's name and contact details."""
    c = _row(db, "customers", "customer_id", customer_id, "customer")
    return {
        k: c[k] for k in ("customer_id", "first_name", "last_name", "email", "phone", "address")
    }


@tool()
def list_accounts(db: Database, customer_id: CustomerId) -> list:
    """The customer's accounts with kind, balance, overdraft or credit limit, and status."""
    return _customer_rows(
        db, "accounts", ("account_id", "kind", "balance", "overdraft_limit", "status"), customer_id
    )


@tool()
def get_balance(db: Database, account_id: AccountId) -> dict:
    """An account's balance and the amount available to move out of it."""
    a = _row(db, "accounts", "account_id", account_id, "account")
    return {"account_id": account_id, "balance": a["balance"], "available": _withdrawable(a)}


@tool()
def list_transactions(
    db: Database,
    account_id: AccountId,
    limit: Annotated[int, Field(description="How many of the latest (1 to 50).", ge=1, le=50)] = 10,
) -> list:
    """The latest transactions of an account, newest first."""
    _row(db, "accounts", "account_id", account_id, "account")
    cols = ("transaction_id", "posted_at", "amount", "description", "kind", "status")
    rows = db.execute(
        f"SELECT {', '.join(cols)} FROM transactions WHERE account_id = ? "
        "ORDER BY posted_at DESC, transaction_id DESC LIMIT ?",
        [account_id, limit],
    ).fetchall()
    return [dict(zip(cols, r, strict=True)) for r in rows]


@tool()
def list_payees(db: Database, customer_id: CustomerId) -> list:
    """The customer's saved payees."""
    return _customer_rows(
        db, "payees", ("payee_id", "name", "bank", "account_number", "added_at"), customer_id
    )


@tool()
def list_cards(db: Database, customer_id: CustomerId) -> list:
    """The customer's cards with their account, last four digits and status."""
    return _customer_rows(
        db, "cards", ("card_id", "account_id", "last_four", "status"), customer_id
    )


@tool(writes=True)
def transfer_between_accounts(
    db: Database, from_account_id: AccountId, to_account_id: AccountId, amount: Amount
) -> dict:
    """Move money between two of the customer's own accounts (paying a credit card
    included). Confirm the details and get an explicit yes first."""
    amount = _money(amount)
    source = _row(db, "accounts", "account_id", from_account_id, "source account")
    target = _row(db, "accounts", "account_id", to_account_id, "destination account")
    if from_account_id == to_account_id:
        raise ToolError("source and destination are the same account")
    if "closed" in (source["status"], target["status"]):
        raise ToolError("account is closed")
    if _withdrawable(source) < amount:
        raise ToolError("insufficient funds")
    out = _post(db, source, -amount, f"Transfer to {to_account_id}", "transfer")
    into = _post(db, target, amount, f"Transfer from {from_account_id}", "transfer")
    return {"status": "completed", "debit": out, "credit": into, "amount": amount}


@tool(writes=True)
def pay_payee(
    db: Database,
    account_id: AccountId,
    payee_id: Annotated[str, Field(description="A saved payee id, such as 'pay_311'.")],
    amount: Amount,
) -> dict:
    """Pay a saved payee from an account. Confirm the details and get an explicit yes first."""
    amount = _money(amount)
    account = _row(db, "accounts", "account_id", account_id, "account")
    payee = _row(db, "payees", "payee_id", payee_id, "payee")
    if account["status"] == "closed":
        raise ToolError("account is closed")
    if _withdrawable(account) < amount:
        raise ToolError("insufficient funds")
    tid = _post(db, account, -amount, f"Payment to {payee['name']}", "payment")
    return {"status": "completed", "transaction_id": tid, "payee": payee["name"], "amount": amount}


@tool(writes=True)
def add_payee(
    db: Database,
    customer_id: CustomerId,
    name: Annotated[str, Field(description="The payee's name.", min_length=1, max_length=80)],
    bank: Annotated[str, Field(description="The payee's bank.", min_length=1, max_length=80)],
    account_number: Annotated[str, Field(description="8 to 12 digits.")],
) -> dict:
    """Save a new payee for the customer. Confirm the details and get an explicit yes first."""
    _row(db, "customers", "customer_id", customer_id, "customer")
    if not re.fullmatch(r"\d{8,12}", account_number):
        raise ToolError("account number must be 8 to 12 digits")
    duplicate = db.execute(
        "SELECT payee_id FROM payees WHERE customer_id = ? AND account_number = ?",
        [customer_id, account_number],
    ).fetchone()
    if duplicate:
        raise ToolError(f"payee already saved as {duplicate[0]}")
    pid = _next_id(db, "payees", "payee_id", "pay_")
    db.execute(
        "INSERT INTO payees VALUES (?, ?, ?, ?, ?, ?)",
        [pid, customer_id, name, bank, account_number, NOW],
    )
    return {"payee_id": pid, "name": name, "bank": bank, "account_number": account_number}


def _set_card(db: Database, card_id: str, want: str, already: str) -> dict:
    card = _row(db, "cards", "card_id", card_id, "card")
    if card["status"] == want:
        raise ToolError(f"card is already {already}")
    db.execute("UPDATE cards SET status = ? WHERE card_id = ?", [want, card_id])
    return {"card_id": card_id, "last_four": card["last_four"], "status": want}


@tool(writes=True)
def freeze_card(db: Database, card_id: CardId) -> dict:
    """Freeze a card (lost, stolen, suspicious use). Confirm first."""
    return _set_card(db, card_id, "frozen", "frozen")


@tool(writes=True)
def unfreeze_card(db: Database, card_id: CardId) -> dict:
    """Unfreeze a frozen card. Confirm first."""
    return _set_card(db, card_id, "active", "active")


@tool(writes=True)
def dispute_transaction(
    db: Database,
    transaction_id: Annotated[str, Field(description="The transaction id, such as 'txn_4410'.")],
    reason: Annotated[
        Literal["unauthorized", "duplicate", "not_received", "wrong_amount"],
        Field(description="Why the customer disputes it."),
    ],
) -> dict:
    """Open a dispute on a posted card or payment transaction. Confirm first."""
    t = _row(db, "transactions", "transaction_id", transaction_id, "transaction")
    if t["status"] == "disputed":
        raise ToolError("transaction is already disputed")
    if t["amount"] >= 0:
        raise ToolError("only money going out can be disputed")
    customer = db.execute(
        "SELECT customer_id FROM accounts WHERE account_id = ?", [t["account_id"]]
    ).fetchone()[0]
    did = _next_id(db, "disputes", "dispute_id", "dsp_")
    db.execute(
        "UPDATE transactions SET status = 'disputed' WHERE transaction_id = ?", [transaction_id]
    )
    db.execute(
        "INSERT INTO disputes VALUES (?, ?, ?, ?, ?)", [did, transaction_id, customer, reason, NOW]
    )
    return {"dispute_id": did, "transaction_id": transaction_id, "status": "open"}


@tool(writes=True)
def update_contact_details(
    db: Database,
    customer_id: CustomerId,
    email: Annotated[str | None, Field(description="New email, or null to keep it.")] = None,
    phone: Annotated[str | None, Field(description="New phone, or null to keep it.")] = None,
    address: Annotated[str | None, Field(description="New address, or null to keep it.")] = None,
) -> dict:
    """Change the customer's email, phone or postal address. Confirm first."""
    _row(db, "customers", "customer_id", customer_id, "customer")
    changes = {k: v for k, v in (("email", email), ("phone", phone), ("address", address)) if v}
    if not changes:
        raise ToolError("nothing to change")
    if "email" in changes and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", changes["email"]):
        raise ToolError("invalid email address")
    if "phone" in changes and not re.fullmatch(r"\+?[\d\- ]{7,20}", changes["phone"]):
        raise ToolError("invalid phone number")
    for column, value in changes.items():
        db.execute(f"UPDATE customers SET {column} = ? WHERE customer_id = ?", [value, customer_id])
    return get_customer_details.fn(db, customer_id)


TOOLS = [
    verify_identity,
    get_customer_details,
    list_accounts,
    get_balance,
    list_transactions,
    list_payees,
    list_cards,
    transfer_between_accounts,
    pay_payee,
    add_payee,
    freeze_card,
    unfreeze_card,
    dispute_transaction,
    update_contact_details,
    think,
    transfer_to_human_agents,
]
