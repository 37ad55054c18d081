"""Retail support tools over the converted database, written from τ-bench's tool
descriptions (tools.json) as a user would write them: plain sqlite3, no apigen-mt."""

import json
import sqlite3
from typing import Literal


def _get(conn, table, key_col, key):
    row = conn.execute(f"SELECT doc FROM {table} WHERE {key_col} = ?", (key,)).fetchone()
    return None if row is None else json.loads(row[0])


def _order(conn, order_id):
    order = _get(conn, "orders", "order_id", order_id)
    if order is None:
        raise ValueError("order not found")
    return order


def _save_order(conn, order):
    conn.execute(
        "UPDATE orders SET status = ?, doc = ? WHERE order_id = ?",
        (order["status"], json.dumps(order), order["order_id"]),
    )


def _save_user(conn, user_id, user):
    conn.execute(
        "UPDATE users SET zip = ?, doc = ? WHERE user_id = ?",
        (user["address"]["zip"], json.dumps(user), user_id),
    )


def _price_difference(conn, order, item_ids, new_item_ids):
    all_item_ids = [item["item_id"] for item in order["items"]]
    for item_id in item_ids:
        if item_ids.count(item_id) > all_item_ids.count(item_id):
            raise ValueError(f"{item_id} not found")
    if len(item_ids) != len(new_item_ids):
        raise ValueError("the number of items to be exchanged should match")
    diff = 0
    for item_id, new_item_id in zip(item_ids, new_item_ids):
        item = [i for i in order["items"] if i["item_id"] == item_id][0]
        variants = _get(conn, "products", "product_id", item["product_id"])["variants"]
        if new_item_id not in variants or not variants[new_item_id]["available"]:
            raise ValueError(f"new item {new_item_id} not found or available")
        diff += variants[new_item_id]["price"] - item["price"]
    return diff  # τ-bench rounds it for exchanges, not for modifications


def calculate(conn: sqlite3.Connection, expression: str) -> str:
    """Calculate the result of a mathematical expression.

    Args:
        expression: The mathematical expression to calculate, such as '2 + 2'.
    """
    if not all(c in "0123456789+-*/(). " for c in expression):
        raise ValueError("invalid characters in expression")
    return str(round(float(eval(expression, {"__builtins__": None}, {})), 2))


def think(conn: sqlite3.Connection, thought: str) -> str:
    """Use the tool to think about something; it changes nothing.

    Args:
        thought: A thought to think about.
    """
    return ""


def transfer_to_human_agents(conn: sqlite3.Connection, summary: str) -> str:
    """Transfer the user to a human agent, with a summary of the user's issue.

    Args:
        summary: A summary of the user's issue.
    """
    return "Transfer successful"


def find_user_id_by_email(conn: sqlite3.Connection, email: str) -> str:
    """Find user id by email.

    Args:
        email: The email of the user, such as 'something@example.com'.
    """
    for user_id, known in conn.execute("SELECT user_id, email FROM users ORDER BY rowid"):
        if known.lower() == email.lower():
            return user_id
    raise LookupError("user not found")


def find_user_id_by_name_zip(
    conn: sqlite3.Connection, first_name: str, last_name: str, zip: str
) -> str:
    """Find user id by first name, last name, and zip code.

    Args:
        first_name: The first name of the customer, such as 'John'.
        last_name: The last name of the customer, such as 'Doe'.
        zip: The zip code of the customer, such as '12345'.
    """
    rows = conn.execute("SELECT user_id, first_name, last_name, zip FROM users ORDER BY rowid")
    for user_id, first, last, code in rows:
        if (
            first.lower() == first_name.lower()
            and last.lower() == last_name.lower()
            and code == zip
        ):
            return user_id
    raise LookupError("user not found")


def get_order_details(conn: sqlite3.Connection, order_id: str) -> dict:
    """Get the status and details of an order.

    Args:
        order_id: The order id, such as '#W0000000'. Be careful there is a '#' symbol.
    """
    return _order(conn, order_id)


def get_product_details(conn: sqlite3.Connection, product_id: str) -> dict:
    """Get the inventory details of a product.

    Args:
        product_id: The product id, such as '6086499569'. Be careful the product id is different from the item id.
    """
    product = _get(conn, "products", "product_id", product_id)
    if product is None:
        raise LookupError("product not found")
    return product


def get_user_details(conn: sqlite3.Connection, user_id: str) -> dict:
    """Get the details of a user, including their orders.

    Args:
        user_id: The user id, such as 'sara_doe_496'.
    """
    user = _get(conn, "users", "user_id", user_id)
    if user is None:
        raise LookupError("user not found")
    return user


def list_all_product_types(conn: sqlite3.Connection) -> dict:
    """List the name and product id of all product types."""
    names = {
        name: pid
        for pid, name in conn.execute("SELECT product_id, name FROM products ORDER BY rowid")
    }
    return dict(sorted(names.items()))


def cancel_pending_order(
    conn: sqlite3.Connection,
    order_id: str,
    reason: Literal["no longer needed", "ordered by mistake"],
) -> dict:
    """Cancel a pending order. If the order is already processed or delivered, it cannot be cancelled.

    Args:
        order_id: The order id, such as '#W0000000'.
        reason: The reason for cancellation, 'no longer needed' or 'ordered by mistake'.
    """
    order = _order(conn, order_id)
    if order["status"] != "pending":
        raise ValueError("non-pending order cannot be cancelled")
    user = _get(conn, "users", "user_id", order["user_id"])
    refunds = []
    for payment in order["payment_history"]:
        refunds.append(
            {
                "transaction_type": "refund",
                "amount": payment["amount"],
                "payment_method_id": payment["payment_method_id"],
            }
        )
        if "gift_card" in payment["payment_method_id"]:
            method = user["payment_methods"][payment["payment_method_id"]]
            method["balance"] = round(method["balance"] + payment["amount"], 2)
    order["status"] = "cancelled"
    order["cancel_reason"] = reason
    order["payment_history"].extend(refunds)
    _save_order(conn, order)
    _save_user(conn, order["user_id"], user)
    conn.commit()
    return order


def exchange_delivered_order_items(
    conn: sqlite3.Connection,
    order_id: str,
    item_ids: list[str],
    new_item_ids: list[str],
    payment_method_id: str,
) -> dict:
    """Exchange items in a delivered order to new items of the same product type.

    Args:
        order_id: The order id, such as '#W0000000'.
        item_ids: The item ids to be exchanged, such as ['1008292230'].
        new_item_ids: The item ids to be exchanged for, position by position.
        payment_method_id: The payment method id to pay or receive refund for the item price difference.
    """
    order = _order(conn, order_id)
    if order["status"] != "delivered":
        raise ValueError("non-delivered order cannot be exchanged")
    diff = round(_price_difference(conn, order, item_ids, new_item_ids), 2)
    user = _get(conn, "users", "user_id", order["user_id"])
    if payment_method_id not in user["payment_methods"]:
        raise ValueError("payment method not found")
    method = user["payment_methods"][payment_method_id]
    if method["source"] == "gift_card" and method["balance"] < diff:
        raise ValueError("insufficient gift card balance to pay for the price difference")
    order["status"] = "exchange requested"
    order["exchange_items"] = sorted(item_ids)
    order["exchange_new_items"] = sorted(new_item_ids)
    order["exchange_payment_method_id"] = payment_method_id
    order["exchange_price_difference"] = diff
    _save_order(conn, order)
    return order


def modify_pending_order_address(
    conn: sqlite3.Connection,
    order_id: str,
    address1: str,
    address2: str,
    city: str,
    state: str,
    country: str,
    zip: str,
) -> dict:
    """Modify the shipping address of a pending order.

    Args:
        order_id: The order id, such as '#W0000000'.
        address1: The first line of the address, such as '123 Main St'.
        address2: The second line of the address, such as 'Apt 1' or ''.
        city: The city, such as 'San Francisco'.
        state: The state, such as 'CA'.
        country: The country, such as 'USA'.
        zip: The zip code, such as '12345'.
    """
    order = _order(conn, order_id)
    if order["status"] != "pending":
        raise ValueError("non-pending order cannot be modified")
    order["address"] = {
        "address1": address1,
        "address2": address2,
        "city": city,
        "state": state,
        "country": country,
        "zip": zip,
    }
    _save_order(conn, order)
    return order


def modify_pending_order_items(
    conn: sqlite3.Connection,
    order_id: str,
    item_ids: list[str],
    new_item_ids: list[str],
    payment_method_id: str,
) -> dict:
    """Modify items in a pending order to new items of the same product type.

    Args:
        order_id: The order id, such as '#W0000000'.
        item_ids: The item ids to be modified.
        new_item_ids: The item ids to be modified for, position by position.
        payment_method_id: The payment method id to pay or receive refund for the item price difference.
    """
    order = _order(conn, order_id)
    if order["status"] != "pending":
        raise ValueError("non-pending order cannot be modified")
    diff = _price_difference(conn, order, item_ids, new_item_ids)
    user = _get(conn, "users", "user_id", order["user_id"])
    if payment_method_id not in user["payment_methods"]:
        raise ValueError("payment method not found")
    method = user["payment_methods"][payment_method_id]
    if method["source"] == "gift_card" and method["balance"] < diff:
        raise ValueError("insufficient gift card balance to pay for the new item")
    order["payment_history"].append(
        {
            "transaction_type": "payment" if diff > 0 else "refund",
            "amount": abs(diff),
            "payment_method_id": payment_method_id,
        }
    )
    if method["source"] == "gift_card":
        method["balance"] = round(method["balance"] - diff, 2)
    for item_id, new_item_id in zip(item_ids, new_item_ids):
        item = [i for i in order["items"] if i["item_id"] == item_id][0]
        variant = _get(conn, "products", "product_id", item["product_id"])["variants"][new_item_id]
        item["item_id"] = new_item_id
        item["price"] = variant["price"]
        item["options"] = variant["options"]
    order["status"] = "pending (item modified)"
    _save_order(conn, order)
    _save_user(conn, order["user_id"], user)
    return order


def modify_pending_order_payment(
    conn: sqlite3.Connection, order_id: str, payment_method_id: str
) -> dict:
    """Modify the payment method of a pending order.

    Args:
        order_id: The order id, such as '#W0000000'.
        payment_method_id: The payment method id to pay or receive refund for the item price difference.
    """
    order = _order(conn, order_id)
    if order["status"] != "pending":
        raise ValueError("non-pending order cannot be modified")
    user = _get(conn, "users", "user_id", order["user_id"])
    if payment_method_id not in user["payment_methods"]:
        raise ValueError("payment method not found")
    history = order["payment_history"]
    if len(history) > 1 or history[0]["transaction_type"] != "payment":
        raise ValueError("there should be exactly one payment for a pending order")
    old = history[0]["payment_method_id"]
    if old == payment_method_id:
        raise ValueError("the new payment method should be different from the current one")
    amount = history[0]["amount"]
    method = user["payment_methods"][payment_method_id]
    if method["source"] == "gift_card" and method["balance"] < amount:
        raise ValueError("insufficient gift card balance to pay for the order")
    history.append(
        {"transaction_type": "payment", "amount": amount, "payment_method_id": payment_method_id}
    )
    history.append({"transaction_type": "refund", "amount": amount, "payment_method_id": old})
    if method["source"] == "gift_card":
        method["balance"] = round(method["balance"] - amount, 2)
    if "gift_card" in old:
        old_method = user["payment_methods"][old]
        old_method["balance"] = round(old_method["balance"] + amount, 2)
    _save_order(conn, order)
    _save_user(conn, order["user_id"], user)
    return order


def modify_user_address(
    conn: sqlite3.Connection,
    user_id: str,
    address1: str,
    address2: str,
    city: str,
    state: str,
    country: str,
    zip: str,
) -> dict:
    """Modify the default address of a user.

    Args:
        user_id: The user id, such as 'sara_doe_496'.
        address1: The first line of the address, such as '123 Main St'.
        address2: The second line of the address, such as 'Apt 1' or ''.
        city: The city, such as 'San Francisco'.
        state: The state, such as 'CA'.
        country: The country, such as 'USA'.
        zip: The zip code, such as '12345'.
    """
    user = _get(conn, "users", "user_id", user_id)
    if user is None:
        raise LookupError("user not found")
    user["address"] = {
        "address1": address1,
        "address2": address2,
        "city": city,
        "state": state,
        "country": country,
        "zip": zip,
    }
    _save_user(conn, user_id, user)
    return user


def return_delivered_order_items(
    conn: sqlite3.Connection, order_id: str, item_ids: list[str], payment_method_id: str
) -> dict:
    """Return some items of a delivered order. The order status will be changed to 'return requested'.

    Args:
        order_id: The order id, such as '#W0000000'.
        item_ids: The item ids to be returned, such as ['1008292230'].
        payment_method_id: The payment method id to receive the refund: the original one or a gift card.
    """
    order = _order(conn, order_id)
    if order["status"] != "delivered":
        raise ValueError("non-delivered order cannot be returned")
    user = _get(conn, "users", "user_id", order["user_id"])
    if payment_method_id not in user["payment_methods"]:
        raise ValueError("payment method not found")
    if (
        "gift_card" not in payment_method_id
        and payment_method_id != order["payment_history"][0]["payment_method_id"]
    ):
        raise ValueError(
            "payment method should be either the original payment method or a gift card"
        )
    all_item_ids = [item["item_id"] for item in order["items"]]
    for item_id in item_ids:
        if item_ids.count(item_id) > all_item_ids.count(item_id):
            raise ValueError("some item not found")
    order["status"] = "return requested"
    order["return_items"] = sorted(item_ids)
    order["return_payment_method_id"] = payment_method_id
    _save_order(conn, order)
    return order
