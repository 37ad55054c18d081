"""Tools every τ-bench-style domain has: arithmetic, thinking aloud, handing over to a human.

Same names, arguments and observations as τ-bench's.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlite_utils import Database

from apigen_mt.tools import tool

from .calculator import evaluate


@tool()
def calculate(
    db: Database,
    expression: Annotated[
        str,
        Field(
            description="An arithmetic expression such as '2 + 2': numbers, + - * /, parentheses "
            "and spaces."
        ),
    ],
) -> str:
    """Calculate the result of an arithmetic expression, rounded to 2 decimals."""
    return evaluate(expression)


@tool()
def think(
    db: Database, thought: Annotated[str, Field(description="A thought to think about.")]
) -> str:
    """Think something through; changes nothing and fetches nothing, only logs the thought."""
    return ""


@tool()
def transfer_to_human_agents(
    db: Database, summary: Annotated[str, Field(description="A summary of the user's issue.")]
) -> str:
    """Transfer the user to a human agent with a summary of the issue.

    Only when the user explicitly asks for a human, or the issue cannot be solved with the
    available tools.
    """
    return "Transfer successful"
