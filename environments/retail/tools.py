"""The 16 retail tools, matching τ-bench's names, arguments, effects and error cases.

All reads and writes use bound parameters. Writes go through `db.execute` (never helpers
that commit) so the executor's savepoint makes each call all-or-nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from sqlite_utils import Database

from apigen_mt.environments.common_tools import calculate, think, transfer_to_human_agents
from apigen_mt.tools import ToolError, as_sent, tool

from .records import (
    add_payment,
    load_orders,
    load_products,
    load_users,
    payment_methods_of,
    set_balance,
    set_order,
    set_user_address,
    swap_item,
)

OrderId = Annotated[
    str, Field(description="The order id, such as '#W0000000', with its leading '#'.")
]
UserId = Annotated[str, Field(description="The user id, such as 'sara_doe_496'.")]
ItemIds = Annotated[
    list[str], Field(description="Item ids such as '1008292230'; an id may repeat.")
]
PaymentMethodId = Annotated[
    str,
    Field(
        description="A payment method id of the user, such as 'gift_card_0000000' or "
        "'credit_card_0000000' (see the user's or the order's details)."
    ),
]
Address1 = Annotated[str, Field(description="First address line, such as '123 Main St'.")]
Address2 = Annotated[str, Field(description="Second address line, such as 'Apt 1', or ''.")]
City = Annotated[str, Field(description="The city, such as 'San Francisco'.")]
State = Annotated[str, Field(description="The state, such as 'CA'.")]
Country = Annotated[str, Field(description="The country, such as 'USA'.")]
Zip = Annotated[str, Field(description="The zip code, such as '12345'.")]


def _order(db: Database, order_id: str) -> dict[str, Any]:
    found = load_orders(db, [order_id])
    if order_id not in found:
        raise ToolError("order not found")
    return found[order_id]


def _price_difference(db: Database, order: dict, item_ids: list[str], new_item_ids: list[str]):
    """Sum of new minus old prices; the same checks, in the same order, as τ-bench."""
    all_item_ids = [item["item_id"] for item in order["items"]]
    for item_id in item_ids:
        if item_ids.count(item_id) > all_item_ids.count(item_id):
            raise ToolError(f"{item_id} not found")
    if len(item_ids) != len(new_item_ids):
        raise ToolError("the number of items to be exchanged should match")
    products = load_products(db, sorted({i["product_id"] for i in order["items"]}))
    diff_price = 0
    for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
        item = next(i for i in order["items"] if i["item_id"] == item_id)
        variants = products[item["product_id"]]["variants"]
        if not (new_item_id in variants and variants[new_item_id]["available"]):
            raise ToolError(f"new item {new_item_id} not found or available")
        diff_price += variants[new_item_id]["price"] - item["price"]
    return diff_price, products


@tool(writes=True)
def cancel_pending_order(
    db: Database,
    order_id: OrderId,
    # Taken as sent and checked after the order, in τ-bench's order of checks.
    reason: as_sent(
        Literal["no longer needed", "ordered by mistake"],
        "Why: 'no longer needed' or 'ordered by mistake'.",
    ),
) -> dict:
    """Cancel a pending order; orders already processed or delivered cannot be cancelled.

    Explain the cancellation and get the user's explicit confirmation (yes) first. The order
    becomes 'cancelled'; payments are refunded, to gift cards at once and to other methods
    within 5 to 7 business days.
    """
    order = _order(db, order_id)
    if order["status"] != "pending":
        raise ToolError("non-pending order cannot be cancelled")
    if reason not in ("no longer needed", "ordered by mistake"):
        raise ToolError("invalid reason")
    for payment in list(order["payment_history"]):
        method_id = payment["payment_method_id"]
        add_payment(db, order, "refund", payment["amount"], method_id)
        if "gift_card" in method_id:  # gift cards are refunded immediately
            method = payment_methods_of(db, order["user_id"])[method_id]
            set_balance(db, method_id, round(method["balance"] + payment["amount"], 2))
    set_order(db, order, status="cancelled", cancel_reason=reason)
    return order


@tool(writes=True)
def exchange_delivered_order_items(
    db: Database,
    order_id: OrderId,
    item_ids: ItemIds,
    new_item_ids: Annotated[
        list[str],
        Field(
            description="Replacement item ids, position by position "
            "of the same product as the item replaced."
        ),
    ],
    payment_method_id: PaymentMethodId,
) -> dict:
    """Exchange items of a delivered order for other options of the same products.

    A delivered order can be exchanged or returned only once. Explain the exchange and get
    the user's explicit confirmation (yes) first. The price difference is paid with, or
    refunded to, the payment method given.
    """
    order = _order(db, order_id)
    if order["status"] != "delivered":
        raise ToolError("non-delivered order cannot be exchanged")
    diff_price, _ = _price_difference(db, order, item_ids, new_item_ids)
    diff_price = round(diff_price, 2)
    methods = payment_methods_of(db, order["user_id"])
    if payment_method_id not in methods:
        raise ToolError("payment method not found")
    method = methods[payment_method_id]
    if method["source"] == "gift_card" and method["balance"] < diff_price:
        raise ToolError("insufficient gift card balance to pay for the price difference")
    set_order(
        db,
        order,
        status="exchange requested",
        exchange_items=sorted(item_ids),
        exchange_new_items=sorted(new_item_ids),
        exchange_payment_method_id=payment_method_id,
        exchange_price_difference=diff_price,
    )
    return order


@tool()
def find_user_id_by_email(
    db: Database,
    email: Annotated[str, Field(description="The user's email, such as 'something@example.com'.")],
) -> str:
    """Find a user id by email (case-insensitive)."""
    for row in db.query("SELECT user_id, email FROM users ORDER BY rowid"):
        if row["email"].lower() == email.lower():
            return row["user_id"]
    raise ToolError("user not found")


@tool()
def find_user_id_by_name_zip(
    db: Database,
    first_name: Annotated[str, Field(description="First name, such as 'John'.")],
    last_name: Annotated[str, Field(description="Last name, such as 'Doe'.")],
    zip: Zip,
) -> str:
    """Find a user id by first name, last name and zip code.

    Prefer finding the user by email; use this when the email is unknown or not found.
    """
    for row in db.query(
        "SELECT user_id, first_name, last_name FROM users WHERE zip = ? ORDER BY rowid", [zip]
    ):
        if (
            row["first_name"].lower() == first_name.lower()
            and row["last_name"].lower() == last_name.lower()
        ):
            return row["user_id"]
    raise ToolError("user not found")


@tool()
def get_order_details(db: Database, order_id: OrderId) -> dict:
    """Get the status and details of an order."""
    return _order(db, order_id)


@tool()
def get_product_details(
    db: Database,
    product_id: Annotated[
        str, Field(description="The product id, such as '6086499569' (not an item id).")
    ],
) -> dict:
    """Get the inventory details of a product: every variant with options, price, availability."""
    found = load_products(db, [product_id])
    if product_id not in found:
        raise ToolError("product not found")
    return found[product_id]


@tool()
def get_user_details(db: Database, user_id: UserId) -> dict:
    """Get the details of a user: name, address, email, payment methods and order ids."""
    found = load_users(db, [user_id])
    if user_id not in found:
        raise ToolError("user not found")
    return found[user_id]


@tool()
def list_all_product_types(db: Database) -> dict:
    """List the name and product id of every product type in the store."""
    pairs = {
        r["name"]: r["product_id"]
        for r in db.query("SELECT name, product_id FROM products ORDER BY rowid")
    }
    return dict(sorted(pairs.items()))


@tool(writes=True)
def modify_pending_order_address(
    db: Database,
    order_id: OrderId,
    address1: Address1,
    address2: Address2,
    city: City,
    state: State,
    country: Country,
    zip: Zip,
) -> dict:
    """Change the shipping address of a pending order.

    Explain the change and get the user's explicit confirmation (yes) first.
    """
    order = _order(db, order_id)
    if order["status"] != "pending":
        raise ToolError("non-pending order cannot be modified")
    address = {
        "address1": address1,
        "address2": address2,
        "city": city,
        "state": state,
        "country": country,
        "zip": zip,
    }
    set_order(db, order, **address)
    order["address"] = {k: order.pop(k) for k in address}
    return order


@tool(writes=True)
def modify_pending_order_items(
    db: Database,
    order_id: OrderId,
    item_ids: ItemIds,
    new_item_ids: Annotated[
        list[str],
        Field(
            description="Replacement item ids, position by position, "
            "of the same product as the item replaced."
        ),
    ],
    payment_method_id: PaymentMethodId,
) -> dict:
    """Swap items of a pending order for other options of the same products.

    Allowed once per order. Explain the change and get the user's explicit confirmation
    (yes) first. The price difference is paid with, or refunded to, the payment method given.
    """
    order = _order(db, order_id)
    if order["status"] != "pending":
        raise ToolError("non-pending order cannot be modified")
    diff_price, products = _price_difference(db, order, item_ids, new_item_ids)
    methods = payment_methods_of(db, order["user_id"])
    if payment_method_id not in methods:
        raise ToolError("payment method not found")
    method = methods[payment_method_id]
    if method["source"] == "gift_card" and method["balance"] < diff_price:
        raise ToolError("insufficient gift card balance to pay for the new item")
    add_payment(
        db, order, "payment" if diff_price > 0 else "refund", abs(diff_price), payment_method_id
    )
    if method["source"] == "gift_card":
        set_balance(db, payment_method_id, round(method["balance"] - diff_price, 2))
    for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
        item = next(i for i in order["items"] if i["item_id"] == item_id)
        swap_item(
            db, order, item_id, new_item_id, products[item["product_id"]]["variants"][new_item_id]
        )
    set_order(db, order, status="pending (item modified)")
    return order


@tool(writes=True)
def modify_pending_order_payment(
    db: Database, order_id: OrderId, payment_method_id: PaymentMethodId
) -> dict:
    """Change the payment method of a pending order.

    Explain the change and get the user's explicit confirmation (yes) first.
    """
    order = _order(db, order_id)
    if order["status"] != "pending":
        raise ToolError("non-pending order cannot be modified")
    methods = payment_methods_of(db, order["user_id"])
    if payment_method_id not in methods:
        raise ToolError("payment method not found")
    history = order["payment_history"]
    if len(history) > 1 or history[0]["transaction_type"] != "payment":
        raise ToolError("there should be exactly one payment for a pending order")
    old_id = history[0]["payment_method_id"]
    if old_id == payment_method_id:
        raise ToolError("the new payment method should be different from the current one")
    amount = history[0]["amount"]
    method = methods[payment_method_id]
    if method["source"] == "gift_card" and method["balance"] < amount:
        raise ToolError("insufficient gift card balance to pay for the order")
    add_payment(db, order, "payment", amount, payment_method_id)
    add_payment(db, order, "refund", amount, old_id)
    if method["source"] == "gift_card":
        set_balance(db, payment_method_id, round(method["balance"] - amount, 2))
    if "gift_card" in old_id:
        set_balance(db, old_id, round(methods[old_id]["balance"] + amount, 2))
    return order


@tool(writes=True)
def modify_user_address(
    db: Database,
    user_id: UserId,
    address1: Address1,
    address2: Address2,
    city: City,
    state: State,
    country: Country,
    zip: Zip,
) -> dict:
    """Change a user's default address.

    Explain the change and get the user's explicit confirmation (yes) first.
    """
    found = load_users(db, [user_id])
    if user_id not in found:
        raise ToolError("user not found")
    address = {
        "address1": address1,
        "address2": address2,
        "city": city,
        "state": state,
        "country": country,
        "zip": zip,
    }
    set_user_address(db, user_id, address)
    found[user_id]["address"] = address
    return found[user_id]


@tool(writes=True)
def return_delivered_order_items(
    db: Database, order_id: OrderId, item_ids: ItemIds, payment_method_id: PaymentMethodId
) -> dict:
    """Return items of a delivered order; the order becomes 'return requested'.

    The refund goes to the original payment method or to a gift card of the user. A
    delivered order can be exchanged or returned only once. Explain the return and get the
    user's explicit confirmation (yes) first; the user then gets return instructions by email.
    """
    order = _order(db, order_id)
    if order["status"] != "delivered":
        raise ToolError("non-delivered order cannot be returned")
    if payment_method_id not in payment_methods_of(db, order["user_id"]):
        raise ToolError("payment method not found")
    if (
        "gift_card" not in payment_method_id
        and payment_method_id != order["payment_history"][0]["payment_method_id"]
    ):
        raise ToolError(
            "payment method should be either the original payment method or a gift card"
        )
    all_item_ids = [item["item_id"] for item in order["items"]]
    for item_id in item_ids:
        if item_ids.count(item_id) > all_item_ids.count(item_id):
            raise ToolError("some item not found")
    set_order(
        db,
        order,
        status="return requested",
        return_items=sorted(item_ids),
        return_payment_method_id=payment_method_id,
    )
    return order


TOOLS = [
    calculate,
    cancel_pending_order,
    exchange_delivered_order_items,
    find_user_id_by_email,
    find_user_id_by_name_zip,
    get_order_details,
    get_product_details,
    get_user_details,
    list_all_product_types,
    modify_pending_order_address,
    modify_pending_order_items,
    modify_pending_order_payment,
    modify_user_address,
    return_delivered_order_items,
    think,
    transfer_to_human_agents,
]
