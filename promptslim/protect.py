"""Protected spans: text no generator may change.

Template variables, fenced and inline code, URLs, numbers, quoted strings, JSON/YAML blocks,
and user-declared spans (<keep>...</keep> markers, removed on output, or --keep REGEX).
Generators edit only the free text between spans, and every variant is checked against the
original's spans before it is returned.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .errors import InputError
from .prompt import VARIABLE

KEEP_MARKER = re.compile(r"</?keep>", re.I)
_KEEP_BLOCK = re.compile(r"<keep>(.*?)</keep>", re.I | re.S)

# (kind, pattern, substrings one of which every match holds: a cheap test that skips the scan)
_PATTERNS: list[tuple[str, re.Pattern, tuple[str, ...]]] = [
    ("variable", VARIABLE, ("{{",)),
    ("code", re.compile(r"`[^`\n]+`"), ("`",)),
    (
        "url",
        re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`)\]]+|\bwww\.[^\s<>\"'`)\]]+", re.I),
        ("://", "www.", "WWW.", "Www."),
    ),
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"), ("@",)),
    (
        "quote",
        re.compile(
            r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|「[^」\n]{1,300}」|『[^』\n]{1,300}』|(?<![\w])'[^'\n]{1,300}'(?![\w])"
        ),
        ('"', "“", "「", "『", "'"),
    ),
    # [-+]?\$?\d+(?:[.,:/]\d+)*%?, written to open with one character class: the regex engine
    # then jumps between candidate characters instead of trying the pattern at every position
    ("number", re.compile(r"[-+$\d](?:(?<=[-+])\$?\d+|(?<=\$)\d+|(?<=\d)\d*)(?:[.,:/]\d+)*%?"), tuple("0123456789")),
]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Protected:
    """A text with its keep markers removed, and the spans that must survive."""

    text: str
    spans: tuple[Span, ...]

    def segments(self) -> list[tuple[str, bool]]:
        """(piece, is_protected) pieces that join back to the text."""
        pieces, pos = [], 0
        for span in self.spans:
            if span.start > pos:
                pieces.append((self.text[pos : span.start], False))
            pieces.append((self.text[span.start : span.end], True))
            pos = span.end
        if pos < len(self.text):
            pieces.append((self.text[pos:], False))
        return pieces

    def protected_texts(self) -> list[str]:
        return [self.text[s.start : s.end] for s in self.spans]


def compile_keep(patterns: Iterable[str] | None) -> tuple[re.Pattern, ...]:
    compiled = []
    for pattern in patterns or ():
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise InputError(f"--keep {pattern!r}: not a valid regular expression ({exc})") from None
    return tuple(compiled)


def protect(text: str, keep: Sequence[re.Pattern] | Sequence[str] = ()) -> Protected:
    """Find the protected spans of a text (keep markers are removed first)."""
    keep = compile_keep(keep) if keep and isinstance(keep[0], str) else tuple(keep)
    return _protect(text, keep)


@lru_cache(maxsize=32)  # a generator and its structure check ask about the same text
def _protect(text: str, keep: tuple[re.Pattern, ...]) -> Protected:
    text, spans = _strip_keep_markers(text)
    spans += [Span(m.start(), m.end(), "keep") for p in keep for m in p.finditer(text) if m.end() > m.start()]
    spans += _fenced_blocks(text) + _structured_blocks(text)
    for kind, pattern, needles in _PATTERNS:
        if any(n in text for n in needles):
            spans += [Span(m.start(), m.end(), kind) for m in pattern.finditer(text)]
    return Protected(text, tuple(_merge(spans)))


def marked_as_keep(text: str) -> tuple[re.Pattern, ...]:
    """Patterns for the <keep>...</keep> contents, so they stay protected once markers go."""
    return tuple(re.compile(re.escape(m.group(1))) for m in _KEEP_BLOCK.finditer(text) if m.group(1))


def _strip_keep_markers(text: str) -> tuple[str, list[Span]]:
    spans, out, pos = [], [], 0
    for match in _KEEP_BLOCK.finditer(text):
        out.append(KEEP_MARKER.sub("", text[pos : match.start()]))
        start = sum(len(p) for p in out)
        out.append(match.group(1))
        spans.append(Span(start, start + len(match.group(1)), "keep"))
        pos = match.end()
    out.append(KEEP_MARKER.sub("", text[pos:]))  # stray markers go too
    return "".join(out), spans


_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})", re.M)


def _fenced_blocks(text: str) -> list[Span]:
    """Fenced code blocks; an unclosed fence runs to the end of the text."""
    spans, opening = [], None
    for match in _FENCE.finditer(text):
        if opening is None:
            opening = match
        elif match.group(1)[0] == opening.group(1)[0] and len(match.group(1)) >= len(opening.group(1)):
            line_end = text.find("\n", match.end())
            spans.append(Span(opening.start(), len(text) if line_end < 0 else line_end, "code"))
            opening = None
    if opening is not None:
        spans.append(Span(opening.start(), len(text), "code"))
    return spans


_JSON_START = re.compile(r"^[ \t]*[\[{]", re.M)
_YAML_BLOCK = re.compile(r"^([ \t]*)[\w.-]+:[ \t]*\n(?:\1[ \t]+\S[^\n]*(?:\n|\Z))+", re.M)


def _structured_blocks(text: str) -> list[Span]:
    """Multi-line JSON objects/arrays that parse, and YAML mappings with nested lines."""
    spans = []
    decoder = json.JSONDecoder()
    for match in _JSON_START.finditer(text):
        start = match.end() - 1
        try:
            _, end = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if "\n" in text[start:end] or end - start > 2:
            spans.append(Span(start, end, "json"))
    spans += [Span(m.start(), m.end(), "yaml") for m in _YAML_BLOCK.finditer(text)]
    return spans


def span_toucher(spans: Iterable[Span]) -> Callable[[int, int], bool]:
    """Does [start, end) overlap one of the spans? Merged, the spans are sorted and disjoint, so
    their ends are sorted too: a binary search, not a walk over every span."""
    merged = _merge(list(spans))
    ends = [s.end for s in merged]

    def touches(start: int, end: int) -> bool:
        i = bisect_right(ends, start)
        return i < len(merged) and merged[i].start < end

    return touches


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            if span.end > last.end:
                merged[-1] = Span(last.start, span.end, last.kind)
            continue
        merged.append(span)
    return merged


def preserved(original: Protected, variant_text: str, *, removed: Sequence[tuple[int, int]] = ()) -> bool:
    """Does a variant keep every protected span of the original, in order?

    Spans lying wholly inside `removed` ranges of the original (whole few-shot examples a
    generator chose to drop) may go, except template variables, which must all survive.
    """
    if Counter(VARIABLE.findall(variant_text)) != Counter(VARIABLE.findall(original.text)):
        return False
    pos = 0
    for span in original.spans:
        if any(a <= span.start and span.end <= b for a, b in removed):
            continue
        found = variant_text.find(original.text[span.start : span.end], pos)
        if found < 0:
            return False
        pos = found + (span.end - span.start)
    return True


def contains_all(original: Protected, variant_text: str) -> bool:
    """Order-free check for rewrites: every protected span still appears (as a multiset)."""
    if Counter(VARIABLE.findall(variant_text)) != Counter(VARIABLE.findall(original.text)):
        return False
    needed = Counter(original.protected_texts())
    return all(variant_text.count(text) >= n for text, n in needed.items())
