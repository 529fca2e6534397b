"""Turn a call's energy and tokens into grams of CO2 and dollars on a target model."""

from __future__ import annotations

from dataclasses import dataclass

from ..prompt import Prompt
from ..tokens import LOCAL, check_target, count_tokens
from .carbon import co2_grams, resolve_region
from .price import cost_usd


@dataclass(frozen=True)
class Costing:
    """Where the energy comes from (region) and whose prices apply (target)."""

    target: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        if self.target:
            check_target(self.target)
        resolve_region(self.region)  # fail early on an unknown region

    def co2_g(self, joules: float) -> float:
        return co2_grams(joules, self.region)

    def cost_usd(self, prompt: Prompt, mode: str, output: str) -> float | None:
        """What the same prompt and answer would cost at the target's list prices."""
        if not self.target or self.target == LOCAL:
            return None
        prompt_tokens = count_tokens(prompt, self.target, mode=mode)
        output_tokens = count_tokens(output, self.target) if output else 0
        return cost_usd(self.target, prompt_tokens, output_tokens)
