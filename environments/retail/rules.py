"""Retail policy (policy.md) as executable checks over an execution trace."""

from __future__ import annotations

from typing import Any

from apigen_mt.environments.rules import RuleContext, RuleSet

RULES = RuleSet()

ORDER_TOOLS = (
    "get_order_details",
    "cancel_pending_order",
    "modify_pending_order_address",
    "modify_pending_order_payment",
    "modify_pending_order_items",
    "return_delivered_order_items",
    "exchange_delivered_order_items",
)
MODIFY_TOOLS = (
    "modify_pending_order_address",
    "modify_pending_order_payment",
    "modify_pending_order_items",
)
ITEM_SWAP_TOOLS = ("modify_pending_order_items", "exchange_delivered_order_items")
PAYING_TOOLS = ("modify_pending_order_payment", *ITEM_SWAP_TOOLS, "return_delivered_order_items")
LOOKUP_TOOLS = ("find_user_id_by_email", "find_user_id_by_name_zip")
FREE_TOOLS = (
    *LOOKUP_TOOLS,
    "think",
    "calculate",
    "transfer_to_human_agents",
    "list_all_product_types",
    "get_product_details",
)


def _order(ctx: RuleContext) -> dict[str, Any] | None:
    row = ctx.db.execute(
        "SELECT order_id, user_id, status FROM orders WHERE order_id = ?", [ctx.args["order_id"]]
    ).fetchone()
    return None if row is None else dict(zip(("order_id", "user_id", "status"), row, strict=True))


def _methods(ctx: RuleContext, user_id: str) -> dict[str, dict[str, Any]]:
    rows = ctx.db.execute(
        "SELECT payment_method_id, source, balance FROM payment_methods WHERE user_id = ?",
        [user_id],
    ).fetchall()
    return {r[0]: {"source": r[1], "balance": r[2]} for r in rows}


def _items(ctx: RuleContext) -> list[tuple[str, str, float]]:
    return ctx.db.execute(
        "SELECT item_id, product_id, price FROM order_items WHERE order_id = ? ORDER BY position",
        [ctx.args["order_id"]],
    ).fetchall()


def _owner(ctx: RuleContext) -> str | None:
    """The customer this conversation is about: the task's, else the one identified so far."""
    if ctx.user_id:
        return ctx.user_id
    found = ctx.earlier(*LOOKUP_TOOLS)
    return found[-1].observation if found else None


@RULES.rule("authenticate_first", blueprints=False)
def authenticate_first(ctx: RuleContext) -> str | None:
    """The customer must be identified by email or name + zip before anything else."""
    if ctx.call.name in FREE_TOOLS or ctx.earlier(*LOOKUP_TOOLS):
        return None
    return "the customer was not identified (by email or name + zip) before this call"


@RULES.rule("one_customer_only", tools=(*ORDER_TOOLS, "get_user_details", "modify_user_address"))
def one_customer_only(ctx: RuleContext) -> str | None:
    """Only the identified customer's own profile and orders may be read or changed."""
    owner = _owner(ctx)
    if owner is None:
        return None
    if "user_id" in ctx.args:
        subject = ctx.args["user_id"]
    else:
        order = _order(ctx)
        subject = order and order["user_id"]
    if subject and subject != owner:
        return f"it concerns user {subject!r}, not the customer {owner!r}"
    return None


@RULES.rule("cancel_only_pending", tools=("cancel_pending_order",))
def cancel_only_pending(ctx: RuleContext) -> str | None:
    """Only a 'pending' order can be cancelled."""
    order = _order(ctx)
    if order and order["status"] != "pending":
        oid, status = order["order_id"], order["status"]
        return f"order {oid} is {status!r}; only pending orders can be cancelled"
    return None


@RULES.rule("cancel_reason_allowed", tools=("cancel_pending_order",))
def cancel_reason_allowed(ctx: RuleContext) -> str | None:
    """The cancellation reason is 'no longer needed' or 'ordered by mistake'."""
    if ctx.args.get("reason") not in ("no longer needed", "ordered by mistake"):
        return f"reason {ctx.args.get('reason')!r} is not an allowed cancellation reason"
    return None


@RULES.rule("modify_only_pending", tools=MODIFY_TOOLS)
def modify_only_pending(ctx: RuleContext) -> str | None:
    """Only a 'pending' order can be changed; after an item change nothing more can be."""
    order = _order(ctx)
    if order is None or order["status"] == "pending":
        return None
    if order["status"] == "pending (item modified)":
        return f"items of order {order['order_id']} were already modified; it can no longer change"
    return f"order {order['order_id']} is {order['status']!r}; only pending orders can be modified"


@RULES.rule(
    "exchange_or_return_only_delivered",
    tools=("return_delivered_order_items", "exchange_delivered_order_items"),
)
def exchange_or_return_only_delivered(ctx: RuleContext) -> str | None:
    """Only a 'delivered' order can be returned or exchanged, and only once."""
    order = _order(ctx)
    if order is None or order["status"] == "delivered":
        return None
    once = (
        " (an order is exchanged or returned only once)" if "requested" in order["status"] else ""
    )
    return f"order {order['order_id']} is {order['status']!r}, not delivered{once}"


@RULES.rule("items_in_order", tools=(*ITEM_SWAP_TOOLS, "return_delivered_order_items"))
def items_in_order(ctx: RuleContext) -> str | None:
    """Every item named must be in the order (as many times as it is named)."""
    if _order(ctx) is None:
        return None
    present = [i[0] for i in _items(ctx)]
    missing = sorted(
        {i for i in ctx.args["item_ids"] if ctx.args["item_ids"].count(i) > present.count(i)}
    )
    return f"items {missing} are not in order {ctx.args['order_id']}" if missing else None


@RULES.rule("same_product_new_item", tools=ITEM_SWAP_TOOLS)
def same_product_new_item(ctx: RuleContext) -> str | None:
    """Each new item is an available, different variant of the same product."""
    if _order(ctx) is None:
        return None
    old, new = ctx.args["item_ids"], ctx.args["new_item_ids"]
    if len(old) != len(new):
        return f"{len(old)} items to replace but {len(new)} replacements"
    products = {i[0]: i[1] for i in _items(ctx)}
    for before, after in zip(old, new, strict=True):
        row = ctx.db.execute(
            "SELECT product_id, available FROM variants WHERE item_id = ?", [after]
        ).fetchone()
        if row is None or row[0] != products.get(before):
            return f"new item {after} is not a variant of the product of item {before}"
        if not row[1]:
            return f"new item {after} is not available"
        if after == before:
            return f"new item {after} is the same as the item it replaces"
    return None


@RULES.rule("payment_method_of_customer", tools=PAYING_TOOLS)
def payment_method_of_customer(ctx: RuleContext) -> str | None:
    """Payments and refunds use one of the order owner's own payment methods."""
    order = _order(ctx)
    if order and ctx.args["payment_method_id"] not in _methods(ctx, order["user_id"]):
        return (
            f"payment method {ctx.args['payment_method_id']!r} is not one of {order['user_id']}'s"
        )
    return None


@RULES.rule("refund_to_original_or_gift_card", tools=("return_delivered_order_items",))
def refund_to_original_or_gift_card(ctx: RuleContext) -> str | None:
    """A return is refunded to the original payment method or a gift card."""
    if _order(ctx) is None:
        return None
    pm = ctx.args["payment_method_id"]
    first = ctx.db.execute(
        "SELECT payment_method_id FROM payments WHERE order_id = ? ORDER BY position LIMIT 1",
        [ctx.args["order_id"]],
    ).fetchone()
    if pm.startswith("gift_card") or (first and pm == first[0]):
        return None
    return f"refund to {pm!r}, which is neither the original payment method nor a gift card"


@RULES.rule("new_payment_method_differs", tools=("modify_pending_order_payment",))
def new_payment_method_differs(ctx: RuleContext) -> str | None:
    """A new payment method must differ from the current one."""
    current = ctx.db.execute(
        "SELECT payment_method_id FROM payments WHERE order_id = ? ORDER BY position LIMIT 1",
        [ctx.args["order_id"]],
    ).fetchone()
    if current and current[0] == ctx.args["payment_method_id"]:
        return f"{current[0]!r} is already the order's payment method"
    return None


@RULES.rule("gift_card_covers_amount", tools=("modify_pending_order_payment", *ITEM_SWAP_TOOLS))
def gift_card_covers_amount(ctx: RuleContext) -> str | None:
    """A gift card used to pay must hold enough for the order or the price difference."""
    order = _order(ctx)
    if order is None:
        return None
    method = _methods(ctx, order["user_id"]).get(ctx.args["payment_method_id"])
    if not method or method["source"] != "gift_card":
        return None
    if ctx.call.name == "modify_pending_order_payment":
        row = ctx.db.execute(
            "SELECT amount FROM payments WHERE order_id = ? ORDER BY position LIMIT 1",
            [ctx.args["order_id"]],
        ).fetchone()
        amount = row[0] if row else 0
    else:
        prices = {i[0]: i[2] for i in _items(ctx)}
        new_prices = dict(
            ctx.db.execute(
                f"SELECT item_id, price FROM variants WHERE item_id IN "
                f"({', '.join('?' * len(ctx.args['new_item_ids']))})",
                ctx.args["new_item_ids"],
            )
        )
        amount = round(
            sum(
                new_prices.get(n, 0) - prices.get(o, 0)
                for o, n in zip(ctx.args["item_ids"], ctx.args["new_item_ids"], strict=True)
            ),
            2,
        )
    if method["balance"] < amount:
        return f"gift card balance {method['balance']} does not cover {amount}"
    return None
