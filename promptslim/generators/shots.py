"""Few-shot selection: find the demonstrations and keep k of n, balanced across labels.

Demonstrations are repeated labelled blocks (`Review:/Sentiment:`, `Input:/Output:`,
`Q:/A:`), `Example N:` sections, or user/assistant turns before the final user message.
The block holding a template placeholder (any style) is the question slot, never a demonstration.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from ..prompt import Message, Prompt
from ..protect import has_placeholder, preserved, protect
from .base import Variant

_LABEL_LINE = re.compile(r"^[ \t]*([A-Z\u4e00-\u9fff][\w \u4e00-\u9fff-]{0,30}?)[ \t]*[:：][ \t]*(.*)$", re.M)
_EXAMPLE_HEAD = re.compile(
    r"^[ \t]*(?:#+[ \t]*)?(?:example|demo|sample|示例|例子)[ \t]*#?\d*[ \t]*[:.：]?.*$", re.M | re.I
)


@dataclass(frozen=True)
class Demo:
    start: int
    end: int  # exclusive, including the blank line that follows
    label: str  # the answer shown, for balancing ("" when none)
    answer: tuple[int, int] | None = None  # where that answer stands in the text


@lru_cache(maxsize=16)  # the rules, the findings and the generators ask about the same text
def unanswered_labels(text: str) -> int:
    """Label lines with nothing after the label ("Sentiment:"): the question slot's, or a
    demonstration that lost its answer."""
    return sum(1 for m in _LABEL_LINE.finditer(text) if not m.group(2).strip())


@lru_cache(maxsize=16)  # the rules' quoted-data regions and the findings ask about the same text
def find_demonstrations(text: str) -> tuple[Demo, ...]:
    """The few-shot demonstrations of a completion prompt, in order."""
    return tuple(_labelled_blocks(text) or _example_sections(text))


def _labelled_blocks(text: str) -> list[Demo]:
    lines = list(_LABEL_LINE.finditer(text))
    if len(lines) < 4:
        return []
    heads = Counter(m.group(1) for m in lines)
    # the head label opens every block: the first label that repeats
    head = next((m.group(1) for m in lines if heads[m.group(1)] >= 2), None)
    if head is None:
        return []
    starts = [m for m in lines if m.group(1) == head]
    offsets = [m.start() for m in lines]
    demos = []
    for i, opening in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else _block_end(text, opening.start())
        block = text[opening.start() : end]
        members = lines[bisect_left(offsets, opening.start()) : bisect_left(offsets, end)]  # lines are in order
        if len(members) < 2 or has_placeholder(block) or not members[-1].group(2).strip():
            continue  # the question slot, or not a labelled pair
        demos.append(Demo(opening.start(), end, members[-1].group(2).strip().lower(), members[-1].span(2)))
    return demos  # one is enough once the question repeats its head: its answer is still an answer


def _block_end(text: str, start: int) -> int:
    """The end of the last block: the next blank line, or the end of the text."""
    blank = re.compile(r"\n[ \t]*\n").search(text, start)
    if blank is None:
        return len(text)
    return blank.end()


def _example_sections(text: str) -> list[Demo]:
    heads = list(_EXAMPLE_HEAD.finditer(text))
    if len(heads) < 2:
        return []
    demos = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else _block_end(text, head.end())
        block = text[head.start() : end]
        if has_placeholder(block):
            continue
        last = next(reversed(list(_LABEL_LINE.finditer(block))), None)
        answer = (head.start() + last.start(2), head.start() + last.end(2)) if last else None
        demos.append(Demo(head.start(), end, last.group(2).strip().lower() if last else "", answer))
    return demos


def balanced_selection(labels: list[str], k: int) -> list[int]:
    """Indices of k demonstrations, the first k of `balanced_order`, in prompt order."""
    return sorted(balanced_order(labels)[:k])


def balanced_order(labels: list[str]) -> list[int]:
    """Every demonstration's index, in the order they are kept: round-robin across labels,
    nearest the question first, so any first k are balanced and the first len(set(labels))
    show every label once.

    Models lean on the demonstrations they read last: keeping those keeps the prompt's ending,
    the label the model saw just before the question included.
    """
    by_label: dict[str, list[int]] = {}
    for i in reversed(range(len(labels))):
        by_label.setdefault(labels[i], []).append(i)
    order, queues = [], [list(q) for q in by_label.values()]
    while any(queues):
        for queue in queues:
            if queue:
                order.append(queue.pop(0))
    return order


def keep_counts(n: int, labels: int = 1) -> list[int]:
    """How many demonstrations each level keeps: n - 1 down to one per label, then none.

    Fewer than one per label leaves a label the model never sees, so those levels are skipped.
    """
    floor = max(1, labels)
    return sorted(set(range(floor, n)) | ({0} if n else set()), reverse=True)


def demonstrations(prompt: Prompt) -> list[str]:
    """The labels of the prompt's demonstrations, in order (blocks or chat turns)."""
    if prompt.is_chat:
        return [a.content.strip().lower()[:40] for _, a in _chat_pairs(prompt)[0]]
    return [d.label for d in find_demonstrations(prompt.text)]


def select(prompt: Prompt, k: int) -> Variant | None:
    """Keep k of the prompt's demonstrations, balanced across labels; None when there are
    none, or when dropping them would touch a protected span."""
    if prompt.is_chat:
        return _select_turns(prompt, k)
    text = prompt.text
    demos = find_demonstrations(text)
    if not demos or k >= len(demos):
        return None
    kept = set(balanced_selection([d.label for d in demos], k))
    dropped = [(d.start, d.end) for i, d in enumerate(demos) if i not in kept]
    out = remove_ranges(text, dropped)
    if not preserved(protect(text), out, removed=dropped):
        return None
    description = f"shots: kept {k} of {len(demos)} examples"
    return Variant(Prompt(text=out), description, lineage=("shots",), whole_blocks=True)


def variants(prompt: Prompt) -> Iterator[Variant]:
    labels = demonstrations(prompt)
    for k in keep_counts(len(labels), len(set(labels))):
        variant = select(prompt, k)
        if variant is not None:
            yield variant


def remove_ranges(text: str, ranges: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for start, end in sorted(ranges):
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _chat_pairs(prompt: Prompt) -> tuple[list[tuple[Message, Message]], int]:
    """Demonstrations as user/assistant pairs before the final user message, and where they start."""
    messages = list(prompt.messages)
    head = 1 if messages and messages[0].role == "system" else 0
    pairs = []
    i = head
    while i + 1 < len(messages) - 1 and messages[i].role == "user" and messages[i + 1].role == "assistant":
        pairs.append((messages[i], messages[i + 1]))
        i += 2
    if len(pairs) < 2 or i != len(messages) - 1:
        return [], head
    return pairs, head


def _select_turns(prompt: Prompt, k: int) -> Variant | None:
    pairs, head = _chat_pairs(prompt)
    if not pairs or k >= len(pairs):
        return None
    kept = balanced_selection([a.content.strip().lower()[:40] for _, a in pairs], k)
    body: list[Message] = [m for j in kept for m in pairs[j]]
    messages = list(prompt.messages)
    new = messages[:head] + body + messages[head + 2 * len(pairs) :]
    description = f"shots: kept {k} of {len(pairs)} example turns"
    return Variant(Prompt(messages=tuple(new)), description, lineage=("shots",), whole_blocks=True)
