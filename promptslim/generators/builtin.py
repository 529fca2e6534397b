"""The built-in axes, in the order they apply: rules, rewrite, instruction, shots, prune,
brevity, caps.

Each adapts one generator module to the protocol in `base`. Rules and rewrite edit the
instruction's wording, instruction prunes or drops the instruction itself (demonstrations
often carry a task on their own), shots drops whole demonstrations, prune drops the least
informative words of what is left, brevity states the answer's shape, and caps bound the
answer itself.
"""

from __future__ import annotations

from dataclasses import replace

from ..prompt import Prompt
from . import caps, prune, rewrite, rules, shots
from .base import Context, Level, Variant, register

PRUNE_RATES = (0.8, 0.6, 0.4, 0.2)  # share of the tokens kept, least aggressive first
INSTRUCTION_RATES = (0.5, 0.25, 0.0)  # share of the instruction's tokens kept; 0 drops it


class Rules:
    axis, changes_prompt = "rules", True

    def levels(self, prompt: Prompt, context: Context) -> list[Level]:
        # aggressive edits are telegraphic: kept only where the task score holds
        return [Level("safe", "safe edits"), Level("aggressive", "telegraphic edits")]

    def apply(self, prompt: Prompt, level: Level, context: Context) -> Variant | None:
        outputs = []

        def edit(text: str) -> str:
            outputs.append(rules.compress(text, context.keep, level.value))
            return outputs[-1].text

        ruled = prompt.map_text(edit)
        if ruled == prompt:
            return None
        kinds = sorted({e.rule for out in outputs for e in out.edits})
        name = "rules" if level.value == "safe" else f"rules ({level.value})"
        return Variant(ruled, f"{name}: " + ", ".join(kinds), lineage=("rules",))


class Rewrite:
    axis, changes_prompt = "rewrite", True

    def levels(self, prompt: Prompt, context: Context) -> list[Level]:
        return [Level("llm", "instruction rewritten")] if context.rewriter is not None else []

    def apply(self, prompt: Prompt, level: Level, context: Context) -> Variant | None:
        memo = context.memo.setdefault("rewrite", {})

        def rewritten(text: str) -> str:
            if text not in memo:
                outcome = rewrite.rewrite_text(text, context.rewriter, context.count, context.keep)
                memo[text] = outcome.text if outcome.text is not None else text
            return memo[text]

        new = prompt.map_text(rewritten)
        return Variant(new, "rewrite: instruction restated", lineage=("rewrite",)) if new != prompt else None


class Instruction:
    axis, changes_prompt = "instruction", True

    def levels(self, prompt: Prompt, context: Context) -> list[Level]:
        if _instruction_and_rest(prompt) is None:
            return []
        rates = INSTRUCTION_RATES if context.prune_llm is not None else INSTRUCTION_RATES[-1:]
        return [Level(r, f"keep ~{r:.0%} of it" if r else "dropped") for r in rates]

    def apply(self, prompt: Prompt, level: Level, context: Context) -> Variant | None:
        split = _instruction_and_rest(prompt)
        if split is None:
            return None
        instruction, rest, rebuild = split
        if level.value:
            memo = context.memo.setdefault("prune", {})
            key = (instruction, level.value)
            if key not in memo:
                memo[key] = prune.prune_text(instruction, context.prune_llm, context.count, level.value, context.keep)
            kept, what = memo[key], f"instruction: kept ~{level.value:.0%} of its tokens"
        else:
            kept, what = "", "instruction: dropped"
        new = rebuild(kept)
        # dropping it removes whole sentences, protected or not: the task score decides, as for shots
        return Variant(new, what, lineage=("instruction",), whole_blocks=not level.value) if new != prompt else None


def _instruction_and_rest(prompt: Prompt):
    """The instruction, what follows it, and how to put a new instruction back; None when the
    prompt has no instruction apart from its question (or nothing apart from its instruction)."""
    if prompt.is_chat:
        messages = list(prompt.messages)
        if len(messages) < 2 or messages[0].role != "system" or not messages[0].content.strip():
            return None

        def chat(kept: str) -> Prompt:
            rest = messages[1:] if not kept.strip() else [replace(messages[0], content=kept), *messages[1:]]
            return Prompt(messages=tuple(rest))

        return messages[0].content, "", chat
    instruction, rest = rewrite.split_instruction(prompt.text)
    if not instruction.strip() or not rest.strip():
        return None
    return (
        instruction,
        rest,
        lambda kept: Prompt(text=(kept.rstrip() + "\n\n" if kept.strip() else "") + rest.lstrip("\n")),
    )


class Shots:
    axis, changes_prompt = "shots", True

    def levels(self, prompt: Prompt, context: Context) -> list[Level]:
        labels = shots.demonstrations(prompt)
        n, distinct = len(labels), len(set(labels))
        return [Level(k, f"{k} of {n} examples") for k in shots.keep_counts(n, distinct)]

    def apply(self, prompt: Prompt, level: Level, context: Context) -> Variant | None:
        return shots.select(prompt, level.value)


class Prune:
    axis, changes_prompt = "prune", True

    def levels(self, prompt: Prompt, context: Context) -> list[Level]:
        if context.prune_llm is None:
            return []
        return [Level(rate, f"keep ~{rate:.0%} of tokens") for rate in PRUNE_RATES]

    def apply(self, prompt: Prompt, level: Level, context: Context) -> Variant | None:
        memo = context.memo.setdefault("prune", {})
        rate = level.value

        def pruned(text: str) -> str:
            if (text, rate) not in memo:
                memo[text, rate] = prune.prune_text(text, context.prune_llm, context.count, rate, context.keep)
            return memo[text, rate]

        new = prompt.map_text(pruned)
        return Variant(new, f"prune: kept ~{rate:.0%} of tokens", lineage=("prune",)) if new != prompt else None


class Brevity:
    axis, changes_prompt = "brevity", True

    def levels(self, prompt: Prompt, context: Context) -> list[Level]:
        text = "\n".join(prompt.parts())
        fmt = caps.detect_format(text, context.labels)
        if caps.has_length_instruction(text) and fmt.kind == "text":
            return []  # free text that already says how long: nothing better to say
        instruction = caps.brevity_instruction(fmt)
        return [Level(instruction, f'"{instruction}"')]

    def apply(self, prompt: Prompt, level: Level, context: Context) -> Variant | None:
        new = caps.with_instruction(prompt, level.value)
        return Variant(new, f'brevity: "{level.value}"', lineage=("brevity",)) if new != prompt else None


class Caps:
    axis, changes_prompt = "caps", False

    def levels(self, prompt: Prompt, context: Context) -> list[Level]:
        text = "\n".join(prompt.parts())
        fmt = caps.detect_format(text, context.labels)
        label_tokens = max((context.count(" " + label) for label in fmt.labels), default=4)
        return [Level(n, f"max_tokens {n}") for n in caps.token_levels(fmt, context.max_tokens, label_tokens)]

    def apply(self, prompt: Prompt, level: Level, context: Context) -> Variant | None:
        description = f"caps: max_tokens {context.max_tokens} -> {level.value}"
        return Variant(prompt, description, max_tokens=level.value, lineage=("caps",))


for _generator in (Rules(), Rewrite(), Instruction(), Shots(), Prune(), Brevity(), Caps()):
    register(_generator)
