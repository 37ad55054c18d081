"""Acme Outfitters' support tools, as the company's engineers wrote them: plain sqlite3.

Nothing here knows about apigen-mt. Docstrings are in three styles (Google, NumPy, reST),
some functions commit, one uses `with conn:`, helpers are private or imported.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from json import dumps  # an imported name: not a tool
from typing import Annotated, Literal, TypedDict

from pydantic import Field

__all__ = ["dumps"]


class LineRef(TypedDict):
    order_id: int
    line_no: int


def _one(conn: sqlite3.Connection, sql: str, params: tuple) -> dict | None:
    cur = conn.execute(sql, params)
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row))


def _order(conn: sqlite3.Connection, order_id: int) -> dict:
    order = _one(conn, 'SELECT * FROM "Order" WHERE OrderId = ?', (order_id,))
    if order is None:
        raise LookupError(f"order {order_id} not found")
    return order


def find_customer_by_email(conn: sqlite3.Connection, email: str) -> dict:
    """Find a customer by their email address.

    Args:
        email: The customer's email address, e.g. "ava.okafor@example.com".

    Returns:
        The customer's record.
    """
    customer = _one(conn, "SELECT * FROM Customer WHERE lower(Email) = lower(?)", (email,))
    if customer is None:
        raise LookupError("no customer with that email")
    return customer


def get_customer_orders(conn: sqlite3.Connection, customer_id: int) -> list[dict]:
    """List a customer's orders, newest first.

    Parameters
    ----------
    customer_id
        The customer's numeric id.
    """
    conn.row_factory = sqlite3.Row  # a habit: rows by name
    rows = conn.execute(
        'SELECT OrderId, Status, PlacedAt, Total FROM "Order" WHERE CustomerId = ? '
        "ORDER BY PlacedAt DESC",
        (customer_id,),
    ).fetchall()
    return [dict(r) for r in rows]


def get_order(conn: sqlite3.Connection, order_id: int) -> dict:
    """Get an order with its lines.

    :param order_id: The order's numeric id.
    """
    order = _order(conn, order_id)
    cur = conn.execute(
        "SELECT LineNo, Sku, Quantity, UnitPrice FROM OrderLine WHERE OrderId = ? ORDER BY LineNo",
        (order_id,),
    )
    order["Lines"] = [dict(zip([d[0] for d in cur.description], r)) for r in cur]
    return order


def get_product(
    conn: sqlite3.Connection, sku: Annotated[str, Field(description="The product's SKU.")]
) -> dict:
    """Get a product's name, unit price and stock."""
    product = _one(conn, "SELECT * FROM Product WHERE Sku = ?", (sku,))
    if product is None:
        raise LookupError(f"unknown SKU {sku}")
    return product


def cancel_order(
    conn: sqlite3.Connection,
    order_id: int,
    reason: Literal["no longer needed", "ordered by mistake"],
) -> str:
    """Cancel a pending order.

    Args:
        order_id: The order to cancel.
        reason: Why the customer cancels.
    """
    order = _order(conn, order_id)
    if order["Status"] != "Pending":
        raise ValueError(f"order {order_id} is {order['Status']}; only Pending orders cancel")
    conn.execute('UPDATE "Order" SET Status = ? WHERE OrderId = ?', ("Cancelled", order_id))
    conn.execute(
        "INSERT INTO AuditLog VALUES (?, 'agent', ?)",
        (date(2026, 11, 30).isoformat(), f"cancel {order_id}: {reason}"),
    )
    conn.commit()  # the company's code commits; the sandbox keeps it to the episode
    return f"Order {order_id} cancelled"


def update_shipping_address(conn: sqlite3.Connection, order_id: int, address: str) -> dict:
    """Change the shipping address of a pending order.

    Args:
        order_id: The order.
        address: The full new address, one line.
    """
    order = _order(conn, order_id)
    if order["Status"] != "Pending":
        raise ValueError("only Pending orders can be re-addressed")
    if not address.strip():
        raise ValueError("the address is empty")
    conn.execute('UPDATE "Order" SET ShippingAddress = ? WHERE OrderId = ?', (address, order_id))
    conn.commit()
    return _order(conn, order_id)


def refund_order_line(conn: sqlite3.Connection, line: LineRef, reason: str = "damaged") -> dict:
    """Refund one line of a delivered order (quantity x unit price).

    Args:
        line: Which line: its order id and line number.
        reason: Why the line is refunded.
    """
    order = _order(conn, line["order_id"])
    if order["Status"] != "Delivered":
        raise ValueError("only lines of Delivered orders can be refunded")
    row = _one(
        conn,
        "SELECT Quantity * UnitPrice AS Amount FROM OrderLine WHERE OrderId = ? AND LineNo = ?",
        (line["order_id"], line["line_no"]),
    )
    if row is None:
        raise LookupError("no such order line")
    done = _one(
        conn,
        "SELECT RefundId FROM Refund WHERE OrderId = ? AND LineNo = ?",
        (line["order_id"], line["line_no"]),
    )
    if done:
        raise ValueError(f"line already refunded (refund {done['RefundId']})")
    with conn:  # commit on success, roll back on error
        cur = conn.execute(
            "INSERT INTO Refund (OrderId, LineNo, Amount, Reason) VALUES (?, ?, ?, ?)",
            (line["order_id"], line["line_no"], round(row["Amount"], 2), reason),
        )
    return {"RefundId": cur.lastrowid, "Amount": round(row["Amount"], 2)}


def add_loyalty_points(conn: sqlite3.Connection, customer_id: int, points: int) -> dict:
    """Add goodwill loyalty points to a customer (50 at most).

    Args:
        customer_id: The customer's numeric id.
        points: How many points, 1 to 50.
    """
    if not 1 <= points <= 50:
        raise ValueError("points must be 1 to 50")
    cur = conn.execute(
        "UPDATE Customer SET LoyaltyPoints = LoyaltyPoints + ? WHERE CustomerId = ?",
        (points, customer_id),
    )
    if cur.rowcount == 0:
        conn.rollback()
        raise LookupError("no such customer")
    return _one(
        conn, "SELECT CustomerId, LoyaltyPoints FROM Customer WHERE CustomerId = ?", (customer_id,)
    )


def summarize(text: str) -> str:
    """A public helper that is not a tool (no connection first)."""
    return text[:80]
