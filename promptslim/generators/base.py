"""What every generator yields: a checked variant of the prompt with what changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..prompt import Prompt


@dataclass(frozen=True)
class Variant:
    prompt: Prompt
    description: str  # human-readable: what changed
    max_tokens: int | None = None  # None keeps the caller's cap
    lineage: tuple[str, ...] = field(default=())  # generator names, in order applied

    def then(self, other: Variant) -> Variant:
        """`other` applied on top of this variant."""
        return Variant(
            prompt=other.prompt,
            description=f"{self.description}; {other.description}" if self.lineage else other.description,
            max_tokens=other.max_tokens if other.max_tokens is not None else self.max_tokens,
            lineage=self.lineage + other.lineage,
        )
