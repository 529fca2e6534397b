"""`compress`: one shorter prompt, by rules, LM-guided pruning or an LLM rewrite.

Every result is checked: protected spans intact, template variables unchanged, and never
more target tokens than the input; a result that fails goes back to the input, with a note.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import InputError
from .generators import prune as prune_gen
from .generators import rewrite as rewrite_gen
from .generators import rules as rules_gen
from .prompt import Prompt
from .protect import compile_keep, marked_as_keep, preserved, protect
from .tokens import DEFAULT_TARGET, check_target, prompt_tokens, text_counter

if TYPE_CHECKING:
    from .runtime.llama import ScoringContext

METHODS = ("auto", "rules", "prune", "rewrite")


@dataclass(frozen=True)
class Compressed:
    prompt: str | list[dict]  # the same shape as the input
    original_tokens: int
    compressed_tokens: int
    ratio: float  # compressed / original, in the target's tokens
    method: str
    changes: tuple[str, ...]
    note: str | None = None


def compress(
    prompt: str | Prompt | list[dict],
    *,
    method: str = "auto",
    rate: float | None = None,
    target_tokens: int | None = None,
    target: str = DEFAULT_TARGET,
    keep: Sequence[str] | None = None,
    backend=None,
    prune_model: str | None = None,
    level: str = rules_gen.DEFAULT_LEVEL,
) -> Compressed:
    """Compress a prompt. `auto` applies the rules, then prunes when a rate or token target is set.

    `level` is the rules' level: `safe` (meaning-preserving edits only) or `aggressive`
    (telegraphic edits too, unverified: check the result on your task, as `optimize` does).
    """
    if method not in METHODS:
        raise InputError(f"unknown method '{method}': use one of {', '.join(METHODS)}")
    rules_gen.check_level(level)
    prune_gen.check_rate(rate)
    check_target(target)
    original = Prompt.of(prompt)
    keep_patterns = compile_keep(keep) + tuple(p for part in original.parts() for p in marked_as_keep(part))
    if not any(part.strip() for part in original.parts()):
        raise InputError("the prompt is empty: give a prompt to compress")
    clean = original.map_text(lambda s: protect(s, keep_patterns).text)  # keep markers go
    count = text_counter(target, backend)
    before = prompt_tokens(original, target, count)
    result, changes, note = _run(
        clean, method, rate, target_tokens, count, keep_patterns, backend, prune_model, before, level
    )
    after = before if result == original else prompt_tokens(result, target, count)
    spans = [protect(part, keep_patterns) for part in clean.parts()]
    emptied = any(a.strip() and not b.strip() for a, b in zip(clean.parts(), result.parts()))
    if emptied or after > before or not all(preserved(p, b) for p, b in zip(spans, result.parts())):
        result, after, changes = clean, before, ()
        note = "no shorter variant kept its protected spans; returned unchanged"
    if not changes and not any(_free_text(p) for p in spans):
        note = "the prompt is all protected content (code, variables, quotes, numbers); returned unchanged"
    return Compressed(
        _same_shape(prompt, result), before, after, after / before if before else 1.0, method, tuple(changes), note
    )


def _free_text(protected) -> bool:
    return any(not is_protected and piece.strip() for piece, is_protected in protected.segments())


def _run(prompt: Prompt, method, rate, target_tokens, count, keep, backend, prune_model, before, level):
    changes: list[str] = []
    note = None
    if method in ("auto", "rules"):
        outputs = []

        def apply_rules(text: str) -> str:
            out = rules_gen.compress(text, keep, level)
            outputs.append(out)
            return out.text

        prompt = prompt.map_text(apply_rules)
        changes += [describe_edit(e) for out in outputs for e in out.edits]
    wants_prune = method == "prune" or (method == "auto" and (rate is not None or target_tokens is not None))
    if wants_prune:
        goal = _prune_rate(rate, target_tokens, before, sum(count(p) for p in prompt.parts()))
        if goal < 1.0:
            llm = prune_llm(prune_model)
            prompt = prompt.map_text(lambda s: prune_gen.prune_text(s, llm, count, goal, keep))
            changes.append(f"prune: kept the most informative words, about {goal:.0%} of the tokens")
    if method == "rewrite":
        from .runtime import open_backend

        rewriter = backend or open_backend()
        outcomes = []

        def apply_rewrite(text: str) -> str:
            outcome = rewrite_gen.rewrite_text(text, rewriter, count, keep)
            outcomes.append(outcome)
            return outcome.text if outcome.text is not None else text

        prompt = prompt.map_text(apply_rewrite)
        changes += [f"rewrite: {o.reason}" for o in outcomes if o.text is not None]
        discarded = [o.reason for o in outcomes if o.text is None]
        note = f"rewrite discarded: {discarded[0]}" if discarded else None
    return prompt, changes, note


def _prune_rate(rate, target_tokens, original_tokens: int, current_tokens: int) -> float:
    """The share of the current tokens to keep so that the result meets the overall goal."""
    goal_tokens = target_tokens if target_tokens is not None else (rate or prune_gen.DEFAULT_RATE) * original_tokens
    return max(0.05, min(1.0, goal_tokens / max(1, current_tokens)))


def prune_llm(model: str | os.PathLike | None = None) -> ScoringContext:
    """The local model pruning scores words with: `model` (a GGUF path), else the default."""
    from .runtime.llama import ScoringContext, resolve_model_path

    return ScoringContext.load(resolve_model_path(model), prune_gen.PRUNE_N_CTX, prune_gen.PRUNE_N_BATCH)


def describe_edit(edit) -> str:
    before = edit.before.strip().replace("\n", " ")
    before = before if len(before) <= 60 else before[:57] + "..."
    if not edit.after.strip():
        return f"{edit.rule}: removed {before!r}"
    return f"{edit.rule}: {before!r} -> {edit.after.strip()!r}"


def _same_shape(original, result: Prompt):
    if isinstance(original, Prompt):
        return result
    return result.to_json()
