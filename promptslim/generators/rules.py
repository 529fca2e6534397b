"""Rule-based shortening: deterministic, no model.

Whitespace and markup normalisation, filler and politeness removal, a verbose-phrase table,
and removal of repeated sentences, in English and Chinese (language detected per prompt).
Rules edit only free text between protected spans, and structure that carries meaning
(list markers, headings, labels such as `Review:`) is never touched. Rules are applied until
nothing changes, so compressing the output again changes nothing.

Speed: each rule has a finder that yields exactly what `pattern.finditer` would, but tries
the pattern only where a match can start (at a literal the match must hold, at sentence or
line starts), or skips the rule when a substring it needs is absent: Python's regex engine
would otherwise try every rule at every character.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

from ..constants import CJK, SENTENCE_END
from ..protect import Protected, Span, protect, span_toucher

MAX_PASSES = 8


@dataclass(frozen=True)
class Edit:
    rule: str
    start: int
    end: int
    before: str
    after: str


@dataclass(frozen=True)
class RulesOutput:
    text: str
    edits: tuple[Edit, ...]  # every edit of the first pass, in original-text positions
    language: str


def detect_language(text: str) -> str:
    """'zh' when CJK characters make up a large share of the letters, else 'en'."""
    cjk = 0 if text.isascii() else len(re.findall(r"[\u4e00-\u9fff\u3400-\u4dbf]", text))
    if not cjk:
        return "en"  # without counting the letters of a long English text
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if cjk * 3 >= latin else "en"


# ---- finders: where a rule's pattern is tried

_SENTENCE_END = re.compile(rf"[{SENTENCE_END}]")  # its CJK marks only add starts that _SENTENCE_START rejects
_NEWLINE = re.compile(r"\n")
# Under re.IGNORECASE four non-ASCII letters match ASCII ones. str.lower() maps the Kelvin
# sign to "k" but not these three (and turns U+0130 into two characters): they need a table.
_FOLD_APART = ("\u0130", "\u0131", "\u017f")
_FOLD = {
    **{c: c + 32 for c in range(ord("A"), ord("Z") + 1)},
    0x130: ord("i"),
    0x131: ord("i"),
    0x17F: ord("s"),
    0x212A: ord("k"),
}
_CJK = re.compile(rf"[{CJK}]")  # every Chinese rule needs one of these characters


class _Scan:
    """One text, with the positions several finders share (computed on first use)."""

    def __init__(self, text: str):
        self.text = text

    @cached_property
    def folded(self) -> str:
        """The text as re.IGNORECASE sees ASCII letters: lower case, same offsets."""
        text = self.text
        return text.translate(_FOLD) if any(c in text for c in _FOLD_APART) else text.lower()

    @cached_property
    def line_starts(self) -> list[int]:
        return [0] + [m.end() for m in _NEWLINE.finditer(self.text)]

    @cached_property
    def sentence_starts(self) -> list[int]:
        """Where `_SENTENCE_START` holds under re.M: line starts, and one or two whitespace
        characters after . ! or ? (str.isspace is exactly the regex's \\s)."""
        text, starts = self.text, set(self.line_starts)
        for end in _SENTENCE_END.finditer(text):
            after = end.end()
            if text[after : after + 1].isspace():
                starts.add(after + 1)
                if text[after + 1 : after + 2].isspace():
                    starts.add(after + 2)
        return sorted(starts)

    @cached_property
    def has_cjk(self) -> bool:
        # isascii() is a fast C check: most texts are ASCII, and skip the search
        return not self.text.isascii() and _CJK.search(self.text) is not None

    def has_any(self, needles: Sequence[str]) -> bool:
        return any(n in self.folded for n in needles)

    def near(self, needles: Sequence[str], back: int) -> list[int]:
        """Every position at most `back` characters before a needle (as re.I matches it)."""
        positions: set[int] = set()
        for needle in needles:
            found = self.folded.find(needle)
            while found >= 0:
                positions.update(range(max(0, found - back), found + 1))
                found = self.folded.find(needle, found + 1)
        return sorted(positions)


Finder = Callable[[re.Pattern, _Scan], Iterable[re.Match]]


def _matches_at(pattern: re.Pattern, text: str, starts: Iterable[int]) -> Iterator[re.Match]:
    """What `pattern.finditer(text)` yields, given (in order) every position where a match can
    start: the leftmost match, then the leftmost from its end. No rule's pattern matches empty."""
    end = 0
    for start in starts:
        if start >= end:
            match = pattern.match(text, start)
            if match:
                yield match
                end = match.end()


def _if_any(*needles: str) -> Finder:
    """For patterns that cannot match without one of these substrings."""
    return lambda pattern, scan: pattern.finditer(scan.text) if any(n in scan.text for n in needles) else ()


def _near(needles: Sequence[str], back: int) -> Finder:
    """For patterns whose every match holds one of `needles` at most `back` characters after its
    start (letters compared as re.IGNORECASE does: for re.I patterns, or needles of whitespace)."""
    return lambda pattern, scan: (
        _matches_at(pattern, scan.text, scan.near(needles, back)) if scan.has_any(needles) else ()
    )


def _at_sentence_starts(pattern: re.Pattern, scan: _Scan) -> Iterable[re.Match]:
    return _matches_at(pattern, scan.text, scan.sentence_starts)


def _at_line_starts(pattern: re.Pattern, scan: _Scan) -> Iterable[re.Match]:
    return _matches_at(pattern, scan.text, scan.line_starts)


def _if_cjk(pattern: re.Pattern, scan: _Scan) -> Iterable[re.Match]:
    return pattern.finditer(scan.text) if scan.has_cjk else ()


# ---- the rules: (name, pattern, replacement, finder); replacement may be a function of the match

Replacement = "str | Callable[[re.Match], str]"
Rule = tuple[str, "re.Pattern | None", Replacement, Finder]
_SENTENCE_START = r"(?:^|(?<=[.!?]\s)|(?<=[.!?]\s\s))"


def _drop_and_capitalise(match: re.Match) -> str:
    """Removed filler at a sentence start: the next word takes the capital letter."""
    nxt = match.group("next")
    if nxt.lower() == "not":  # "I would like you to not add..." -> "Do not add..."
        return "Do not"
    return nxt[:1].upper() + nxt[1:]


def _phrase_rule(table: dict[str, str]) -> Rule:
    """One rule for the whole table: each phrase's matches in table order, exactly as one rule
    per phrase would give them (two phrases never match the same span, so no tie changes)."""

    def keep_case(replacement: str):
        def sub(match: re.Match) -> str:
            return replacement[:1].upper() + replacement[1:] if match.group(0)[:1].isupper() else replacement

        return sub

    phrases = [(k, re.compile(rf"\b{re.escape(k)}\b", re.I)) for k in table]
    subs = {pattern: keep_case(table[k]) for k, pattern in phrases}

    def find(_: None, scan: _Scan) -> Iterator[re.Match]:
        for phrase, pattern in phrases:
            if phrase in scan.folded:
                yield from _matches_at(pattern, scan.text, scan.near((phrase,), 0))

    return ("verbose phrase", None, lambda match: subs[match.re](match), find)


EN_FILLER_STARTS = [
    r"i would (?:really )?like (?:for )?you to",
    r"i(?:'d| would) (?:really )?appreciate it if you (?:could|would)",
    r"i want you to",
    r"i need you to",
    r"(?:could|can|would|will) you(?: please| kindly)?",
    r"please(?: kindly)?,?",
    r"kindly",
    r"be so kind as to",
    r"if possible,",
    r"if you can,",
    r"as an ai(?: language model)?,",
    r"basically,?",
    r"essentially,",
    r"just",
]
EN_FILLER_ANYWHERE = [
    r"please",
    r"kindly",
    r"if possible",
    r"if you can",
    r"i think",
    r"i believe",
    r"basically",
    r"actually",
    r"really",
    r"very",
    r"quite",
    r"simply",
    r"carefully",
    r"for me",
]
EN_FILLER_SENTENCES = [
    r"(?:hello|hi|hey|greetings|good (?:morning|afternoon|evening))(?: there)?"
    r"(?: (?:assistant|chatgpt|ai|model))?[,!.]",
    r"dear (?:assistant|model|ai|chatgpt)[,!.]",
    r"i hope (?:you are|you're|this finds you) (?:doing )?well(?: today)?[.!]",
    r"(?:and )?thank(?:s| you)(?: so much| very much)?(?: in advance)?(?:,? (?:for|in) [^.!?\n]{0,80})?[.!]",
    r"your help is (?:greatly |much |really )?appreciated[.!]",
    r"i appreciate (?:your|the) help[.!]",
    r"(?:many|much) thanks(?: in advance)?[.!]",
]
EN_SENTENCE_LEADS = [
    r"(?:it is|it's) (?:very |really |extremely )?(?:important|crucial|essential) (?:to note )?that you",
    r"please note that",
    r"note that",
    r"keep in mind that",
    r"remember that",
    r"it would be (?:really |very |so )?(?:great|helpful|nice|wonderful|good|ideal) if you (?:could|would|can)",
]
# "..., I would like you to read" -> "..., read": only after a comma or "and", where no capital is needed
EN_FILLER_CLAUSES = r"(?:(?<=, )|(?<=\band ))(?:i would (?:really )?like you to|i want you to|i need you to) (?=\w)"
EN_VERBOSE = {
    "in order to": "to",
    "so as to": "to",
    "due to the fact that": "because",
    "owing to the fact that": "because",
    "in view of the fact that": "because",
    "in spite of the fact that": "although",
    "despite the fact that": "although",
    "in the event that": "if",
    "on the condition that": "if",
    "at this point in time": "now",
    "at the present time": "now",
    "for the purpose of": "for",
    "with regard to": "about",
    "with respect to": "about",
    "in relation to": "about",
    "in reference to": "about",
    "a large number of": "many",
    "a great deal of": "much",
    "the majority of": "most",
    "a small number of": "a few",
    "is able to": "can",
    "are able to": "can",
    "has the ability to": "can",
    "have the ability to": "can",
    "prior to": "before",
    "subsequent to": "after",
    "in the near future": "soon",
    "on a daily basis": "daily",
    "each and every": "every",
    "first and foremost": "first",
    "at all times": "always",
    "in a timely manner": "promptly",
    "it is necessary that you": "you must",
    "it is essential that you": "you must",
    "make sure that": "ensure",
    "take into account": "consider",
    "take into consideration": "consider",
    "give a summary of": "summarise",
    "provide a summary of": "summarise",
    "come to a conclusion": "conclude",
    "make a decision": "decide",
    "in the form of": "as",
    "by means of": "by",
    "until such time as": "until",
    "the fact that": "that",
    "whether or not": "whether",
    "as a matter of fact": "in fact",
    "in actual fact": "in fact",
}
ZH_FILLER = [
    r"(?:您好|你好)[，,！!。]?",
    r"麻烦(?:你|您)(?:帮(?:我们|我))?",
    r"希望(?:你|您)能(?:够)?",
    r"(?:请|烦请)(?:你|您)?(?:帮我)?",
    r"(?:能否|能不能|可不可以|可以)(?:请)?(?:你|您)?帮(?:我|忙)",
    # a sentence of thanks goes whole, not just its first words
    r"(?:^|(?<=[。！？!?\n]))(?:再次)?(?:非常|十分)?(?:感谢|谢谢)[^。！!？?\n]{0,40}[。！!]?",
    r"辛苦(?:你|您)了[。！!]?",
    r"我想让(?:你|您)",
    r"我希望(?:你|您)",
    r"一下",
]
ZH_VERBOSE = {
    "进行总结": "总结",
    "进行分析": "分析",
    "进行翻译": "翻译",
    "进行分类": "分类",
    "进行判断": "判断",
    "进行检查": "检查",
    "加以说明": "说明",
    "为了能够": "为了",
    "的时候": "时",
    "是否能够": "能否",
}


def _alternation(patterns: Sequence[str]) -> str:
    return "(?:" + "|".join(sorted(patterns, key=len, reverse=True)) + ")"


@cache
def _rules(language: str) -> tuple[Rule, ...]:
    """The detected language's rules first. Each table matches only its own script, so the
    other table also runs: mixed prompts (Chinese with English terms) get both, and the
    result does not depend on which script happens to dominate after an edit."""
    zh = [
        ("politeness", re.compile(_alternation(ZH_FILLER), re.M), "", _if_cjk),
        *[("verbose phrase", re.compile(re.escape(k)), v, _if_cjk) for k, v in ZH_VERBOSE.items()],
    ]
    return tuple(zh + _english_rules() if language == "zh" else _english_rules() + zh)


def _english_rules() -> list[Rule]:
    return [
        (
            "politeness",
            re.compile(rf"{_SENTENCE_START}[ \t]*{_alternation(EN_FILLER_SENTENCES)}[ \t]*", re.I | re.M),
            "",
            _at_sentence_starts,
        ),
        (
            "filler",
            re.compile(
                rf"{_SENTENCE_START}(?P<lead>[ \t]*){_alternation(EN_FILLER_STARTS + EN_SENTENCE_LEADS)}"
                r"\s+(?P<next>[a-z]\w*)",
                re.I | re.M,
            ),
            lambda m: m.group("lead") + _drop_and_capitalise(m),
            _at_sentence_starts,
        ),
        # a match starts at the filler word, or at the " " or ", " before it
        # at a clause end (" please.") or before a word ("kindly point"); commas stay
        (
            "filler",
            re.compile(
                rf"(?<=\w) {_alternation(EN_FILLER_ANYWHERE)}(?=[,.;:!?])"
                rf"|(?<=[ (]){_alternation(EN_FILLER_ANYWHERE)},? (?=\w)",
                re.I,
            ),
            "",
            _near(EN_FILLER_ANYWHERE, 1),
        ),
        ("filler", re.compile(EN_FILLER_CLAUSES, re.I), "", _near(("you to",), 20)),
        _phrase_rule(EN_VERBOSE),
    ]


_WHITESPACE_RULES: tuple[Rule, ...] = (
    ("whitespace", re.compile(r"(?<=\S)[ \t]{2,}(?=\S)"), " ", _near(("  ", " \t", "\t ", "\t\t"), 0)),
    ("whitespace", re.compile(r"[ \t]+(?=\n)"), "", _if_any(" \n", "\t\n")),
    ("whitespace", re.compile(r"\n{3,}"), "\n\n", _near(("\n\n\n",), 0)),
    ("whitespace", re.compile(r"(?<=\w) +(?=[,.;:!?]\s)"), "", _if_any(" ,", " .", " ;", " :", " !", " ?")),
    ("whitespace", re.compile(r"(?m)^[ \t]*[,;][ \t]*"), "", _at_line_starts),
    ("markup", re.compile(r"(\*\*|__)(?=\S)([^*_\n]+?)(?<=\S)\1"), lambda m: m.group(2), _if_any("**", "__")),
    ("markup", re.compile(r"([!?])\1+"), lambda m: m.group(1), _if_any("!!", "??")),
)


def _find_edits(protected: Protected, rules, touches: Callable[[int, int], bool]) -> list[Edit]:
    """Matches on the whole text (so anchors and look-behinds see real context), kept only
    where they lie wholly in free text."""
    scan, edits = _Scan(protected.text), []
    for name, pattern, replacement, finder in rules:
        for match in finder(pattern, scan):
            if touches(match.start(), match.end()):
                continue
            after = replacement(match) if callable(replacement) else replacement
            if after != match.group(0):
                edits.append(Edit(name, match.start(), match.end(), match.group(0), after))
    return edits


_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？]?")
_LABEL = re.compile(r"^\s*[\w ]{1,20}:")


def _repeated_sentences(protected: Protected, touches: Callable[[int, int], bool]) -> list[Edit]:
    """Sentences (of five words or more) said before, outside few-shot label lines."""
    seen, edits = set(), []
    for match in _SENTENCE.finditer(protected.text):
        sentence = match.group(0)
        key = " ".join(sentence.lower().split()).strip(" .!?。！？")  # spacing and the end mark aside
        if len(key) < 12 and key.count(" ") < 4 or ":" in sentence and _LABEL.match(sentence):
            continue
        if key in seen and not touches(match.start(), match.end()):
            end = match.end() + (1 if protected.text[match.end() : match.end() + 1] == " " else 0)
            edits.append(Edit("repeated sentence", match.start(), end, protected.text[match.start() : end], ""))
        seen.add(key)
    return edits


def find_edits(protected: Protected, language: str | None = None) -> list[Edit]:
    """All rule edits on the free text, non-overlapping, in text order."""
    language = language or detect_language(protected.text)
    rules = _WHITESPACE_RULES + _rules(language)
    touches = span_toucher(protected.spans)
    edits = _find_edits(protected, rules, touches) + _repeated_sentences(protected, touches)
    chosen, end = [], -1
    for edit in sorted(edits, key=lambda e: (e.start, -(e.end - e.start))):
        if edit.start >= end:
            chosen.append(edit)
            end = edit.end
    return chosen


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    out, pos = [], 0
    for edit in edits:
        out.append(text[pos : edit.start])
        out.append(edit.after)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def compress(text: str, keep: Sequence = ()) -> RulesOutput:
    """Apply every rule until nothing changes; protected spans are left as they are."""
    return _compress(text, tuple(keep))


@lru_cache(maxsize=8)
def _compress(text: str, keep: tuple) -> RulesOutput:
    # remembered: an audit asks for the edits, then compresses the same text for each target
    protected = protect(text, keep)
    language = detect_language(protected.text)
    first = find_edits(protected, language)
    current, edits = protected, first
    for _ in range(MAX_PASSES):
        if not edits:
            break
        current = _shifted(current, edits)
        edits = find_edits(current, language)
    out = current.text
    if out.startswith("\n") and not protected.text.startswith("\n"):
        out = out.lstrip("\n")  # what is left of a removed greeting
    return RulesOutput(out, tuple(first), language)


def _shifted(protected: Protected, edits: Sequence[Edit]) -> Protected:
    """The text after the edits, with the same protected spans at their new offsets: edits lie
    wholly in free text, so the spans move but never change (and need no second search)."""
    spans, delta, i = [], 0, 0
    for span in protected.spans:
        while i < len(edits) and edits[i].end <= span.start:
            delta += len(edits[i].after) - (edits[i].end - edits[i].start)
            i += 1
        spans.append(Span(span.start + delta, span.end + delta, span.kind))
    return Protected(apply_edits(protected.text, edits), tuple(spans))
