"""Word-level diff of two texts, to show what a prompt variant changed.

Joining the "equal" and "delete" texts gives back `before` exactly; "equal" and "insert"
give back `after`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from .constants import CJK, SENTENCE_END

# CJK scripts put no spaces between words, so each of their characters counts as a word.
_WORD = re.compile(rf"[{CJK}]|[^\W{CJK}]+|\s+|.", re.DOTALL)
# Sentences or lines with their trailing whitespace: mostly unique, so they align fast.
_SENTENCE = re.compile(rf"[^\n{SENTENCE_END}]*[\n{SENTENCE_END}]*\s*")
# difflib is quadratic in a block's length: a middle this large is first cut at unique pieces.
_MAX_PAIRS = 1_000_000


@dataclass(frozen=True)
class DiffOp:
    op: str  # "equal" | "delete" | "insert"
    text: str  # the words with their original whitespace


def word_diff(before: str, after: str) -> list[DiffOp]:
    """Align sentences first, then diff the words of the sentences that changed."""
    a, b = _split(_SENTENCE, before), _split(_SENTENCE, after)
    ops: list[DiffOp] = []
    for tag, old, new in _blocks(a, b):
        ops += [DiffOp("equal", old)] if tag == "equal" else _words(old, new)
    return _tidy(ops)


def _words(before: str, after: str) -> list[DiffOp]:
    a, b = _split(_WORD, before), _split(_WORD, after)
    ops: list[DiffOp] = []
    for tag, old, new in _blocks(a, b):
        ops += [DiffOp("equal", old)] if tag == "equal" else [DiffOp("delete", old), DiffOp("insert", new)]
    return ops


def _split(pattern: re.Pattern, text: str) -> list[str]:
    return [part for part in pattern.findall(text) if part]


def _blocks(a: list[str], b: list[str]) -> list[tuple[str, str, str]]:
    """(tag, old text, new text) blocks; the common ends are trimmed before difflib sees them."""
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    mid_a, mid_b = a[head : len(a) - tail], b[head : len(b) - tail]
    blocks = [("equal", "".join(a[:head]), "")]
    if len(mid_a) * len(mid_b) > _MAX_PAIRS:
        blocks += _anchored(mid_a, mid_b)
    else:
        # whitespace is half of all tokens: as junk it is never where a match starts, which keeps
        # difflib from pairing every space with every other (matches still extend over it)
        codes = SequenceMatcher(str.isspace, mid_a, mid_b, autojunk=False).get_opcodes()
        blocks += [(tag, "".join(mid_a[i1:i2]), "".join(mid_b[j1:j2])) for tag, i1, i2, j1, j2 in codes]
    blocks.append(("equal", "".join(a[len(a) - tail :]), ""))
    return blocks


def _anchored(a: list[str], b: list[str]) -> list[tuple[str, str, str]]:
    """Patience diff: pieces found once on each side anchor the texts; the gaps are diffed alone."""
    anchors = _anchors(a, b)
    if not anchors:  # nothing to hold on to: a rewrite, shown as one
        return [("replace", "".join(a), "".join(b))]
    blocks: list[tuple[str, str, str]] = []
    i0 = j0 = 0
    for i, j in anchors:
        blocks += _blocks(a[i0:i], b[j0:j])
        blocks.append(("equal", a[i], ""))
        i0, j0 = i + 1, j + 1
    return blocks + _blocks(a[i0:], b[j0:])


def _anchors(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """The most words, each unique on both sides, that appear in the same order in both.

    Empty when fewer than half of the shared unique words keep their order: the texts are
    unrelated, and anchoring them on chance matches would only make noise.
    """
    count_a, count_b = Counter(a), Counter(b)
    in_b = {word: j for j, word in enumerate(b) if count_b[word] == 1}
    pairs = [(i, in_b[word]) for i, word in enumerate(a) if count_a[word] == 1 and word in in_b]
    # longest increasing subsequence of the b positions, by patience sorting
    tops: list[int] = []
    ends: list[int] = []
    back: list[int] = []
    for k, (_, j) in enumerate(pairs):
        pile = bisect_left(tops, j)
        back.append(ends[pile - 1] if pile else -1)
        if pile == len(tops):
            tops.append(j)
            ends.append(k)
        else:
            tops[pile], ends[pile] = j, k
    chain, k = [], ends[-1] if ends else -1
    while k >= 0:
        chain.append(pairs[k])
        k = back[k]
    return chain[::-1] if 2 * len(chain) >= len(pairs) else []


def _tidy(ops: list[DiffOp]) -> list[DiffOp]:
    """Drop empty ops, merge neighbours, and fold short equal runs between changes into them.

    "<del>quick brown</del><ins>slow red</ins>" reads better than two changes split by a space.
    As in diff-match-patch's semantic cleanup, an equal run is short when it is no longer
    than the changes on either side of it; a fold grows its changes, so repeat until none is left.
    """
    while True:
        tidy = _fold(ops)
        if len(tidy) == len(ops):
            return tidy
        ops = tidy


def _fold(ops: list[DiffOp]) -> list[DiffOp]:
    out: list[DiffOp] = []
    for k, op in enumerate(ops):
        following = (ops[j] for j in range(k + 1, len(ops)))  # no slice: that would copy the rest each time
        if op.op == "equal" and 0 < len(op.text) <= min(_change_size(reversed(out)), _change_size(following)):
            _push(out, DiffOp("delete", op.text))
            _push(out, DiffOp("insert", op.text))
        elif op.text:
            _push(out, op)
    return out


def _change_size(ops: Iterable[DiffOp]) -> int:
    """The longest text among the changes that lead `ops`, up to the first equal run."""
    size = 0
    for op in ops:
        if op.op == "equal" and op.text:
            break
        size = max(size, len(op.text))
    return size


def _push(out: list[DiffOp], op: DiffOp) -> None:
    # within a run of changes every deletion goes before every insertion
    at = len(out) - 1 if op.op == "delete" and out and out[-1].op == "insert" else len(out)
    if at and out[at - 1].op == op.op:
        out[at - 1] = DiffOp(op.op, out[at - 1].text + op.text)
    else:
        out.insert(at, op)
