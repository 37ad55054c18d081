"""Banking policy (policy.md) as executable checks over an execution trace."""

from __future__ import annotations

from datetime import datetime, timedelta

from apigen_mt.environments.rules import RuleContext, RuleSet

from .tools import NOW, TODAY

RULES = RuleSet()
DAILY_LIMIT = 2500.0  # outgoing transfers and payments per customer per day
DISPUTE_DAYS = 60
PAYEE_COOLING_HOURS = 24
OPEN_TOOLS = ("verify_identity", "think", "transfer_to_human_agents")
ACCOUNT_ARGS = ("account_id", "from_account_id", "to_account_id")


def _verified(ctx: RuleContext) -> str | None:
    found = ctx.earlier("verify_identity")
    return found[-1].observation if found else None


def _owner_of(ctx: RuleContext, table: str, key: str, value: str) -> str | None:
    if table == "transactions":
        row = ctx.db.execute(
            "SELECT a.customer_id FROM transactions t JOIN accounts a USING (account_id) "
            "WHERE t.transaction_id = ?",
            [value],
        ).fetchone()
    else:
        row = ctx.db.execute(f"SELECT customer_id FROM {table} WHERE {key} = ?", [value]).fetchone()
    return row[0] if row else None


def _subjects(ctx: RuleContext) -> list[str]:
    """The customers whose data this call touches."""
    a, owners = ctx.args, []
    if "customer_id" in a:
        owners.append(a["customer_id"])
    for arg in ACCOUNT_ARGS:
        if arg in a:
            owners.append(_owner_of(ctx, "accounts", "account_id", a[arg]))
    for arg, table in (
        ("card_id", "cards"),
        ("payee_id", "payees"),
        ("transaction_id", "transactions"),
    ):
        if arg in a:
            owners.append(_owner_of(ctx, table, arg, a[arg]))
    return [o for o in owners if o]


@RULES.rule("authenticate_first")
def authenticate_first(ctx: RuleContext) -> str | None:
    """The caller must be verified (email and date of birth) before anything else."""
    if ctx.call.name in OPEN_TOOLS or _verified(ctx):
        return None
    return "the caller was not verified before this call"


@RULES.rule("own_accounts_only")
def own_accounts_only(ctx: RuleContext) -> str | None:
    """Only the verified caller's own profile, accounts, cards, payees and transactions."""
    caller = _verified(ctx) or ctx.user_id
    if caller is None or ctx.call.name in OPEN_TOOLS:
        return None
    others = sorted({s for s in _subjects(ctx) if s != caller})
    return f"it concerns {', '.join(others)}, not the caller {caller}" if others else None


@RULES.rule("verified_as_the_task_customer", tools=("verify_identity",))
def verified_as_the_task_customer(ctx: RuleContext) -> str | None:
    """The identity verified is the customer of the task."""
    if not ctx.user_id:
        return None
    row = ctx.db.execute(
        "SELECT customer_id FROM customers WHERE lower(email) = lower(?) AND date_of_birth = ?",
        [ctx.args["email"].strip(), ctx.args["date_of_birth"].strip()],
    ).fetchone()
    if row and row[0] != ctx.user_id:
        return f"verifies {row[0]}, not the customer {ctx.user_id}"
    return None


@RULES.rule("no_transfers_from_credit", tools=("transfer_between_accounts", "pay_payee"))
def no_transfers_from_credit(ctx: RuleContext) -> str | None:
    """Money moves out of checking or savings only; a credit account can only be paid."""
    source = ctx.args.get("from_account_id") or ctx.args.get("account_id")
    row = ctx.db.execute("SELECT kind FROM accounts WHERE account_id = ?", [source]).fetchone()
    return f"{source} is a credit account" if row and row[0] == "credit" else None


@RULES.rule("daily_transfer_limit", tools=("transfer_between_accounts", "pay_payee"))
def daily_transfer_limit(ctx: RuleContext) -> str | None:
    """Outgoing transfers and payments are limited to $2,500 per customer per day
    (moves between one's own accounts count too)."""
    caller = _verified(ctx) or ctx.user_id
    if caller is None:
        return None
    sent = ctx.db.execute(
        "SELECT coalesce(-sum(t.amount), 0) FROM transactions t JOIN accounts a USING "
        "(account_id) WHERE a.customer_id = ? AND t.amount < 0 AND t.kind IN "
        "('transfer', 'payment') AND substr(t.posted_at, 1, 10) = ?",
        [caller, TODAY],
    ).fetchone()[0]
    amount = float(ctx.args["amount"])
    if sent + amount > DAILY_LIMIT:
        return f"${sent:.2f} already sent today; ${amount:.2f} more exceeds ${DAILY_LIMIT:.0f}"
    return None


@RULES.rule("within_overdraft_limit", tools=("transfer_between_accounts", "pay_payee"))
def within_overdraft_limit(ctx: RuleContext) -> str | None:
    """No account may go below zero by more than its overdraft limit."""
    source = ctx.args.get("from_account_id") or ctx.args.get("account_id")
    row = ctx.db.execute(
        "SELECT balance, overdraft_limit FROM accounts WHERE account_id = ?", [source]
    ).fetchone()
    if row and row[0] + row[1] < float(ctx.args["amount"]):
        return f"{source} has ${row[0] + row[1]:.2f} available"
    return None


@RULES.rule("new_payee_cooling_off", tools=("pay_payee",))
def new_payee_cooling_off(ctx: RuleContext) -> str | None:
    """A payee added less than 24 hours ago cannot be paid yet."""
    row = ctx.db.execute(
        "SELECT added_at FROM payees WHERE payee_id = ?", [ctx.args["payee_id"]]
    ).fetchone()
    if row is None:
        return None
    age = datetime.fromisoformat(NOW) - datetime.fromisoformat(row[0])
    if age < timedelta(hours=PAYEE_COOLING_HOURS):
        return f"payee {ctx.args['payee_id']} was added at {row[0]}, less than 24 hours ago"
    return None


@RULES.rule("dispute_window", tools=("dispute_transaction",))
def dispute_window(ctx: RuleContext) -> str | None:
    """Only card and payment transactions of the last 60 days can be disputed."""
    row = ctx.db.execute(
        "SELECT posted_at, kind FROM transactions WHERE transaction_id = ?",
        [ctx.args["transaction_id"]],
    ).fetchone()
    if row is None:
        return None
    if row[1] not in ("card", "payment"):
        return f"a {row[1]} transaction cannot be disputed"
    age = datetime.fromisoformat(NOW) - datetime.fromisoformat(row[0])
    if age > timedelta(days=DISPUTE_DAYS):
        return f"posted {row[0][:10]}, more than {DISPUTE_DAYS} days ago"
    return None


@RULES.rule("cards_listed_before_unfreeze", tools=("unfreeze_card",))
def cards_listed_before_unfreeze(ctx: RuleContext) -> str | None:
    """A card can be unfrozen only after the customer confirmed its last four digits
    (listing the cards in the same conversation)."""
    return None if ctx.earlier("list_cards") else "the cards were not listed and confirmed first"
