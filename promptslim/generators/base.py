"""The generator protocol: an axis of ordered levels, each a checked variant of the prompt.

A generator names its axis (rules, shots, prune, rewrite, brevity, caps) and, for a prompt,
lists its levels from the least to the most aggressive; `apply` turns one level into a
variant of whatever prompt it is given, so the levels of several axes compose. Level 0 of
every axis is "off" and is never listed. Generators join the registry by `register`, in the
order in which they apply (a third-party generator registers the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..prompt import Prompt


@dataclass(frozen=True)
class Variant:
    prompt: Prompt
    description: str  # human-readable: what changed
    max_tokens: int | None = None  # None keeps the caller's cap
    lineage: tuple[str, ...] = field(default=())  # generator names, in order applied
    stop: tuple[str, ...] | None = None  # None keeps the caller's stop sequences
    whole_blocks: bool = False  # removes whole blocks (demonstrations, an instruction) on purpose

    def then(self, other: Variant) -> Variant:
        """`other` applied on top of this variant."""
        return Variant(
            prompt=other.prompt,
            description=f"{self.description}; {other.description}" if self.lineage else other.description,
            max_tokens=other.max_tokens if other.max_tokens is not None else self.max_tokens,
            lineage=self.lineage + other.lineage,
            stop=other.stop if other.stop is not None else self.stop,
        )


@dataclass(frozen=True)
class Context:
    """What generators may use besides the prompt."""

    count: Callable[[str], int]  # text -> target tokens
    max_tokens: int = 256  # the caller's output cap
    labels: tuple[str, ...] = ()  # the answer labels, when the task has them
    keep: tuple = ()  # compiled user patterns that stay verbatim
    prune_llm: Any = None  # a local model (runtime.llama.ScoringContext) for LM-guided pruning, or None
    rewriter: Any = None  # a Backend that rewrites instructions, or None
    memo: dict = field(default_factory=dict, compare=False)  # generators' own caches, per run


@dataclass(frozen=True)
class Level:
    value: Hashable  # what `apply` needs (a rate, a count, a name)
    label: str  # how the report names it


class Generator(Protocol):
    axis: str
    changes_prompt: bool  # False for an axis that only changes call options (caps)

    def levels(self, prompt: Prompt, context: Context) -> Sequence[Level]:
        """This axis's levels for the prompt, least aggressive first, "off" excluded."""

    def apply(self, prompt: Prompt, level: Level, context: Context) -> Variant | None:
        """The variant at `level`, or None where the level does not apply to this prompt."""


_REGISTRY: list[Generator] = []


def register(generator: Generator) -> Generator:
    """Add a generator to the registry; axes apply in the order they registered."""
    if any(g.axis == generator.axis for g in _REGISTRY):
        raise ValueError(f"a generator for axis '{generator.axis}' is already registered")
    _REGISTRY.append(generator)
    return generator


def registered(axes: Sequence[str] | None = None) -> list[Generator]:
    """The registered generators in order of application (only `axes`, when given)."""
    from . import builtin  # noqa: F401 - registers the built-in generators once

    if axes is None:
        return list(_REGISTRY)
    known = {g.axis: g for g in _REGISTRY}
    return [known[a] for a in axes if a in known]
