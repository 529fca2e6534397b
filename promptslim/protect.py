"""Protected spans: text no generator may change.

Template placeholders of every common style, markup tags, fenced and inline code, URLs,
numbers, quoted strings, JSON/YAML blocks, and user-declared spans (<keep>...</keep> markers,
removed on output, or --keep REGEX). Generators edit only the free text between spans, and
every variant is checked against the original's spans before it is returned: the spans in
order, and exactly the same placeholders (none lost, none invented).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from .errors import InputError

KEEP_MARKER = re.compile(r"</?keep>", re.I)
_KEEP_BLOCK = re.compile(r"<keep>(.*?)</keep>", re.I | re.S)

# Template placeholders, one alternative per style. Every alternative opens with a literal
# character and nothing is captured, so the regex engine jumps between { $ [ < _ % instead of
# trying the pattern at every position (a named group would turn that off).
PLACEHOLDER = re.compile(
    "|".join(
        [
            r"\{%.{0,400}?%\}|\{#.{0,400}?#\}",  # Jinja statements and comments
            r"\{\{\{?[^{}\n]{0,200}\}?\}\}",  # {{x}}, {{ x | filter }}, {{{x}}}
            r"\$\{(?:[^{}\n]|\{[^{}\n]*\}){1,200}\}",  # ${x}, ${x:default}, ${x:-${y}}
            # {x}, {0}, {}, {x!r}, {x:>10}, {user.name}, {items[0]}, {customer name}
            r"\{ ?(?:[^\W\d][\w.-]*(?:\[[^\[\]{}\n]{1,40}\])*(?: [^\W\d][\w-]*){0,3}|\d*) ?"
            r"(?:![rsa])?(?::(?:[^{}\n]|\{[\w.]*\}){0,40})?\}",
            r"\[\[[^\[\]\n]{1,100}\]\]",  # [[X]]
            # [USER_ID], [INSERT TEXT], [Your Name], [insert the article here]
            r"\[(?:[A-Z][A-Z0-9_]*(?:[ ./-][A-Z0-9_]+)*|[A-Z][a-z'\u2019]*(?: [A-Z][\w'\u2019-]*)*"
            r"|(?i:insert|enter|your|add|type|put)\b[^\[\]\n]{0,60})\]",
            r"<<[^<>\n]{1,100}>>",  # <<x>>
            r"<[^\W\d][\w .'\u2019:-]{0,60}>",  # <x>, <customer_name>, <YOUR NAME>: markup when it also closes
            r"__(?<!\w__)[^\W_](?:\w*?[^\W_])?__(?!\w)",  # __NAME__, __init__
            r"%\([^\W\d]\w*\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]",  # %(x)s
            r"%(?<![\d%]%)[-#0+]?\d*(?:\.\d+)?[sdifr](?!\w)",  # %s, %d, %.2f: not a percentage's sign
            r"\$(?<![\w$\\]\$)[^\W\d]\w*",  # $name, where a letter follows the $ and no word precedes it
        ]
    ),
    re.S,
)
# HTML/XML tags: a closing tag, or an opening one with attributes or self-closing
_MARKUP = re.compile(r"</[A-Za-z][\w:.-]*\s*>|<[A-Za-z][\w:.-]*(?:\s[^<>\n]{0,200}?)?/?>")
_CLOSING = re.compile(r"</([A-Za-z][\w:.-]*)\s*>")
_VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())

# (kind, pattern, substrings one of which every match holds: a cheap test that skips the scan)
_PATTERNS: list[tuple[str, re.Pattern, tuple[str, ...]]] = [
    ("code", re.compile(r"`[^`\n]+`"), ("`",)),
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"), ("@",)),
    (
        "quote",
        re.compile(
            # the look-behind comes after the quote mark: every alternative opens with its mark
            r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|「[^」\n]{1,300}」|『[^』\n]{1,300}』|'(?<!\w')[^'\n]{1,300}'(?!\w)"
        ),
        ('"', "“", "「", "『", "'"),
    ),
    # [-+]?\$?\d+(?:[.,:/]\d+)*%?, written to open with one character class: the regex engine
    # then jumps between candidate characters instead of trying the pattern at every position
    ("number", re.compile(r"[-+$\d](?:(?<=[-+])\$?\d+|(?<=\$)\d+|(?<=\d)\d*)(?:[.,:/]\d+)*%?"), tuple("0123456789")),
]


# URLs are found from what every one holds ("://" or "www."), a fast literal search, and then
# matched where they can start
_URL = re.compile(r"(?:https?|ftp)://[^\s<>\"'`)\]]+|www\.[^\s<>\"'`)\]]+", re.I)


class Span(NamedTuple):  # a tuple: a long prompt has tens of thousands (every number is one)
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Protected:
    """A text with its keep markers removed, and the spans that must survive."""

    text: str
    spans: tuple[Span, ...]  # sorted and disjoint (merged)

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
    spans += _fenced_blocks(text) + _structured_blocks(text) + _placeholder_spans(text) + _urls(text)
    for kind, pattern, needles in _PATTERNS:
        if any(n in text for n in needles):
            spans += [Span(m.start(), m.end(), kind) for m in pattern.finditer(text)]
    return Protected(text, tuple(merge_spans(spans)))


def fold(text: str) -> str:
    """Lower case, same length: U+0130 is the one letter whose lower case has two characters."""
    return text.lower() if text.isascii() or "\u0130" not in text else text.replace("\u0130", "i").lower()


def _urls(text: str) -> list[Span]:
    """What `\\b(?:https?|ftp)://...|\\bwww\\....` finds, tried only at a scheme before "://" or at "www."."""
    lower = fold(text)
    if "://" not in text and "www." not in lower:
        return []
    hints = sorted([(at, "://") for at in find_all(text, "://")] + [(at, "www.") for at in find_all(lower, "www.")])
    spans, end = [], 0
    for at, hint in hints:
        for start in (at - 5, at - 4, at - 3) if hint == "://" else (at,):  # https, http or ftp
            if start < end or start < 0 or start and (text[start - 1].isalnum() or text[start - 1] == "_"):
                continue
            match = _URL.match(text, start)
            if match is not None:
                spans.append(Span(start, match.end(), "url"))
                end = match.end()
                break
    return spans


def find_all(text: str, needle: str) -> list[int]:
    """Every position where `needle` starts (overlapping ones too)."""
    out, pos = [], text.find(needle)
    while pos >= 0:
        out.append(pos)
        pos = text.find(needle, pos + 1)
    return out


def _placeholder_spans(text: str) -> list[Span]:
    """Placeholders and markup tags: both stay verbatim; only placeholders are counted."""
    spans = [Span(m.start(), m.end(), "placeholder") for m in PLACEHOLDER.finditer(text)]
    if "<" in text:
        closing = markup_names(text)
        spans = [
            Span(s.start, s.end, "markup")
            if text[s.start] == "<" and text[s.start + 1] != "<" and _is_markup(text[s.start + 1 : s.end - 1], closing)
            else s
            for s in spans
        ]
        spans += [Span(m.start(), m.end(), "markup") for m in _MARKUP.finditer(text)]
    return spans


def placeholders(text: str, markup: frozenset[str] | None = None) -> list[str]:
    """The template placeholders of a text, in order. An angle-bracket name is a slot unless it
    is markup: a void HTML tag, or a name that also closes (`</name>`) in the text or in `markup`."""
    found = [m.group(0) for m in PLACEHOLDER.finditer(text)]
    if any(f[0] == "<" and f[1] != "<" for f in found):
        closing = markup_names(text) | (markup or frozenset())
        found = [f for f in found if f[0] != "<" or f[1] == "<" or not _is_markup(f[1:-1], closing)]
    return found


def has_placeholder(text: str) -> bool:
    return bool(placeholders(text))


def markup_names(text: str) -> frozenset[str]:
    """Tag names that close somewhere in the text: `<name>` there is markup, not a slot."""
    return frozenset(m.group(1) for m in _CLOSING.finditer(text)) if "</" in text else frozenset()


def _is_markup(name: str, closing: frozenset[str]) -> bool:
    name = name.strip()
    return name in closing or name.lower() in _VOID_TAGS


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
    if "```" not in text and "~~~" not in text:
        return []  # a fast test: the fence pattern is tried at every line
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


def span_toucher(spans: Iterable[Span], merged: bool = False) -> Callable[[int, int], bool]:
    """Does [start, end) overlap one of the spans? Merged, the spans are sorted and disjoint, so
    their ends are sorted too: a binary search, not a walk over every span. `merged`: they are
    already (a Protected's spans, and those spans shifted by edits between them)."""
    merged = list(spans) if merged else merge_spans(list(spans))
    ends = [s.end for s in merged]

    def touches(start: int, end: int) -> bool:
        i = bisect_right(ends, start)
        return i < len(merged) and merged[i].start < end

    return touches


def merge_spans(spans: list[Span]) -> list[Span]:
    """The spans sorted, overlapping ones joined."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            if span.end > last.end:
                merged[-1] = Span(last.start, span.end, last.kind)
            continue
        merged.append(span)
    return merged


def same_placeholders(original: str, variant: str) -> bool:
    """Does the variant hold exactly the original's placeholders (as a multiset)? One lost, or
    one invented (a rewrite that adds a `[Your Name]`), fails."""
    markup = markup_names(original) | markup_names(variant)
    return Counter(placeholders(variant, markup)) == Counter(placeholders(original, markup))


def preserved(original: Protected, variant_text: str, *, removed: Sequence[tuple[int, int]] = ()) -> bool:
    """Does a variant keep every protected span of the original, in order?

    Spans lying wholly inside `removed` ranges of the original (whole few-shot examples a
    generator chose to drop) may go, except template placeholders, which must all survive.
    """
    if not same_placeholders(original.text, variant_text):
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
    if not same_placeholders(original.text, variant_text):
        return False
    needed = Counter(original.protected_texts())
    return all(variant_text.count(text) >= n for text, n in needed.items())
