"""Rule-based shortening: deterministic, no model, at two levels.

`safe` (the default) makes meaning-preserving edits only: whitespace, greetings and thanks
addressed to the model, a "Please" before an instruction, wordy phrases with a plain
equivalent ("in order to" -> "to"), and an instruction line repeated word for word.
`aggressive` adds telegraphic edits a modern model still follows: articles, copulas, hedges
and intensifiers, politeness anywhere, "I want you to act as X" -> "Act as X", verbose
connectives, bold markup. Its edits stay out of demonstrations and of the data a prompt
quotes (what follows `Text:`, `Email:`, `Story:`, ...), and they are unverified: the
optimizer keeps the level only where the task score holds.

Both levels edit only the free text between protected spans (template placeholders, code,
quotes, numbers, URLs, ...), so no edit removes a placeholder's sentence or line. They keep
line endings (CRLF stays CRLF), indentation, list items and markdown structure, and never
remove a sentence repeated inside a list, a quote, a dialogue or a story. Rules are applied
until nothing changes, so compressing the output again changes nothing.

Speed: each rule table is one regex over the lower-cased text, written so that the regex
engine can skip ahead (phrase tables are tries, sentence rules first find a sentence end),
and every pass after the first scans only the lines around the previous pass's edits.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from itertools import chain
from typing import NamedTuple

from ..constants import CJK
from ..errors import InputError
from ..protect import Protected, Span, find_all, fold, merge_spans, protect, span_toucher

LEVELS = ("safe", "aggressive")
DEFAULT_LEVEL = "safe"
MAX_PASSES = 24  # later passes only look at the lines around the last edits
WINDOW_LINES = 2  # lines around an edit that a later pass scans again
MATCH_REACH = 400  # characters a rule's match may run past the window it starts in (the longest: ~160)


class Edit(NamedTuple):  # a tuple: made by the thousand
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


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise InputError(f"unknown level '{level}': use one of {', '.join(LEVELS)}")
    return level


def detect_language(text: str) -> str:
    """'zh' when CJK characters make up a large share of the letters, else 'en'."""
    cjk = 0 if text.isascii() else len(re.findall(r"[\u4e00-\u9fff\u3400-\u4dbf]", text))
    if not cjk:
        return "en"  # without counting the letters of a long English text
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if cjk * 3 >= latin else "en"


# ---------------------------------------------------------------- the tables

# Sentence openers, matched at a sentence start and removed; "lead" openers hand their capital
# letter to the next word. (name, kind, the words an opener starts with, the rest of its
# pattern), on the lower-cased text. "polite" edits are made at the safe level, but never in
# demonstrations or quoted data; "aggressive" ones only at the aggressive level. At the safe
# level a greeting goes only at the very start of the text or as a paragraph of its own, a
# bare "Thanks!" or a sign-off only at its very end or as a paragraph of its own.
_END = r"[ \t]*"
_THANKS = ("thank you", "thanks", "many thanks", "and thank you", "and thanks")
SENTENCE_RULES: list[tuple[str, str, tuple[str, ...], str]] = [
    (
        "greeting",
        "polite",
        ("hello", "hi", "hey", "greetings", "good morning", "good afternoon", "good evening", "good day"),
        r"(?: there)?(?: (?:assistant|chatgpt|claude|gpt|ai|model|team|everyone|all))?(?:[!.]|,(?: and)?)" + _END,
    ),
    ("dear", "polite", ("dear",), r" (?:assistant|model|ai|chatgpt|claude|gpt)[,!.]" + _END),
    (
        "hope",
        "polite",
        ("i hope",),
        r" (?:you are|you're|this finds you)(?: doing| having)? (?:well|a (?:good|great|nice|lovely) day)"
        r"(?: today)?[.!]" + _END,
    ),
    (
        "thanks_for",  # thanks in advance, or for the model's help: said to the model
        "polite",
        _THANKS,
        r"(?: (?:so|very) much| a lot)?(?: in advance(?:,? for [^.!?\n]{0,80})?"
        r"|,? for (?:your|the|all your) (?:help|time|assistance|patience|support|effort|cooperation|review|answer|reply"
        r"|feedback|work)(?:[^.!?\n]{0,80})?|,? for (?:helping|taking the time)[^.!?\n]{0,80})[.!]" + _END,
    ),
    (
        "appreciated",
        "polite",
        ("your help is", "this is"),
        r" (?:greatly |much |really |very much )?appreciated[.!]" + _END,
    ),
    (
        "appreciate",
        "polite",
        ("i", "we"),
        r" (?:really |greatly |truly )?appreciate (?:your|the|all your) help[^.!?\n]{0,60}[.!]" + _END,
    ),
    ("thanks_bare", "polite", _THANKS, r"(?: (?:so|very) much| a lot)?[.!]" + _END),
    (
        "sign_off",
        "polite",
        ("kind regards", "best regards", "warm regards"),
        r"(?:,? and thank(?:s| you)[^.!?\n]{0,60})?[.!,]?" + _END,
    ),
    ("please", "polite", ("please", "kindly"), r"(?:,? kindly)?,?\s+(?=[a-z])"),
    (
        "note",
        "polite",
        ("note", "please note", "keep in mind", "bear in mind", "remember"),
        r" that\s+(?=[a-z])",
    ),
    ("thanks_any", "aggressive", _THANKS, r"[^.!?\n]{0,80}[.!]" + _END),
    (
        "request",
        "aggressive",
        (
            "i would like you to",
            "i would really like you to",
            "i would like for you to",
            "i'd appreciate it if you",
            "i would appreciate it if you",
            "i'd really appreciate it if you",
            "i would really appreciate it if you",
            "i want you to",
            "i need you to",
            "i would like to ask you to",
            "i was wondering if you could",
            "i would be grateful if you could",
            "i would be very grateful if you could",
            "i would be really grateful if you could",
            "would you be so kind as to",
            "be so kind as to",
            "could you",
            "can you",
            "would you",
            "will you",
            "if possible,",
            "if at all possible,",
            "if you can,",
            "as an ai,",
            "as an ai language model,",
            "basically",
            "essentially,",
            "just",
            "your task is to",
            "your job is to",
            "your goal is to",
            "your role is to",
            "make sure to",
            "be sure to",
            "feel free to",
            "don't hesitate to",
            "needless to say,",
            "as mentioned before,",
            "as mentioned above,",
            "as mentioned earlier,",
            "it is important that",
            "it is very important that",
            "it is really important that",
            "it is extremely important that",
            "it's important that",
            "it's very important that",
            "it is crucial that",
            "it is essential that",
            "it is vital that",
            "it is important to note that",
            "it would be great if you",
            "it would be really great if you",
            "it would be very helpful if you",
            "it would be helpful if you",
            "it would be nice if you",
            "it would be ideal if you",
        ),
        r"(?:(?<=you) (?:could|would|can)|(?<=that) you)?(?:(?<=you) (?:please|kindly))?,?\s+(?=[a-z])",
    ),
    ("article", "aggressive", ("the", "a", "an"), r" (?=[a-z])"),
]
_LEAD_RULES = {"please": "filler", "note": "filler", "request": "filler", "article": "article"}
_SAFE_AT_TEXT_START = {"greeting"}
_SAFE_AT_TEXT_END = {"thanks_bare", "sign_off"}

# phrase -> plain equivalent; case follows the phrase's first letter
EN_VERBOSE = {
    "in order to": "to",
    "so as to": "to",
    "due to the fact that": "because",
    "owing to the fact that": "because",
    "in view of the fact that": "because",
    "in spite of the fact that": "although",
    "despite the fact that": "although",
    "in the event that": "if",
    "at this point in time": "now",
    "at the present time": "now",
    "for the purpose of": "for",
    "with regard to": "about",
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
    "on a regular basis": "regularly",
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
    "whether or not": "whether",
    "as a matter of fact": "in fact",
    "in actual fact": "in fact",
}
# telegraphic: shorter, and what a model still follows, but not always the same meaning
EN_TERSE = {
    "the fact that": "that",
    "with respect to": "about",
    "in relation to": "about",
    "in reference to": "about",
    "however,": "but",
    "therefore,": "so",
    "consequently,": "so",
    "as a result,": "so",
    "on the other hand,": "but",
    "in addition,": "also,",
    "in addition to": "besides",
    "as well as": "and",
    "is going to": "will",
    "are going to": "will",
    "a number of": "several",
    "a variety of": "various",
    "with the exception of": "except",
    "in the case that": "if",
    "make use of": "use",
    "in accordance with": "per",
    "is required to": "must",
    "are required to": "must",
    "is not able to": "cannot",
    "are not able to": "cannot",
    "in the process of": "",
    "for the most part": "mostly",
    "as soon as possible": "ASAP",
    "short and concise": "concise",
    "double-check": "check",
}
# words and phrases dropped mid-sentence (aggressive), before a word or at a clause end
EN_HEDGES = [
    "i would like you to",
    "i would really like you to",
    "i want you to",
    "i need you to",
    "please",
    "kindly",
    "if possible",
    "if at all possible",
    "if you can",
    "if you don't mind",
    "if that makes sense",
    "as far as i can tell",
    "as far as you can",
    "as best you can",
    "where possible",
    "more or less",
    "i think",
    "i believe",
    "basically",
    "essentially",
    "actually",
    "really",
    "very",
    "quite",
    "simply",
    "carefully",
    "for me",
    "just",
    "perhaps",
    "somewhat",
    "sort of",
    "kind of",
    "truly",
    "extremely",
    "completely",
    "absolutely",
]
# "that is" and "which are" before these are dropped (aggressive): "the text that is below"
_REDUCIBLE = (
    "below|above|provided|given|attached|shown|listed|included|mentioned|described|written|used|needed|required"
    "|relevant|necessary|available|possible|based|related"
)
# articles stay where dropping them changes the meaning
_ARTICLE_MEANS = "few|little|lot|bit|couple|same|one|other|most|least|only"
_KEEP_ARTICLE = re.compile(rf"(?:a|an|the) (?:{_ARTICLE_MEANS})\b")
# every alternative opens with a literal character (no optional or grouped start), so the
# regex engine jumps between candidate characters instead of trying every position
_ZH_SENTENCE = r"[^。！!？?\n]{0,40}[。！!]?"  # the rest of a sentence of thanks
_ZH_THANKS = rf"(?:感谢|谢谢){_ZH_SENTENCE}"
_ZH_HELP = r"(?:请)?(?:你|您)?帮(?:我|忙)"
ZH_FILLER = [
    r"您好[，,！!。]?|你好[，,！!。]?",
    r"麻烦(?:你|您)(?:帮(?:我们|我))?",
    r"希望(?:你|您)能(?:够)?",
    r"请(?:你|您)?(?:帮我)?|烦请(?:你|您)?(?:帮我)?",  # at a sentence or clause start
    rf"能否{_ZH_HELP}|能不能{_ZH_HELP}|可不可以{_ZH_HELP}|可以{_ZH_HELP}",
    # a sentence of thanks goes whole, not just its first words; at a sentence start
    rf"再次(?:非常|十分)?{_ZH_THANKS}|非常{_ZH_THANKS}|十分{_ZH_THANKS}|感谢{_ZH_SENTENCE}|谢谢{_ZH_SENTENCE}",
    r"辛苦(?:你|您)了[。！!]?",
    r"我想让(?:你|您)",
    r"我希望(?:你|您)",
    r"一下(?!子)",
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
# the first words of an instruction line: only such a line, said twice word for word, may go
DIRECTIVES = (
    "answer reply respond write return output use keep do don't never always only make ensure remember be avoid"
    " include list give provide summarise summarize translate classify explain format follow read check add remove"
    " describe identify extract generate create rewrite focus consider note please stay limit state mention cite"
    " ignore treat assume act refuse label choose select rate score compare tell show print convert fix correct"
    " review analyse analyze evaluate determine decide find highlight flag put set start end begin finish respect"
    " important reminder"
).split() + ["you must", "you should", "you will", "your answer", "your reply", "your response", "your output"]
# labels after which a prompt quotes data (its wording is not the prompt's to change)
DATA_LABELS = (
    "text input email e-mail message messages document article passage passages context story review reviews"
    " transcript conversation dialog dialogue chat thread ticket content source data excerpt quote notes post comment"
    " comments feedback description code query question user customer original paragraph sentence poem lyrics essay"
    " report letter book chapter example examples sample samples recipe script log logs diff table file page abstract"
    " draft profile bio resume cv listing 原文 文本 评论 对话 邮件"
).split()


# ---------------------------------------------------------------- regex building


def _trie(phrases: Iterable[str], boundary: bool = True) -> str:
    """An alternation of literal phrases as a trie: each position tries one branch per next
    character, not every phrase. The longest phrase wins; with `boundary`, a phrase that ends
    in a word character ends at a word boundary."""
    root: dict = {}
    for phrase in phrases:
        node = root
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict, last: str) -> str:
        branches = [re.escape(ch) + build(child, ch) for ch, child in sorted(node.items()) if ch]
        if "" in node:  # a phrase ends here: tried after the longer ones
            branches.append(r"\b" if boundary and (last.isalnum() or last == "_") else "")
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return build(root, "")


def _capitalised(replacement: str, original: str) -> str:
    return replacement[:1].upper() + replacement[1:] if original[:1].isupper() else replacement


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


# ---------------------------------------------------------------- one text in one pass

_CJK = re.compile(rf"[{CJK}]")


class _Text:
    """A text under edit, and what may not be edited: protected spans at every level; the
    demonstrations and quoted data (found when first needed) for politeness and aggressive edits."""

    def __init__(
        self, text: str, spans: Sequence[Span], level: str, data: Sequence[Span] | None = None, cjk: bool | None = None
    ):
        # spans: merged, as a Protected holds them; cjk: known from the text before its edits,
        # which add no CJK character (and a scan of a text that lost them finds nothing)
        self.text, self.spans, self.level = text, tuple(spans), level
        self.touches = span_toucher(self.spans, merged=True)
        self._data = None if data is None else tuple(data)
        self._cjk = cjk

    @cached_property
    def folded(self) -> str:
        return fold(self.text)

    @property
    def has_cjk(self) -> bool:
        if self._cjk is None:
            self._cjk = not self.text.isascii() and _CJK.search(self.text) is not None
        return self._cjk

    @property
    def data(self) -> tuple[Span, ...]:
        if self._data is None:  # merged: a pass's edits move them, each pass checks against them
            self._data = tuple(merge_spans(list(data_regions(self.text))))
        return self._data

    @cached_property
    def in_data(self) -> Callable[[int, int], bool]:
        return span_toucher(self.data, merged=True)

    @cached_property
    def outside_data(self) -> list[tuple[int, int]]:
        """Windows over the text between its quoted data, for the tables whose edits never go
        there; data shorter than MATCH_REACH between two windows is scanned with them."""
        windows: list[tuple[int, int]] = []
        pos = 0
        for span in [*self.data, Span(len(self.text), len(self.text), "")]:
            if span.start > pos:
                if windows and pos - windows[-1][1] < MATCH_REACH:
                    windows[-1] = (windows[-1][0], span.start)
                else:
                    windows.append((pos, span.start))
            pos = max(pos, span.end)
        return windows

    def allows(self, start: int, end: int, kind: str) -> bool:
        """May an edit of this kind (safe, polite or aggressive) change [start, end)?"""
        if kind == "aggressive" and self.level != "aggressive" or self.touches(start, end):
            return False
        return kind == "safe" or not self.in_data(start, end)


@dataclass(frozen=True)
class _Table:
    """One regex for a whole rule table, and what each of its matches becomes."""

    pattern: re.Pattern | _Heads
    edit: Callable[[_Text, re.Match], Edit | None]
    # lower-cased substrings a match needs: with none in the text, no scan (only where testing them
    # is cheaper than a scan: one that stops at every space)
    needles: tuple[str, ...] = ()
    cjk: bool = False  # runs on the text itself, and only when it has CJK characters
    # its edits are polite or aggressive, never made in quoted data: the first pass scans around it
    outside_data: bool = False

    def edits(self, t: _Text, windows: Sequence[tuple[int, int]] | None) -> Iterator[Edit]:
        if self.cjk and not t.has_cjk:
            return
        if windows is None:
            if self.needles and not any(n in t.folded for n in self.needles):
                return  # a later pass looks at a few lines: cheaper to scan them than to test the needles
            windows = t.outside_data if self.outside_data else [(0, len(t.text))]
        source = t.text if self.cjk else t.folded
        for lo, hi in windows:
            # from the line break before the window to a line break well after it: a match that
            # starts in the window is seen whole, and the scan stops soon after the window
            stop = source.find("\n", hi + MATCH_REACH) if hi < len(source) else -1
            for match in self.pattern.finditer(source, max(0, lo - 1), len(source) if stop < 0 else stop + 1):
                if match.start() >= hi:
                    break
                edit = self.edit(t, match)
                if edit is not None:
                    yield edit


def _edit(t: _Text, rule: str, start: int, end: int, after: str, kind: str = "safe") -> Edit | None:
    if end <= start or t.text[start:end] == after or not t.allows(start, end, kind):
        return None
    return Edit(rule, start, end, t.text[start:end], after)


# -- sentence openers: a sentence start found first, then the openers tried there


class _Heads:
    """Matches of `body` where `head` (one character class, so the regex engine can skip to it)
    precedes it, and at the text's very start; the body is the `phrase` group."""

    def __init__(self, body: str, head: str, lead: str = ""):
        self.after = re.compile(f"{head}{lead}(?P<phrase>{body})")
        self.first = re.compile(f"{lead}(?P<phrase>{body})")

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None) -> Iterator[re.Match]:
        endpos = len(text) if endpos is None else endpos
        rest = self.after.finditer(text, pos, endpos)  # the regex engine's own iterator: no frame per match
        if pos == 0 and (first := self.first.match(text, 0, endpos)) is not None:
            return chain((first,), rest)
        return rest


@cache
def _sentence_table(level: str) -> _Table:
    rules = [rule for rule in SENTENCE_RULES if level == "aggressive" or rule[1] != "aggressive"]
    openers = [f"{_trie(words)}{rest}" for _, _, words, rest in rules]
    opener = re.compile("|".join(f"(?P<{rule[0]}>{o})" for rule, o in zip(rules, openers)))
    kinds = {name: kind for name, kind, _, _ in rules}

    def edit(t: _Text, match: re.Match) -> Edit | None:
        return _opener(t, match.end(), opener, kinds)

    # a sentence starts after . ! or ? and one or two spaces or line breaks, or on a new line
    # (its indent kept); only where an opener follows is there a match (the regex engine tries
    # the openers, so a sentence start without one costs no call)
    starts = _Heads(f"(?={'|'.join(openers)})", r"(?:\n|[.!?][ \t\n]{1,2})", r"[ \t]*")
    return _Table(starts, edit, outside_data=True)


def _opener(t: _Text, at: int, opener: re.Pattern, kinds: dict[str, str]) -> Edit | None:
    match = opener.match(t.folded, at)
    if match is None:
        return None
    name, text, end = match.lastgroup, t.text, match.end()
    kind = kinds[name]
    if name in _SAFE_AT_TEXT_START and text[:at].strip() or name in _SAFE_AT_TEXT_END and text[end:].strip():
        if not _paragraph(text, at, end):  # in a paragraph, a greeting or thanks is a story's or a dialogue's
            kind = "aggressive"
    lead = name in _LEAD_RULES or name in ("greeting", "dear") and "," in t.folded[at:end]  # "Hi, can you..."
    if not lead:
        return _edit(t, "politeness", at, end, "", kind)
    if end >= len(text) or not text[end].isalpha():
        return None
    if name == "article" and (not text[end].islower() or _KEEP_ARTICLE.match(t.folded, at)):
        return None  # before a name ("The Hague"), or where the article carries meaning ("a few")
    nxt = "Do n" if t.folded.startswith("not ", end) else text[end].upper()
    if text[at].islower():  # the sentence started in lower case: it goes on in lower case
        nxt = nxt.lower()
    return _edit(t, _LEAD_RULES.get(name, "politeness"), at, end + 1, nxt, kind)


def _paragraph(text: str, start: int, end: int) -> bool:
    """Is [start, end) a paragraph of its own: a blank line (or the text's edge) on both sides?"""
    line_start, line_end = text.rfind("\n", 0, start) + 1, text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if text[line_start:start].strip() or text[end:line_end].strip():
        return False
    above = text.rfind("\n", 0, max(0, line_start - 1)) + 1
    below = text.find("\n", line_end + 1)
    blank_above = line_start == 0 or not text[above : line_start - 1].strip()
    blank_below = line_end == len(text) or not text[line_end + 1 : len(text) if below < 0 else below].strip()
    return blank_above and blank_below


# -- phrase tables: one trie each


@cache
def _phrase_table(level: str) -> _Table:
    table = {**EN_VERBOSE, **(EN_TERSE if level == "aggressive" else {})}

    def edit(t: _Text, match: re.Match) -> Edit | None:
        start, end = match.start("phrase"), match.end()
        phrase = t.folded[start:end]
        kind = "safe" if phrase in EN_VERBOSE else "aggressive"
        return _edit(t, "verbose phrase", start, end, _capitalised(table[phrase], t.text[start:end]), kind)

    return _Table(_Heads(_trie(table), r"[ \n(]"), edit)


# -- hedges and intensifiers, dropped before a word or at a clause end (" please.")


@cache
def _hedge_table(level: str) -> _Table:
    words = EN_HEDGES if level == "aggressive" else ["please"]
    pattern = re.compile(" " + _trie(words) + r"(?:(?=[,.;:!?])|,?(?= \w))")

    def edit(t: _Text, match: re.Match) -> Edit | None:
        start, end, text = match.start(), match.end(), t.text
        before = text[start - 1] if start else "\n"
        if end < len(text) and text[end] in ",.;:!?":  # at a clause end, with the comma before it
            kind = "polite" if t.folded.startswith(" please", start) else "aggressive"
            if before == ",":
                return _edit(t, "filler", start - 1, end, "", kind)
            return _edit(t, "filler", start, end, "", kind) if _is_word(before) else None
        if before in ".!?" or before.isspace():
            return None  # a sentence's first word: the openers' business
        return _edit(t, "filler", start, end, "", "aggressive")

    return _Table(pattern, edit, outside_data=True)


# -- articles and copulas mid-sentence (aggressive)


@cache
def _terse_table() -> _Table:
    # from the space before, so the engine skips from space to space; no match where the article
    # carries meaning ("a few")
    pattern = re.compile(
        rf" (?:(?:the|an?) (?!(?:{_ARTICLE_MEANS})\b)|(?:that|which) (?:is|are) (?=(?:{_REDUCIBLE})\b))(?=[a-z])"
    )

    def edit(t: _Text, match: re.Match) -> Edit | None:
        start, end = match.start() + 1, match.end()
        if not t.text[end].islower():
            return None  # before a name ("the Rings")
        rule = "copula" if t.folded.startswith(("that ", "which "), start) else "article"
        return _edit(t, rule, start, end, "", "aggressive")

    return _Table(pattern, edit, outside_data=True)


# -- whitespace (both levels) and markup (aggressive)

# runs of two spaces or more, a space before a line break, blank lines beyond one; a space
# before a clause mark. Each alternative opens with its literal, so the engine skips ahead.
_WHITESPACE = re.compile(r"  +| \n|\n\n\n+")
_SPACE_MARK = re.compile(r" [,.;:!?]")


def _whitespace_edit(t: _Text, match: re.Match) -> Edit | None:
    start, end, text = match.start(), match.end(), t.text
    if text[start] == "\n":
        return _edit(t, "whitespace", start, end, "\n\n")
    if text[start + 1] == "\n":
        return _edit(t, "whitespace", start, start + 1, "")
    before, after = text[start - 1 : start], text[end : end + 1]
    if not before or before.isspace() or not after:
        return None  # an indent, or spaces that end the prompt: the author's
    if after == "\n":
        return _edit(t, "whitespace", start, end, "")
    if after.isspace():
        return None  # before a tab or a CR: left as it is
    return _edit(t, "whitespace", start, end, "" if _clause_mark(text, end) and _is_word(before) else " ")


def _space_mark_edit(t: _Text, match: re.Match) -> Edit | None:
    start, text = match.start(), t.text
    if start and _is_word(text[start - 1]) and _clause_mark(text, start + 1):
        return _edit(t, "whitespace", start, start + 1, "")
    return None


def _clause_mark(text: str, at: int) -> bool:
    """A clause mark at `at` that ends a clause (a space, a line break or the end follows)."""
    return text[at : at + 1] in (",", ".", ";", ":", "!", "?") and (at + 1 == len(text) or text[at + 1].isspace())


_MARKUP = re.compile(r"\*\*(?=\S)[^*\n]+?(?<=\S)\*\*|__(?=\S)[^_\n]+?(?<=\S)__|!!+|\?\?+")


def _markup_edit(t: _Text, match: re.Match) -> Edit | None:
    found = match.group(0)
    inner = found[0] if found[0] in "!?" else found[2:-2]
    return _edit(t, "markup", match.start(), match.end(), inner, "aggressive")


# -- Chinese (both levels)


_ZH_STARTS = "。！？!?\n，,：:"  # the first six end a sentence, the rest a clause


@cache
def _chinese_table() -> _Table:
    # every alternative opens with a literal (no anchor, no look-behind, no group): the engine
    # skips ahead; the phrases longest first, as a trie would try them
    phrases = sorted(ZH_VERBOSE, key=len, reverse=True)
    pattern = re.compile("|".join(ZH_FILLER + [re.escape(p) for p in phrases]))

    def edit(t: _Text, match: re.Match) -> Edit | None:
        found, start, end = match.group(0), match.start(), match.end()
        if found in ZH_VERBOSE:
            return _edit(t, "verbose phrase", start, end, ZH_VERBOSE[found])
        if found.startswith(("请", "烦请")) or "感谢" in found[:6] or "谢谢" in found[:6]:
            before = t.text[start - 1] if start else "\n"
            if before not in _ZH_STARTS[: len(_ZH_STARTS) if found[0] in "请烦" else 6]:
                return None  # a request mid-sentence, or thanks that are not a sentence of their own
        return _edit(t, "politeness", start, end, "", "polite")

    return _Table(pattern, edit, cjk=True)


@cache
def _tables(level: str) -> tuple[_Table, ...]:
    tables = [
        _Table(_WHITESPACE, _whitespace_edit, needles=("  ", " \n", "\n\n\n")),
        _Table(_SPACE_MARK, _space_mark_edit),
        _sentence_table(level),
        _phrase_table(level),
        _hedge_table(level),
        _chinese_table(),
    ]
    if level == "aggressive":
        tables += [_terse_table(), _Table(_MARKUP, _markup_edit, outside_data=True)]
    return tuple(tables)


# ---------------------------------------------------------------- quoted data and repeated lines

# on the lower-cased text, from the line break before (the engine skips from break to break)
_DATA_LABEL = _Heads(rf"(?:#+[ \t]*)?(?:[\w-]+ )?{_trie(DATA_LABELS)}(?: [\w-]+)?[ \t]*[:：]", "\n", r"[ \t]*")
# quoted data runs to a heading, an answer cue ("Summary:" alone on its line) or a paragraph
# that opens with an instruction
_DATA_END = re.compile(
    rf"\n[ \t]*(?:#+ |[^\W\d][\w ]{{0,30}}[:：][ \t]*(?=\n|$))|\n[ \t]*\n[ \t]*(?={_trie(DIRECTIVES)})"
)


# a markdown quotation, or a line of dialogue ("Anna: ..."), unless its label names an instruction
_SPOKEN_LINE = _Heads(r"(?:>|[A-Z][\w'\u2019-]*(?: [A-Z][\w'\u2019-]*)?:[ \t]+\S)[^\n]*", "\n", r"[ \t]*")
INSTRUCTION_LABELS = frozenset(
    "note nb ps task rules rule instructions instruction important remember reminder goal goals role format"
    " constraints requirements style tone warning tip hint objective guidelines output answer format".split()
) | {"output format"}


@lru_cache(maxsize=8)  # both levels ask about the same text
def data_regions(text: str) -> tuple[Span, ...]:
    """Demonstrations, and the data a prompt quotes: from a label such as `Text:` or `Email:`
    to the next heading, answer cue or paragraph that gives an instruction."""
    from .shots import find_demonstrations

    regions = [Span(d.start, d.end, "demo") for d in find_demonstrations(text)]
    folded, stop = fold(text), 0
    for label in _DATA_LABEL.finditer(folded):
        start = label.start("phrase")
        if start < stop:
            continue  # inside the data of the label before
        end = _DATA_END.search(folded, label.end())
        stop = len(text) if end is None else end.start()
        regions.append(Span(start, stop, "data"))
    for line in _SPOKEN_LINE.finditer(text):  # quotations and lines of dialogue
        name = line.group("phrase").split(":", 1)[0].lower()
        if name not in INSTRUCTION_LABELS:
            regions.append(Span(line.start("phrase"), line.end(), "quote"))
    return tuple(regions)


# an instruction line, from the line break before it (the engine skips from break to break)
_INSTRUCTION_LINE = _Heads(rf"{_trie(DIRECTIVES)}[:,]?[ \t]+\S[^\n]*", "\n", r"[ \t]*")


def _repeated_lines(t: _Text) -> list[Edit]:
    """Whole instruction lines that say word for word an instruction given before (as a line or
    a sentence): never a list item, a quote, a line of dialogue, a story or other quoted data."""
    text, edits = t.text, []
    for match in _INSTRUCTION_LINE.finditer(t.folded):
        start, end = t.text.rfind("\n", 0, match.start("phrase")) + 1, match.end()
        line = text[start:end].strip()
        if len(line) < 12 or line.count(" ") < 2 or t.touches(start, end):
            continue
        if _said_before(t, line, start) and not t.in_data(start, end):
            stop = end + 1 if end < len(text) else end
            edits.append(Edit("repeated instruction", start, stop, text[start:stop], ""))
    return edits


def _said_before(t: _Text, line: str, limit: int) -> bool:
    text, pos = t.text, 0
    while (found := text.find(line, pos, limit)) >= 0:
        after = found + len(line)
        whole = (found == 0 or text[found - 1].isspace()) and (after == len(text) or text[after].isspace())
        if whole and not t.touches(found, after) and not t.in_data(found, after):
            return True
        pos = found + 1
    return False


# ---------------------------------------------------------------- choosing and applying edits


def _choose(edits: Iterable[Edit], text: str) -> list[Edit]:
    """Non-overlapping edits in text order (the earliest, then the longest first)."""
    chosen, end = [], -1
    for edit in sorted(edits, key=lambda e: (e.start, -(e.end - e.start))):
        if edit.start >= end:
            chosen.append(edit)
            end = edit.end
    return _whole_lines(chosen, text)


def _whole_lines(edits: list[Edit], text: str) -> list[Edit]:
    """Removals that empty a line take the line with its break; a removal at a line's end takes
    the spaces before it: no blank line, no trailing space is left behind."""
    out: list[Edit] = []
    i = 0
    while i < len(edits):
        edit = edits[i]
        if edit.after:
            out.append(edit)
            i += 1
            continue
        line_start = text.rfind("\n", 0, edit.start) + 1
        line_end = text.find("\n", edit.start)
        line_end = len(text) if line_end < 0 else line_end
        j, pos, emptied = i, line_start, True
        while j < len(edits) and edits[j].start < line_end:
            emptied = emptied and not edits[j].after and not text[pos : edits[j].start].strip()
            pos = edits[j].end
            j += 1
        if emptied and not text[pos:line_end].strip() and pos <= line_end + 1:
            lo, hi = (line_start, line_end + 1) if line_end < len(text) else (line_start - 1, line_end)
            if lo < 0 or out and out[-1].end > lo:
                lo = line_start
            out.append(Edit(edit.rule, lo, hi, text[lo:hi], ""))
            while j < len(edits) and edits[j].start < hi:
                j += 1  # an edit of the line break the line takes with it (a blank-line run): the next pass's
            i = j
            continue
        head = text[line_start : edit.start]
        spaces = len(head) - len(head.rstrip(" \t"))
        if spaces and head.strip() and edit.end <= line_end and not text[edit.end : line_end].strip():
            if not out or out[-1].end <= edit.start - spaces:
                edit = Edit(edit.rule, edit.start - spaces, edit.end, text[edit.start - spaces : edit.end], "")
        out.append(edit)
        i += 1
    return out


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    out, pos = [], 0
    for edit in edits:
        out.append(text[pos : edit.start])
        out.append(edit.after)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def _mapper(edits: Sequence[Edit]) -> Callable[[int], int]:
    """Where a position of the text lands once the edits are applied (inside an edit: its start)."""
    starts = [e.start for e in edits]
    shift, shifts = 0, []
    for e in edits:
        shifts.append(shift)
        shift += len(e.after) - (e.end - e.start)

    def new(pos: int) -> int:
        i = bisect_right(starts, pos) - 1
        if i < 0:
            return pos
        e = edits[i]
        if pos >= e.end:
            return pos + shifts[i] + len(e.after) - (e.end - e.start)
        return e.start + shifts[i]

    return new


def _windows(text: str, edits: Sequence[Edit]) -> list[tuple[int, int]]:
    """The lines around each edit, in the edited text, merged."""
    windows: list[tuple[int, int]] = []
    shift = 0
    for edit in edits:
        lo = edit.start + shift
        hi = lo + len(edit.after)
        shift += len(edit.after) - (edit.end - edit.start)
        for _ in range(WINDOW_LINES):
            lo = text.rfind("\n", 0, max(0, lo - 1)) + 1
            nxt = text.find("\n", hi + 1)
            hi = len(text) if nxt < 0 else nxt
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], hi + 1))
        else:
            windows.append((lo, hi + 1))
    return windows


def _shifted(spans: Sequence[Span], edits: Sequence[Edit]) -> list[Span]:
    """Protected spans at their places once the edits are applied: edits lie wholly in free text,
    so both are in text order and a span moves by what the edits before it changed."""
    out, shift, i = [], 0, 0
    for span in spans:
        while i < len(edits) and edits[i].end <= span.start:
            shift += len(edits[i].after) - (edits[i].end - edits[i].start)
            i += 1
        out.append(Span(span.start + shift, span.end + shift, span.kind))
    return out


class _Run:
    """The fixpoint: one pass over the whole text, then passes over the lines around the last
    pass's edits until none is found, then a last look for repeated lines."""

    def __init__(self, t: _Text):
        self.t, self.tables = t, _tables(t.level)
        self.first: list[Edit] = []

    def find(self, windows: Sequence[tuple[int, int]] | None) -> list[Edit]:
        found = [e for table in self.tables for e in table.edits(self.t, windows)]
        return _choose(found + (_repeated_lines(self.t) if windows is None else []), self.t.text)

    def apply(self, edits: list[Edit]) -> list[tuple[int, int]]:
        t = self.t
        text = apply_edits(t.text, edits)
        data = None
        if t._data is not None:  # quoted data may hold edits (safe ones): its ends move with them
            new = _mapper(edits)
            data = [Span(new(s.start), new(s.end), s.kind) for s in t._data]
        self.t = _Text(text, _shifted(t.spans, edits), t.level, data, t.has_cjk)
        return _windows(text, edits)

    def run(self) -> str:
        edits = self.first = self.find(None)
        for _ in range(MAX_PASSES):
            if not edits:
                break
            edits = self.find(self.apply(edits))
            if not edits:  # converged around the edits: did they make a line repeat one said before?
                edits = _choose(_repeated_lines(self.t), self.t.text)
        return self.t.text


# ---------------------------------------------------------------- entry points


def find_edits(protected: Protected, level: str = DEFAULT_LEVEL) -> list[Edit]:
    """The rule edits of one pass over the whole text, non-overlapping, in text order."""
    return _Run(_Text(protected.text, protected.spans, check_level(level))).find(None)


def compress(text: str, keep: Sequence = (), level: str = DEFAULT_LEVEL) -> RulesOutput:
    """Apply every rule of the level until nothing changes; protected spans are left as they are."""
    return _compress(text, tuple(keep), check_level(level))


@lru_cache(maxsize=16)
def _compress(text: str, keep: tuple, level: str) -> RulesOutput:
    # remembered: an audit asks for the edits, then compresses the same text for each target
    protected = protect(text, keep)
    original = protected.text
    crlf = "\r\n" in original and original.count("\r\n") == original.count("\n")
    if crlf:  # edited with plain line breaks, given back with CRLF
        protected = _without_cr(protected)
    language = detect_language(protected.text)
    run = _Run(_Text(protected.text, protected.spans, level))
    out = _trimmed(run.run(), protected.text)
    edits = run.first
    if not out.strip():
        out, edits = protected.text, []  # never an empty prompt
    if crlf:
        out, edits = out.replace("\n", "\r\n"), _with_cr(edits, original)
    return RulesOutput(out, tuple(edits), language)


def _trimmed(out: str, before: str) -> str:
    """No blank lines at either end that the input did not have (left by a removed greeting)."""
    if not before.startswith("\n"):
        out = out.lstrip("\n")
    breaks = len(before) - len(before.rstrip("\n"))
    if len(out) - len(out.rstrip("\n")) > breaks:
        out = out.rstrip("\n") + "\n" * breaks
    return out


def _without_cr(protected: Protected) -> Protected:
    text = protected.text
    crs = find_all(text, "\r")

    def lf(pos: int) -> int:
        return pos - bisect_right(crs, pos - 1)

    spans = tuple(Span(lf(s.start), lf(s.end), s.kind) for s in protected.spans)
    return Protected(text.replace("\r\n", "\n"), spans)


def _with_cr(edits: Sequence[Edit], original: str) -> list[Edit]:
    """Edits found on the text without CR, in the positions of the CRLF text."""
    breaks = find_all(original.replace("\r\n", "\n"), "\n")

    def crlf(pos: int) -> int:
        return pos + bisect_right(breaks, pos - 1)

    return [
        Edit(e.rule, crlf(e.start), crlf(e.end), original[crlf(e.start) : crlf(e.end)], e.after.replace("\n", "\r\n"))
        for e in edits
    ]
