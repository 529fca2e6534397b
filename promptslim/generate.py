"""`variants`: every generator's proposals for one prompt, lazily, for the optimizer.

Single steps come first (rules; shots; prune; caps), then their combinations in the order
rules -> shots -> prune -> caps. Every variant has passed its generator's structure check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence

from .generators import caps, prune, rules, shots
from .generators.base import Variant
from .prompt import Prompt
from .protect import compile_keep, preserved, protect

PRUNE_RATES = (0.7, 0.5)


def variants(
    prompt: Prompt | str | list[dict],
    *,
    max_tokens: int = 256,
    labels: Sequence[str] = (),
    keep: Sequence[str] | None = None,
    count: Callable[[str], int] | None = None,
    prune_llm=None,
) -> Iterator[Variant]:
    """Yield distinct variants of a prompt (the prompt itself excluded).

    `prune_llm` (a llama_cpp.Llama) enables LM-guided pruning; `count` measures text in
    target tokens (default: about 4 characters a token).
    """
    base = Prompt.of(prompt)
    keep_patterns = compile_keep(keep)
    count = count or (lambda s: max(1, len(s) // 4))
    seen = {_key(base, max_tokens)}

    def fresh(variant: Variant) -> bool:
        key = _key(variant.prompt, variant.max_tokens or max_tokens)
        if key in seen or not _safe(base, variant.prompt, keep_patterns, variant):
            return False
        seen.add(key)
        return True

    ruled = _rules_variant(base, keep_patterns)
    starts = [Variant(base, "original")] + ([ruled] if ruled else [])
    for start in starts:
        chains = [start] + [start.then(v) for v in shots.variants(start.prompt)]
        for chain in chains:
            pruned = [chain.then(v) for v in _prune_variants(chain.prompt, prune_llm, count, keep_patterns)]
            for step in [chain] + pruned:
                if step.lineage and fresh(step):
                    yield step
                for cap in caps.variants(step.prompt, max_tokens=max_tokens, labels=labels, count=count):
                    combined = step.then(cap)
                    if fresh(combined):
                        yield combined


def _rules_variant(prompt: Prompt, keep) -> Variant | None:
    outputs = []

    def apply(text: str) -> str:
        outputs.append(rules.compress(text, keep))
        return outputs[-1].text

    ruled = prompt.map_text(apply)
    if ruled == prompt:
        return None
    kinds = sorted({e.rule for out in outputs for e in out.edits})
    return Variant(ruled, "rules: " + ", ".join(kinds), lineage=("rules",))


def _prune_variants(prompt: Prompt, llm, count, keep) -> Iterator[Variant]:
    if llm is None:
        return
    for rate in PRUNE_RATES:
        pruned = prompt.map_text(lambda s, rate=rate: prune.prune_text(s, llm, count, rate, keep))
        if pruned != prompt:
            yield Variant(pruned, f"prune: kept ~{rate:.0%} of tokens", lineage=("prune",))


def _safe(base: Prompt, prompt: Prompt, keep, variant: Variant) -> bool:
    """Template variables unchanged; protected spans kept in order (shots checks its own
    removals of whole demonstrations)."""
    if Counter(base.variables()) != Counter(prompt.variables()):
        return False
    if "shots" in variant.lineage:
        return True
    return preserved(protect("\n".join(base.parts()), keep), "\n".join(prompt.parts()))


def _key(prompt: Prompt, max_tokens: int | None) -> tuple:
    return (prompt.text, prompt.messages, max_tokens)
