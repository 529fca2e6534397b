"""LM-guided token pruning with the local GGUF model's self-information.

Learning from LLMLingua, with llama-cpp-python only:
- a coarse, demonstration-level budget first: whole demonstrations go, balanced across labels,
  before any word is cut (a small model follows a few intact examples better than many mangled
  ones), and the words of the demonstrations kept go only after the instruction's;
- the question and template slots are never cut; protected spans and structural words are forced;
- the text is scored segment by segment, each conditioned on what was kept before it: the
  dropped tokens are removed from the KV cache, so each token is evaluated exactly once;
- within a segment the lowest-information words go first until the segment meets its share
  of `rate` (fraction of target tokens kept); words are the units, never parts of words;
- log-softmax is computed a few rows at a time from llama.cpp's logits buffer, never as an
  n_tokens x vocab array of our own; prompts longer than the context run in windows.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..constants import CJK, CLAUSE_END
from ..errors import InputError
from ..protect import PLACEHOLDER, Protected, Span, markup_names, placeholders, protect, span_toucher
from .shots import balanced_order, find_demonstrations, remove_ranges

if TYPE_CHECKING:
    from ..runtime.llama import ScoringContext

DEFAULT_RATE = 0.5  # the share of the tokens kept when no rate or token target is given
SEGMENT_WORDS = 96
ROW_CHUNK = 32
PRUNE_N_CTX = 2048
PRUNE_N_BATCH = 256
RATE_TOLERANCE = 0.02  # kept share of the tokens, within this of the rate asked for
FIT_ROUNDS = 3
# free instruction words keep at least rate ** INSTRUCTION_FLOOR of their tokens; the
# demonstrations are kept whole from the rest, and the instruction takes what they leave: at low
# rates the examples come first, near rate 1 every section is cut lightly
INSTRUCTION_FLOOR = 3.0
# whole demonstrations may fill this share of the prompt beyond the budget; the words of the
# kept ones then go (LLMLingua's "+100" context budget): one more whole example beats the words
DEMO_SLACK = 0.1
# words that flip or bound meaning are never dropped (LLMLingua's "force tokens", for words)
FORCED_WORDS = re.compile(
    r"(?:not|no|never|none|nor|without|only|except|unless|must|don't|doesn't|didn't|can't|cannot|won't|"
    r"isn't|aren't|shouldn't|mustn't|n't)[\W]*",
    re.I,
)
# the same in Chinese, where pruning goes character by character: any character of these stays
FORCED_CJK = re.compile(r"不|没|别|勿|禁止|仅|只|未|无|非|必须|务必")


def check_rate(rate: float | None) -> float | None:
    if rate is not None and not 0 < rate <= 1:
        raise InputError(f"--rate {rate}: must be in (0, 1], the fraction of tokens to keep")
    return rate


@dataclass
class Word:
    start: int  # char offsets, the word's leading whitespace included
    end: int
    forced: bool
    section: str  # instruction | demo | question
    cost: int = 0  # target tokens
    saving: int = 0  # target tokens saved by dropping it (its sentence-end punctuation stays)
    info: float = 0.0  # summed surprisal of its model tokens
    n_model_tokens: int = 0
    kept: bool = True
    demo: int | None = None  # which demonstration it is part of


class SurprisalScorer:
    """Feeds tokens to a llama.cpp context and returns each token's -log p(token | kept prefix)."""

    def __init__(self, model: ScoringContext):
        self.model = model
        self.n_ctx, self.n_batch, self.n_vocab = model.n_ctx, model.n_batch, model.n_vocab
        self.restart()

    def restart(self) -> None:
        self.model.clear()
        self.n_past = 0
        self.next_row: np.ndarray | None = None  # log-probs for the token after the last one fed

    def room(self) -> int:
        return self.n_ctx - self.n_past

    def feed(self, tokens: Sequence[int], wanted: Sequence[bool]) -> tuple[np.ndarray, list[int]]:
        """Surprisal of each wanted token (0 for the others) and the KV positions all took. Only
        the rows that predict a wanted token get logits: the output layer over the whole vocabulary
        is a large share of a small model's work."""
        surprisal = np.zeros(len(tokens), dtype=np.float64)
        positions = list(range(self.n_past, self.n_past + len(tokens)))
        scratch = np.empty((ROW_CHUNK, self.n_vocab), dtype=np.float32)
        for lo in range(0, len(tokens), self.n_batch):
            chunk = np.asarray(tokens[lo : lo + self.n_batch], dtype=np.int64)
            # row i predicts token i + 1; the last row, the first token of what comes next
            targets = np.flatnonzero(wanted[lo + 1 : lo + len(chunk)]) + 1
            logits = self.model.decode(chunk.tolist(), self.n_past, [*(targets - 1).tolist(), len(chunk) - 1])
            if self.next_row is not None and wanted[lo]:
                surprisal[lo] = -self.next_row[chunk[0]]
            for r0 in range(0, len(targets), ROW_CHUNK):
                rows, hit = logits[r0 : r0 + ROW_CHUNK], targets[r0 : r0 + ROW_CHUNK]
                rows = rows[: len(hit)]
                surprisal[lo + hit] = _logsumexp(rows, scratch[: len(rows)]) - rows[np.arange(len(hit)), chunk[hit]]
            last = logits[-1:]
            self.next_row = (last - _logsumexp(last, scratch[:1])[:, None])[0].copy()
            self.n_past += len(chunk)
        return surprisal, positions

    def forget(self, positions: Sequence[int]) -> None:
        """Drop tokens from the KV cache; later tokens continue right after the last kept one."""
        for p in positions:
            self.model.remove(p)
        if positions:
            self.n_past = self.model.next_position()
            if positions[-1] >= self.n_past:
                self.next_row = None if self.n_past == 0 else self.next_row


# a word's trailing punctuation, which stays when the word goes
_CLAUSE_MARKS = re.compile(rf"[{CLAUSE_END}]*$")


def _logsumexp(rows: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Row-wise log-sum-exp, a few rows at a time through a reused buffer."""
    peak = rows.max(axis=1)
    np.subtract(rows, peak[:, None], out=scratch)
    np.exp(scratch, out=scratch)
    return np.log(scratch.sum(axis=1)) + peak


# Units of pruning: whitespace-separated words, except that Chinese and Japanese text, written
# without spaces, goes one character at a time (a line-start label such as "评论：" stays whole)
_UNIT = re.compile(rf"\s*(?:(?<![^\n])[{CJK}][\w{CJK}]{{0,19}}[:：]|[{CJK}]|[^\s{CJK}]+)")
_STRUCTURAL = re.compile(rf"(?:[-*+•]|\d+[.)]|#+|[\w{CJK}]+[:：])")  # list markers, headings, labels


def _words(protected: Protected) -> list[Word]:
    text = protected.text
    demos = find_demonstrations(text)
    question_start = demos[-1].end if demos else _question_start(text)
    # protected spans, negations, and each demonstration's answer: the examples exist to show it
    kept = span_toucher(
        [
            *protected.spans,
            *(Span(*m.span(), "negation") for m in FORCED_CJK.finditer(text)),
            *(Span(*d.answer, "answer") for d in demos if d.answer),
        ]
    )
    demo_starts = [d.start for d in demos]  # in text order, disjoint
    words = []
    for match in _UNIT.finditer(text):
        start, end = match.start(), match.end()
        core = match.group(0).lstrip()
        structural = bool(_STRUCTURAL.fullmatch(core)) and (
            start == 0 or "\n" in match.group(0) or text[max(0, start - 1)] == "\n"
        )
        forced = structural or bool(FORCED_WORDS.fullmatch(core)) or kept(end - len(core), end)
        at = bisect_right(demo_starts, start) - 1
        demo = at if at >= 0 and start < demos[at].end else None
        if start >= question_start:
            section = "question"
        else:
            section = "instruction" if demo is None else "demo"
        words.append(Word(start, end, forced or section == "question", section, demo=demo))
    return words


def _question_start(text: str) -> int:
    """Without demonstrations the question slot is the last paragraph holding a placeholder (else
    its line). Placeholders are kept wherever they are; a prompt whose first line holds the last
    of them has no question slot apart from them: it would be the whole instruction."""
    last, markup = None, markup_names(text)
    for match in PLACEHOLDER.finditer(text):
        if placeholders(match.group(0), markup):  # a slot, not a markup tag
            last = match
    if last is None:
        return len(text)
    para = text.rfind("\n\n", 0, last.start())
    start = para + 2 if para >= 0 else text.rfind("\n", 0, last.start()) + 1
    return start or len(text)


def _token_offsets(model: ScoringContext, text: str) -> tuple[list[int], list[int]]:
    """Model tokens of the text and the char offset where each starts."""
    data = text.encode("utf-8")
    tokens = model.tokenize(text)
    byte_to_char = np.zeros(len(data) + 1, dtype=np.int64)
    pos = 0
    for i, ch in enumerate(text):
        n = len(ch.encode("utf-8"))
        byte_to_char[pos : pos + n] = i
        pos += n
    byte_to_char[pos] = len(text)
    offsets, cursor = [], 0
    for token in tokens:
        offsets.append(int(byte_to_char[min(cursor, len(data))]))
        cursor += len(model.token_bytes(token))
    return tokens, offsets


def _section_rates(words: list[Word], rate: float, floor: float) -> dict[str, float]:
    """The share of its free words' tokens each section keeps: the demonstrations first, after
    the instruction's `floor` share; the instruction, what they leave."""
    total = sum(w.cost for w in words)
    forced = sum(w.cost for w in words if w.forced)
    free = {s: sum(w.cost for w in words if not w.forced and w.section == s) for s in ("instruction", "demo")}
    slack = rate * total - forced
    droppable = free["instruction"] + free["demo"]
    if droppable <= 0 or slack <= 0:
        return {"instruction": 0.0, "demo": 0.0}
    if not free["demo"] or not free["instruction"]:
        keep = min(1.0, slack / droppable)
        return {"instruction": keep, "demo": keep}
    floor = min(floor, slack / droppable)
    demo = min(1.0, (slack - floor * free["instruction"]) / free["demo"])
    return {"instruction": min(1.0, (slack - demo * free["demo"]) / free["instruction"]), "demo": demo}


def _drop_demonstrations(protected: Protected, count: Callable[[str], int], rate: float) -> str:
    """LLMLingua's coarse budget control, for demonstrations: keep whole ones, in
    shots.balanced_order, while they fit what the budget (and DEMO_SLACK) leaves after the
    question and the instruction's floor; never fewer than one per label. One holding a
    protected span stays."""
    text = protected.text
    demos = find_demonstrations(text)
    if len(demos) < 2:
        return text
    costs = [count(text[d.start : d.end]) for d in demos]
    outside = count(text[: demos[0].start]), count(text[demos[-1].end :])  # instruction, question
    room = (rate + DEMO_SLACK) * (sum(costs) + sum(outside)) - outside[1] - rate**INSTRUCTION_FLOOR * outside[0]
    touches = span_toucher(protected.spans, merged=True)
    kept = {i for i, d in enumerate(demos) if touches(d.start, d.end)}
    labels = len({d.label for d in demos})
    for rank, i in enumerate(balanced_order([d.label for d in demos])):
        if rank >= labels and sum(costs[j] for j in kept | {i}) > room:
            break
        kept.add(i)
    return remove_ranges(text, [(d.start, d.end) for i, d in enumerate(demos) if i not in kept])


def prune_text(text: str, model: ScoringContext, count: Callable[[str], int], rate: float, keep: Sequence = ()) -> str:
    """Keep about `rate` of the text's target tokens, dropping the least informative words, as
    the local `model` (from compress.prune_llm) scores them."""
    protected = protect(text, keep)
    budget = rate * count(protected.text)
    floor = rate**INSTRUCTION_FLOOR
    text = _drop_demonstrations(protected, count, rate)
    if text != protected.text:
        protected = protect(text, keep)
        rate = budget / count(text)
        if rate >= 1:
            return text
    words = _words(protected)
    if not words:
        return text
    for word in words:
        piece = text[word.start : word.end]
        word.cost = count(piece)
        word.saving = word.cost - count(_CLAUSE_MARKS.search(piece).group(0))
    rates = _section_rates(words, rate, floor)
    _score(text, words, model, rates)
    return _fit_rate(text, words, count, rate, floor)


def _score(text: str, words: list[Word], model: ScoringContext, rates: dict[str, float]) -> None:
    """Score the words segment by segment, each conditioned on the words kept before it, and
    choose each segment's drops. Nothing after the last free word is fed: no word is scored on it."""
    free_end = max((w.end for w in words if not w.forced), default=0)
    tokens, offsets = _token_offsets(model, text[:free_end])
    starts = [w.start for w in words]
    scorer = SurprisalScorer(model)
    token_index = 0
    for segment in _segments(words):
        first = token_index
        while token_index < len(tokens) and offsets[token_index] < segment[-1].end:
            token_index += 1
        if first == token_index:
            continue
        owners = [_owner(words, starts, offsets[i]) for i in range(first, token_index)]
        if token_index - first > scorer.room():
            scorer.restart()  # a new window: the context is full
        wanted = [owner is not None and not owner.forced for owner in owners]
        surprisal, positions = scorer.feed(tokens[first:token_index], wanted)
        for owner, value in zip(owners, surprisal):
            if owner is not None:
                owner.info += float(value)
                owner.n_model_tokens += 1
        drop_ids = {id(w) for w in _choose_drops(segment, rates)}
        scorer.forget([p for p, owner in zip(positions, owners) if owner is not None and id(owner) in drop_ids])


def _fit_rate(text: str, words: list[Word], count: Callable[[str], int], rate: float, floor: float) -> str:
    """Words' token costs are counted one by one, and the sum misses where the tokenizer merges
    neighbours (common in Chinese): measure the result and re-choose the drops from the same
    scores, no model call, until the kept share is within RATE_TOLERANCE of `rate`."""
    total = count(text)
    pruned, goal, aim = _assemble(text, words), rate * total, rate
    for _ in range(FIT_ROUNDS):
        got = count(pruned)
        if not goal or abs(got - goal) <= RATE_TOLERANCE * total:
            break
        aim = min(1.0, max(0.0, aim * goal / max(1, got)))
        rates = _section_rates(words, aim, floor)
        for word in words:
            word.kept = True
        for segment in _segments(words):
            _choose_drops(segment, rates)
        pruned = _assemble(text, words)
    return pruned


def _segments(words: list[Word]) -> list[list[Word]]:
    """The words in runs of SEGMENT_WORDS: each run is scored, and meets its share of the rate, together."""
    return [words[i : i + SEGMENT_WORDS] for i in range(0, len(words), SEGMENT_WORDS)]


def _owner(words: list[Word], starts: list[int], offset: int) -> Word | None:
    i = bisect_right(starts, offset) - 1
    return words[i] if i >= 0 and offset < words[i].end else None


def _choose_drops(segment: list[Word], rates: dict[str, float]) -> list[Word]:
    dropped = []
    for section in ("instruction", "demo"):
        candidates = [w for w in segment if w.section == section and not w.forced]
        if not candidates:
            continue
        budget = rates[section] * sum(w.cost for w in candidates)
        kept_cost = sum(w.cost for w in candidates)
        left = Counter(w.demo for w in candidates)  # free words each demonstration keeps
        for word in sorted(candidates, key=lambda w: w.info / max(1, w.n_model_tokens)):
            if kept_cost <= budget:
                break
            if word.demo is not None and left[word.demo] == 1:
                continue  # an example with no words of its own left would show its answer to nothing
            left[word.demo] -= 1
            word.kept = False
            kept_cost -= word.saving
            dropped.append(word)
    return dropped


def _assemble(text: str, words: list[Word]) -> str:
    """The kept words with the line breaks of the dropped ones, and the clause ends of those that
    end a clause with a kept word in it, right after that word: a clause dropped whole leaves no
    stray mark."""
    out, pos, line_broken, said, said_at = [], 0, False, False, 0
    for word in words:
        piece = text[word.start : word.end]
        ending = _CLAUSE_MARKS.search(piece).group(0)
        if word.kept:
            if line_broken:  # a dropped line start: the next word starts the line, unindented
                out.append(text[pos : word.start].rstrip(" \t"))
                piece = piece.lstrip(" \t")
            else:
                out.append(text[pos : word.start])
            out.append(piece)
            pos, line_broken, said, said_at = word.end, False, not ending, len(out)
            continue
        out.append(text[pos : word.start])
        if said and ending:  # the clause's end, right after its last kept word
            out.insert(said_at, ending)
            said = False
        breaks = piece[: len(piece) - len(piece.lstrip())].count("\n")
        out.append("\n" * breaks)  # keep line breaks
        line_broken = line_broken or breaks > 0
        pos = word.end
    out.append(text[pos:])
    pruned = "".join(out)
    return pruned if text[:1].isspace() else pruned.lstrip()
