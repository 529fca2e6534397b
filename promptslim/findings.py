"""Static findings on a prompt: what makes it longer than it needs to be, found without a model.

Filler, politeness, verbose phrases, whitespace, markup and repeated sentences are the rules
generator's own edits (so a finding is exactly what `compress --method rules` would change);
long few-shot blocks, a missing output-length instruction and very long prompts are checks of
their own. Offsets are into the prompt's text (a chat message's content for `part` > 0),
after any <keep> markers are taken out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .generators import rules
from .generators.caps import has_length_instruction
from .generators.shots import find_demonstrations
from .prompt import Prompt

MANY_SHOTS = 4  # few-shot blocks from this many examples on are reported
BLOCK_EXCERPT_CHARS = 160  # of a whole block (the few-shot examples) quoted in a finding


@dataclass(frozen=True)
class Finding:
    rule: str
    start: int
    end: int
    text: str  # the matched text (an excerpt for whole blocks)
    part: int = 0  # which chat message; 0 for a text prompt
    suggestion: str | None = None  # what the rules write instead ("" removes it); None: no rewrite
    detail: str = ""


def excerpt(text: str, limit: int = BLOCK_EXCERPT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def line_excerpt(text: str, limit: int) -> str:
    """The text on one line (runs of white space as one space), cut to `limit` characters."""
    return excerpt(" ".join(text.split()), limit)


def find_issues(
    prompt: Prompt, count: Callable[[str], int], tokens: int, long_tokens: int, target: str
) -> tuple[Finding, ...]:
    """Every finding of one prompt; `count` gives a text's tokens and `tokens` the prompt's, on `target`."""
    found: list[Finding] = []
    for part, text in enumerate(prompt.parts()):
        found += [Finding(e.rule, e.start, e.end, e.before, part, e.after) for e in rules.compress(text).edits]
        found += _few_shots(text, part, count, tokens, target)
    last = len(prompt.parts()) - 1
    end = len(prompt.parts()[last])
    if not has_length_instruction("\n".join(prompt.parts())):
        found.append(
            Finding(
                "no length instruction",
                end,
                end,
                "",
                last,
                detail="nothing bounds the answer's length: say how long it should be, and cap max_tokens",
            )
        )
    if tokens > long_tokens:
        found.append(
            Finding("long prompt", 0, end, "", last, detail=f"{tokens:,} {target} tokens (over {long_tokens:,})")
        )
    return tuple(found)


def _few_shots(text: str, part: int, count: Callable[[str], int], tokens: int, target: str) -> list[Finding]:
    demos = find_demonstrations(text)
    if len(demos) < MANY_SHOTS:
        return []
    start, end = demos[0].start, demos[-1].end
    shot_tokens = count(text[start:end])
    share = f" ({100 * shot_tokens / tokens:.0f}% of the prompt)" if tokens else ""
    return [
        Finding(
            "few-shot",
            start,
            end,
            excerpt(text[start:end]),
            part,
            detail=f"{len(demos)} examples, {shot_tokens:,} {target} tokens{share}: a few usually do",
        )
    ]
