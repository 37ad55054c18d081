"""Prices per million tokens, for cost estimates in reports.

Defaults cover a few common hosted models (USD, list prices when this table was written);
local models cost nothing. Override or extend with a JSON file
`{"model": {"prompt": 0.15, "completion": 0.60}, ...}` via `--prices` or
APIGEN_MT_PRICES. A model with no price is reported as unpriced, never guessed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError


class Price(BaseModel):
    prompt: float = Field(ge=0)  # per 1M prompt tokens
    completion: float = Field(ge=0)  # per 1M completion tokens


DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o": Price(prompt=2.50, completion=10.00),
    "gpt-4o-mini": Price(prompt=0.15, completion=0.60),
    "gpt-4.1": Price(prompt=2.00, completion=8.00),
    "gpt-4.1-mini": Price(prompt=0.40, completion=1.60),
    "gpt-4.1-nano": Price(prompt=0.10, completion=0.40),
    "smollm2-135m-instruct": Price(prompt=0, completion=0),
    "scripted": Price(prompt=0, completion=0),
    "fake-model": Price(prompt=0, completion=0),
}


class PriceTable:
    def __init__(self, prices: dict[str, Price] | None = None):
        self.prices = {**DEFAULT_PRICES, **(prices or {})}

    @classmethod
    def load(cls, path: str | Path | None = None) -> PriceTable:
        """Defaults plus the JSON file at `path` (or $APIGEN_MT_PRICES)."""
        path = path or os.environ.get("APIGEN_MT_PRICES")
        if not path:
            return cls()
        try:
            raw = json.loads(Path(path).read_text())
            return cls({name: Price.model_validate(p) for name, p in raw.items()})
        except (OSError, json.JSONDecodeError, ValidationError, AttributeError) as exc:
            raise ValueError(f"cannot read the price table {path}: {exc}") from None

    def cost(self, model: str, prompt: int, completion: int) -> float | None:
        price = self.prices.get(model) or self.prices.get(model.rsplit("/", 1)[-1])
        if price is None:
            return None
        return (prompt * price.prompt + completion * price.completion) / 1_000_000
