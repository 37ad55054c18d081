"""τ²'s record look-ups: `if key not in self.db.<collection>: raise ValueError(message)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apigen_mt.tools import ToolError


def looked_up(read: Callable[[str], Any], key: Any, message: str) -> Any:
    """The record `read(key)` finds for a string key. A missing one is `message` (τ²'s
    text); a key that is not a string is missing too, except an unhashable one (a list),
    which fails as τ²'s dict look-up does (TypeError)."""
    found = read(key) if isinstance(key, str) else None
    if found is None:
        hash(key)
        raise ToolError(message)
    return found
