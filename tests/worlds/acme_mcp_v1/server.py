"""Acme's tools behind a server written for the 1.x SDK (FastMCP, camelCase annotations),
as many users' servers still are. It runs in its own environment with `mcp<2`."""

import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.types import ToolAnnotations

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "acme"))
import tools  # noqa: E402

mcp = FastMCP("acme-v1")


def run(fn, *args):
    with closing(sqlite3.connect(os.environ["ACME_DATABASE"])) as conn:
        try:
            return fn(conn, *args)
        except (ValueError, LookupError) as exc:
            raise ToolError(str(exc)) from exc


@mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))
def get_order(order_id: int) -> dict:
    """Get an order with its lines."""
    return run(tools.get_order, order_id)


@mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))
def get_customer_orders(customer_id: int) -> list:
    """List a customer's orders, newest first."""
    return run(tools.get_customer_orders, customer_id)


@mcp.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True))
def cancel_order(order_id: int, reason: str) -> str:
    """Cancel a pending order."""
    return run(tools.cancel_order, order_id, reason)


if __name__ == "__main__":
    mcp.run()
