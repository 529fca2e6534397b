"""Variants of a prompt: the registered generators' levels, alone and combined.

A configuration picks one level per axis (or none); `build` applies them in the registry's
order and checks the result, and `variants` yields every configuration's variant lazily,
single changes first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import product

from .generators.base import Context, Generator, Level, Variant, registered
from .generators.shots import unanswered_labels
from .prompt import Prompt
from .protect import compile_keep, preserved, protect
from .tokens import DEFAULT_TARGET, text_counter


def variants(
    prompt: Prompt | str | list[dict],
    *,
    max_tokens: int = 256,
    labels: Sequence[str] = (),
    keep: Sequence[str] | None = None,
    count: Callable[[str], int] | None = None,
    prune_llm=None,
    axes: Sequence[str] | None = None,
) -> Iterator[Variant]:
    """Yield distinct, checked variants of a prompt (the prompt itself excluded).

    `prune_llm` (a `runtime.llama.ScoringContext`, from `compress.prune_llm`) enables LM-guided
    pruning; `count` measures text in target tokens (default: gpt-4o's); `axes` limits the
    generators used.
    """
    base = Prompt.of(prompt)
    context = Context(
        count=count or text_counter(DEFAULT_TARGET),
        max_tokens=max_tokens,
        labels=tuple(labels),
        keep=compile_keep(keep),
        prune_llm=prune_llm,
    )
    generators = registered(axes)
    levels = [g.levels(base, context) for g in generators]
    configs = sorted(product(*[range(len(ls) + 1) for ls in levels]), key=lambda c: sum(map(bool, c)))
    seen = {(base, max_tokens)}
    for config in configs[1:]:  # the first is every axis off: the prompt itself
        chosen = {g.axis: ls[i - 1] for g, ls, i in zip(generators, levels, config) if i}
        variant = build(base, chosen, context, generators)
        if variant is not None and (variant.prompt, variant.max_tokens or max_tokens) not in seen:
            seen.add((variant.prompt, variant.max_tokens or max_tokens))
            yield variant


def build(
    base: Prompt, chosen: Mapping[str, Level], context: Context, generators: Sequence[Generator] | None = None
) -> Variant | None:
    """The variant with the chosen level on each named axis, applied in registry order; None
    where a level does not apply or a step fails a structural check."""
    variant = Variant(base, "original")
    for generator in generators if generators is not None else registered():
        if generator.axis not in chosen:
            continue
        step = generator.apply(variant.prompt, chosen[generator.axis], context)
        if step is None or not is_safe(variant.prompt, step, context.keep):
            return None
        variant = variant.then(step)
    return variant if variant.lineage else None


def is_safe(before: Prompt, step: Variant, keep=()) -> bool:
    """One step's result: template variables unchanged, protected spans kept in order (shots
    checks its own removals of whole demonstrations), and no demonstration left without its
    answer."""
    if Counter(before.variables()) != Counter(step.prompt.variables()):
        return False
    old, new = "\n".join(before.parts()), "\n".join(step.prompt.parts())
    if unanswered_labels(new) > unanswered_labels(old):
        return False  # a label line lost its value: a demonstration without its answer
    return step.whole_blocks or preserved(protect(old, keep), new)
