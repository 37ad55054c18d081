"""Acme Outfitters' tools behind an MCP server, written with the official SDK (mcp 2.x).

The server keeps no state of its own: each call opens the database named by WORLD_DB,
runs the company's plain function and closes it (committed writes stay in the file).
Refusals are MCP error results carrying the company's message.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from typing_extensions import TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "acme"))
import tools  # noqa: E402  (the same functions as the Python-tools world)

server = MCPServer("acme")


class LineRef(TypedDict):  # pydantic wants typing_extensions' TypedDict before Python 3.12
    order_id: int
    line_no: int


READ = ToolAnnotations(read_only_hint=True)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False)


@contextmanager
def connect() -> Iterator[sqlite3.Connection]:
    """The database of this episode; the company's refusals become MCP tool errors (the
    SDK shows a `ToolError`'s message to the model, and hides any other exception's)."""
    with closing(sqlite3.connect(os.environ["WORLD_DB"])) as conn:
        try:
            yield conn
        except (ValueError, LookupError) as exc:
            raise ToolError(str(exc)) from exc


def fault(tool: str) -> None:
    """Faults a test asks for through the environment (never set in normal use)."""
    if os.environ.get("ACME_CRASH_ON") == tool:
        os._exit(3)  # the server dies mid-episode
    if os.environ.get("ACME_HANG_ON") == tool:
        import time

        time.sleep(60)


@server.tool(annotations=READ)
def find_customer_by_email(email: str) -> dict:
    """Find a customer by their email address."""
    with connect() as conn:
        return tools.find_customer_by_email(conn, email)


@server.tool(annotations=READ)
def get_customer_orders(customer_id: int) -> list[dict]:
    """List a customer's orders, newest first."""
    with connect() as conn:
        return tools.get_customer_orders(conn, customer_id)


@server.tool(annotations=READ)
def get_order(order_id: int) -> dict:
    """Get an order with its lines."""
    with connect() as conn:
        return tools.get_order(conn, order_id)


@server.tool(annotations=READ)
def get_product(sku: str) -> dict:
    """Get a product's name, unit price and stock."""
    fault("get_product")
    with connect() as conn:
        return tools.get_product(conn, sku)


@server.tool(annotations=WRITE)
def cancel_order(order_id: int, reason: Literal["no longer needed", "ordered by mistake"]) -> str:
    """Cancel a pending order."""
    fault("cancel_order")
    with connect() as conn:
        return tools.cancel_order(conn, order_id, reason)


@server.tool(annotations=WRITE)
def update_shipping_address(order_id: int, address: str) -> dict:
    """Change the shipping address of a pending order."""
    fault("update_shipping_address")
    with connect() as conn:
        result = tools.update_shipping_address(conn, order_id, address)  # commits
        if os.environ.get("ACME_FAIL_AFTER_WRITE"):
            raise RuntimeError("the carrier refused the address after it was saved")
        return result


@server.tool(annotations=WRITE)
def refund_order_line(line: LineRef, reason: str = "damaged") -> dict:
    """Refund one line of a delivered order (quantity x unit price)."""
    with connect() as conn:
        return tools.refund_order_line(conn, line, reason)


@server.tool(annotations=WRITE)
def add_loyalty_points(customer_id: int, points: int) -> dict:
    """Add goodwill loyalty points to a customer (50 at most)."""
    with connect() as conn:
        result = tools.add_loyalty_points(conn, customer_id, points)
        conn.commit()
        return result


if __name__ == "__main__":
    server.run("stdio")
