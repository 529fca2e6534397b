"""Dollar cost per token for API models.

Prices are list prices in US$ per 1M tokens (input, output) as published on the vendors'
pricing pages on PRICES_AS_OF. Override or extend them with a JSON file named by the
PROMPTSLIM_PRICES environment variable: {"model": {"input": 2.5, "output": 10.0}}.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache

from ..errors import InputError

PRICES_AS_OF = "2025-08-15"

PRICES: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "o1": (15.00, 60.00),
    "o1-mini": (1.10, 4.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
}


@dataclass(frozen=True)
class Price:
    input_per_m: float
    output_per_m: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_m + completion_tokens * self.output_per_m) / 1e6


@cache
def _table(override_path: str | None) -> dict[str, Price]:
    table = {name: Price(*pair) for name, pair in PRICES.items()}
    if override_path:
        try:
            with open(override_path) as f:
                extra = json.load(f)
            for name, entry in extra.items():
                table[name] = Price(float(entry["input"]), float(entry["output"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(
                f"PROMPTSLIM_PRICES={override_path}: not a readable price file ({exc}): "
                'expected {"model": {"input": 2.5, "output": 10.0}}'
            ) from None
    return table


def price_for(model: str) -> Price | None:
    """The price of a model; dated snapshots ("gpt-4o-2024-08-06") match their family."""
    table = _table(os.environ.get("PROMPTSLIM_PRICES"))
    if model in table:
        return table[model]
    family = max((name for name in table if model.startswith(name + "-")), key=len, default=None)
    return table[family] if family else None


def cost_usd(model: str | None, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Dollars for one call at a target model's prices; None when the price is unknown."""
    price = price_for(model) if model else None
    return price.cost(prompt_tokens, completion_tokens) if price else None
