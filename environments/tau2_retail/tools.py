"""τ²'s 15 retail tools over the v1 tables: τ²'s checks, error texts and quirks.

Where τ² differs from τ-bench v1 (each marked "τ²:" below): errors are its exception texts
("Order not found"); addresses go through a pydantic model (its validation errors are the
observation); address and payment changes accept "pending (item modified)"; an item swap
stores the *last* new variant's price and options on every swapped item; an item may not be
swapped for itself; `get_item_details` is new and `think` is gone. Arguments are taken as
sent, as τ²'s tools run plain Python on whatever JSON arrives.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlite_utils import Database

from apigen_mt.environments.calculator import evaluate
from apigen_mt.environments.common_tools import transfer_to_human_agents
from apigen_mt.environments.retail.records import (
    add_payment,
    load_products,
    set_balance,
    set_order,
    set_user_address,
    swap_item,
)
from apigen_mt.environments.tau2.data import as_float
from apigen_mt.tools import ToolError, as_sent, tool

from ..tau2.lookup import looked_up
from .records import orders, users

OrderId = as_sent(str, "The order id, such as '#W0000000', with its leading '#'.")
UserId = as_sent(str, "The user id, such as 'sara_doe_496'.")
ItemIds = as_sent(list[str], "Item ids such as '1008292230'; an id may repeat.")
NewItemIds = as_sent(
    list[str],
    "Replacement item ids, position by position, each of the same product as the item it "
    "replaces; an id may repeat.",
)
PaymentMethodId = as_sent(
    str,
    "A payment method id of the user, such as 'gift_card_0000000' or 'credit_card_0000000' "
    "(see the user's or the order's details).",
)
Address1 = as_sent(str, "First address line, such as '123 Main St'.")
Address2 = as_sent(str, "Second address line, such as 'Apt 1', or ''.")
City = as_sent(str, "The city, such as 'San Francisco'.")
State = as_sent(str, "The state, such as 'CA'.")
Country = as_sent(str, "The country, such as 'USA'.")
Zip = as_sent(str, "The zip code, such as '12345'.")
ProductId = as_sent(str, "The product id, such as '6086499569' (not an item id).")
ItemId = as_sent(str, "The item id, such as '6086499569' (not a product id).")


class UserAddress(BaseModel):
    """τ²'s address model: its validation error is what a caller sees for a bad address."""

    address1: str
    address2: str
    city: str
    country: str
    state: str
    zip: str


def _address(**fields: Any) -> dict[str, str]:
    try:
        return UserAddress(**fields).model_dump()
    except ValidationError as exc:
        raise ToolError(str(exc)) from None


def _order(db: Database, order_id: Any) -> dict[str, Any]:
    return looked_up(lambda k: orders(db, [k]).get(k), order_id, "Order not found")


def _user(db: Database, user_id: Any) -> dict[str, Any]:
    return looked_up(lambda k: users(db, [k]).get(k), user_id, "User not found")


def _hashable(key: Any) -> None:
    """τ² looks ids up in dicts: an unhashable id (a list) fails as it does there."""
    hash(key)


def _payment_method(db: Database, user_id: str, payment_method_id: Any) -> dict[str, Any]:
    methods = _user(db, user_id)["payment_methods"]
    _hashable(payment_method_id)
    if payment_method_id not in methods:
        raise ToolError("Payment method not found")
    return methods[payment_method_id]


def _variant(db: Database, product_id: str, variant_id: Any) -> dict[str, Any]:
    products = load_products(db, [product_id])
    if product_id not in products:
        raise ToolError("Product not found")
    _hashable(variant_id)
    variants = products[product_id]["variants"]
    if variant_id not in variants:
        raise ToolError("Variant not found")
    return variants[variant_id]


def _check_counts(order: dict, item_ids: list, message: str) -> None:
    all_item_ids = [item["item_id"] for item in order["items"]]
    for item_id in item_ids:
        if item_ids.count(item_id) > all_item_ids.count(item_id):
            raise ToolError(message.format(item_id=item_id))


@tool()
def calculate(
    db: Database,
    expression: as_sent(
        str, "An arithmetic expression such as '2 + 2': numbers, + - * /, parentheses and spaces."
    ),
) -> str:
    """Calculate the result of an arithmetic expression, rounded to 2 decimals."""
    if not all(char in "0123456789+-*/(). " for char in expression):
        raise ToolError("Invalid characters in expression")  # τ²: capitalised
    return evaluate(expression)


@tool(writes=True)
def cancel_pending_order(
    db: Database,
    order_id: OrderId,
    reason: as_sent(str, "Why: 'no longer needed' or 'ordered by mistake'."),
) -> dict:
    """Cancel a pending order; orders already processed or delivered cannot be cancelled.

    Explain the cancellation and get the user's explicit confirmation (yes) first. The order
    becomes 'cancelled' and its payments are refunded: to gift cards at once, to other
    methods within 5 to 7 business days. Returns the order after the cancellation.
    """
    order = _order(db, order_id)
    if order["status"] != "pending":
        raise ToolError("Non-pending order cannot be cancelled")
    if reason not in {"no longer needed", "ordered by mistake"}:
        raise ToolError("Invalid reason")
    for payment in list(order["payment_history"]):
        method_id = payment["payment_method_id"]
        method = _payment_method(db, order["user_id"], method_id)
        add_payment(db, order, "refund", as_float(payment["amount"]), method_id)
        if method["source"] == "gift_card":  # refunded at once
            set_balance(db, method_id, round(method["balance"] + payment["amount"], 2))
    set_order(db, order, status="cancelled", cancel_reason=reason)
    return order


def _price_difference(
    db: Database, order: dict, item_ids: list, new_item_ids: list, *, modify: bool
):
    """New minus old prices, with τ²'s checks in τ²'s order; the last variant looked up
    (τ²'s item swap stores it on every swapped item)."""
    if len(item_ids) != len(new_item_ids):
        # τ²: the exchange's text ends with a period, the modification's does not
        raise ToolError(
            "The number of items to be exchanged should match" + ("" if modify else ".")
        )
    diff, variant = 0, None
    for item_id, new_item_id in zip(item_ids, new_item_ids, strict=False):
        if modify and item_id == new_item_id:
            raise ToolError("The new item id should be different from the old item id")
        item = next((i for i in order["items"] if i["item_id"] == item_id), None)
        if item is None:
            raise ToolError(f"Item {item_id} not found")
        variant = _variant(db, item["product_id"], new_item_id)
        if not variant["available"]:
            raise ToolError(f"New item {new_item_id} not found or available")
        diff += variant["price"] - item["price"]
    return diff, variant


@tool(writes=True)
def exchange_delivered_order_items(
    db: Database,
    order_id: OrderId,
    item_ids: ItemIds,
    new_item_ids: NewItemIds,
    payment_method_id: PaymentMethodId,
) -> dict:
    """Exchange items of a delivered order for other options of the same products.

    A delivered order can be exchanged or returned only once. Explain the exchange and get
    the user's explicit confirmation (yes) first. The price difference is paid with, or
    refunded to, the payment method given. Returns the order after the exchange.
    """
    order = _order(db, order_id)
    if order["status"] != "delivered":
        raise ToolError("Non-delivered order cannot be exchanged")
    _check_counts(order, item_ids, "Number of {item_id} not found.")
    diff, _ = _price_difference(db, order, item_ids, new_item_ids, modify=False)
    diff = round(diff, 2)
    method = _payment_method(db, order["user_id"], payment_method_id)
    if method["source"] == "gift_card" and method["balance"] < diff:
        raise ToolError("Insufficient gift card balance to pay for the price difference")
    set_order(
        db,
        order,
        status="exchange requested",
        exchange_items=sorted(item_ids),
        exchange_new_items=sorted(new_item_ids),
        exchange_payment_method_id=payment_method_id,
        exchange_price_difference=diff,
    )
    return order


@tool()
def find_user_id_by_name_zip(
    db: Database,
    first_name: as_sent(str, "First name, such as 'John'."),
    last_name: as_sent(str, "Last name, such as 'Doe'."),
    zip: Zip,
) -> str:
    """Find a user id by first name, last name and zip code.

    Prefer finding the user by email; use this when the email is unknown or not found.
    """
    for row in db.query("SELECT user_id, first_name, last_name, zip FROM users ORDER BY rowid"):
        if (
            row["first_name"].lower() == first_name.lower()
            and row["last_name"].lower() == last_name.lower()
            and row["zip"] == zip
        ):
            return row["user_id"]
    raise ToolError("User not found")


@tool()
def find_user_id_by_email(
    db: Database, email: as_sent(str, "The user's email, such as 'something@example.com'.")
) -> str:
    """Find a user id by email (case-insensitive)."""
    for row in db.query("SELECT user_id, email FROM users ORDER BY rowid"):
        if row["email"].lower() == email.lower():
            return row["user_id"]
    raise ToolError("User not found")


@tool()
def get_order_details(db: Database, order_id: OrderId) -> dict:
    """Get the status and details of an order."""
    return _order(db, order_id)


@tool()
def get_product_details(db: Database, product_id: ProductId) -> dict:
    """Get the inventory details of a product: every variant with options, price, availability."""
    read = lambda k: load_products(db, [k]).get(k)  # noqa: E731
    return looked_up(read, product_id, "Product not found")


@tool()
def get_item_details(db: Database, item_id: ItemId) -> dict:
    """Get the inventory details of an item (a variant): options, price, availability."""
    _hashable(item_id)  # τ²: new in τ²
    for product in load_products(db).values():
        if item_id in product["variants"]:
            return product["variants"][item_id]
    raise ToolError("Item not found")


@tool()
def get_user_details(db: Database, user_id: UserId) -> dict:
    """Get the details of a user: name, address, email, payment methods and order ids."""
    return _user(db, user_id)


@tool()
def list_all_product_types(db: Database) -> str:
    """List the name and product id of every product type (50) in the store, by name."""
    rows = db.query("SELECT name, product_id FROM products ORDER BY rowid")
    return json.dumps({r["name"]: r["product_id"] for r in rows}, sort_keys=True)


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
    if "pending" not in order["status"]:  # τ²: "pending (item modified)" is pending too
        raise ToolError("Non-pending order cannot be modified")
    address = _address(
        address1=address1, address2=address2, city=city, state=state, country=country, zip=zip
    )
    set_order(db, order, **address)
    order["address"] = {k: order.pop(k) for k in address}
    return order


@tool(writes=True)
def modify_pending_order_items(
    db: Database,
    order_id: OrderId,
    item_ids: ItemIds,
    new_item_ids: NewItemIds,
    payment_method_id: PaymentMethodId,
) -> dict:
    """Swap items of a pending order for other options of the same products.

    Allowed once per order. Explain the change and get the user's explicit confirmation
    (yes) first. The price difference is paid with, or refunded to, the payment method given.
    """
    order = _order(db, order_id)
    if order["status"] != "pending":
        raise ToolError("Non-pending order cannot be modified")
    _check_counts(order, item_ids, "{item_id} not found")
    diff, variant = _price_difference(db, order, item_ids, new_item_ids, modify=True)
    method = _payment_method(db, order["user_id"], payment_method_id)
    if method["source"] == "gift_card" and method["balance"] < diff:
        raise ToolError("Insufficient gift card balance to pay for the new item")
    # τ²: a new payment is an OrderPayment, whose `amount: float` makes a 0 refund 0.0
    kind = "payment" if diff > 0 else "refund"
    add_payment(db, order, kind, as_float(abs(diff)), payment_method_id)
    if method["source"] == "gift_card":
        set_balance(db, payment_method_id, round(method["balance"] - diff, 2))
    for item_id, new_item_id in zip(item_ids, new_item_ids, strict=False):
        # τ²'s quirk: every swapped item gets the price and options of the *last* new
        # variant looked up, not of its own.
        swap_item(db, order, item_id, new_item_id, variant)
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
    if "pending" not in order["status"]:  # τ²: "pending (item modified)" is pending too
        raise ToolError("Non-pending order cannot be modified")
    method = _payment_method(db, order["user_id"], payment_method_id)
    history = order["payment_history"]
    if len(history) != 1 or history[0]["transaction_type"] != "payment":
        raise ToolError("There should be exactly one payment for a pending order")
    old_id = history[0]["payment_method_id"]
    if old_id == payment_method_id:
        raise ToolError("The new payment method should be different from the current one")
    amount = history[0]["amount"]
    if method["source"] == "gift_card" and method["balance"] < amount:
        raise ToolError("Insufficient gift card balance to pay for the order")
    add_payment(db, order, "payment", as_float(amount), payment_method_id)
    add_payment(db, order, "refund", as_float(amount), old_id)
    if method["source"] == "gift_card":
        set_balance(db, payment_method_id, round(method["balance"] - amount, 2))
    old = _payment_method(db, order["user_id"], old_id)  # read after the charge, as τ² does
    if old["source"] == "gift_card":
        set_balance(db, old_id, round(old["balance"] + amount, 2))
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
    user = _user(db, user_id)
    address = _address(
        address1=address1, address2=address2, city=city, state=state, country=country, zip=zip
    )
    set_user_address(db, user_id, address)
    user["address"] = address
    return user


@tool(writes=True)
def return_delivered_order_items(
    db: Database, order_id: OrderId, item_ids: ItemIds, payment_method_id: PaymentMethodId
) -> dict:
    """Return items of a delivered order; the order becomes 'return requested'.

    The refund goes to the original payment method or to a gift card of the user. Explain
    the return and get the user's explicit confirmation (yes) first; the user then gets
    return instructions by email.
    """
    order = _order(db, order_id)
    if order["status"] != "delivered":
        raise ToolError("Non-delivered order cannot be returned")
    method = _payment_method(db, order["user_id"], payment_method_id)
    if (
        method["source"] != "gift_card"
        and payment_method_id != order["payment_history"][0]["payment_method_id"]
    ):
        raise ToolError("Payment method should be the original payment method")
    _check_counts(order, item_ids, "Some item not found")
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
    find_user_id_by_name_zip,
    find_user_id_by_email,
    get_order_details,
    get_product_details,
    get_item_details,
    get_user_details,
    list_all_product_types,
    modify_pending_order_address,
    modify_pending_order_items,
    modify_pending_order_payment,
    modify_user_address,
    return_delivered_order_items,
    transfer_to_human_agents,
]
