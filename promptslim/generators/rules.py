"""Rule-based shortening: deterministic, no model.

Whitespace and markup normalisation, filler and politeness removal, a verbose-phrase table,
and removal of repeated sentences, in English and Chinese (language detected per prompt).
Rules edit only free text between protected spans, and structure that carries meaning
(list markers, headings, labels such as `Review:`) is never touched. Rules are applied until
nothing changes, so compressing the output again changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from ..protect import Protected, protect

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
    cjk = len(re.findall(r"[\u4e00-\u9fff\u3400-\u4dbf]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if cjk and cjk * 3 >= latin else "en"


# ---- the rules: (name, pattern, replacement); replacement may be a function of the match

Replacement = "str | Callable[[re.Match], str]"
_SENTENCE_START = r"(?:^|(?<=[.!?]\s)|(?<=[.!?]\s\s))"


def _drop_and_capitalise(match: re.Match) -> str:
    """Removed filler at a sentence start: the next word takes the capital letter."""
    nxt = match.group("next")
    return nxt[:1].upper() + nxt[1:]


def _phrase_rules(table: dict[str, str]) -> list[tuple[str, re.Pattern, Replacement]]:
    def keep_case(replacement: str):
        def sub(match: re.Match) -> str:
            return replacement[:1].upper() + replacement[1:] if match.group(0)[:1].isupper() else replacement

        return sub

    return [("verbose phrase", re.compile(rf"\b{re.escape(k)}\b", re.I), keep_case(v)) for k, v in table.items()]


EN_FILLER_STARTS = [
    r"i would (?:really )?like (?:for )?you to", r"i(?:'d| would) (?:really )?appreciate it if you (?:could|would)",
    r"i want you to", r"i need you to", r"(?:could|can|would|will) you (?:please |kindly )?", r"please(?: kindly)?,?",
    r"kindly", r"be so kind as to", r"if possible,", r"if you can,", r"as an ai(?: language model)?,", r"basically,?",
    r"essentially,", r"just",
]
EN_FILLER_ANYWHERE = [
    r"please", r"kindly", r"if possible", r"if you can", r"if you could", r"i think", r"i believe", r"basically",
    r"actually", r"really", r"very", r"quite", r"simply", r"carefully", r"for me",
]
EN_FILLER_SENTENCES = [
    r"(?:hello|hi|hey|greetings|good (?:morning|afternoon|evening))(?: there)?(?: (?:assistant|chatgpt|ai|model))?[,!.]",
    r"dear (?:assistant|model|ai|chatgpt)[,!.]",
    r"i hope (?:you are|you're|this finds you) (?:doing )?well(?: today)?[.!]",
    r"thank(?:s| you)(?: so much| very much)?(?: in advance)?(?: for (?:your|the) (?:help|time|assistance|effort)[^.!\n]*)?[.!]",
    r"your help is (?:greatly |much |really )?appreciated[.!]", r"i appreciate (?:your|the) help[.!]",
    r"(?:many|much) thanks(?: in advance)?[.!]",
]
EN_SENTENCE_LEADS = [
    r"(?:it is|it's) (?:very |really |extremely )?(?:important|crucial|essential) (?:to note )?that you",
    r"please note that", r"note that", r"keep in mind that", r"remember that",
]
EN_VERBOSE = {
    "in order to": "to", "so as to": "to", "due to the fact that": "because", "owing to the fact that": "because",
    "in view of the fact that": "because", "in spite of the fact that": "although", "despite the fact that": "although",
    "in the event that": "if", "on the condition that": "if", "at this point in time": "now", "at the present time": "now",
    "for the purpose of": "for", "with regard to": "about", "with respect to": "about", "in relation to": "about",
    "in reference to": "about", "a large number of": "many", "a great deal of": "much", "the majority of": "most",
    "a small number of": "a few", "is able to": "can", "are able to": "can", "has the ability to": "can",
    "have the ability to": "can", "prior to": "before", "subsequent to": "after", "in the near future": "soon",
    "on a daily basis": "daily", "each and every": "every", "first and foremost": "first", "at all times": "always",
    "in a timely manner": "promptly", "it is necessary that you": "you must", "it is essential that you": "you must",
    "make sure that": "ensure", "make sure to": "", "take into account": "consider", "take into consideration": "consider",
    "give a summary of": "summarise", "provide a summary of": "summarise", "come to a conclusion": "conclude",
    "make a decision": "decide", "in the form of": "as", "by means of": "by", "until such time as": "until",
    "the fact that": "that", "whether or not": "whether", "as a matter of fact": "in fact", "in actual fact": "in fact",
}
ZH_FILLER = [
    r"(?:您好|你好)[，,！!。]?", r"麻烦(?:你|您)(?:帮我)?", r"希望(?:你|您)能(?:够)?", r"(?:请|烦请)(?:你|您)?(?:帮我)?",
    r"(?:能否|能不能|可不可以|可以)(?:请)?(?:你|您)?帮(?:我|忙)", r"(?:非常|十分)?(?:感谢|谢谢)(?:你|您)?(?:的)?(?:帮助|支持|配合)?[。！!]?",
    r"辛苦(?:你|您)了[。！!]?", r"我想让(?:你|您)", r"我希望(?:你|您)", r"一下",
]
ZH_VERBOSE = {"进行总结": "总结", "进行分析": "分析", "进行翻译": "翻译", "进行分类": "分类", "进行判断": "判断",
              "进行检查": "检查", "加以说明": "说明", "为了能够": "为了", "的时候": "时", "是否能够": "能否"}


def _alternation(patterns: Sequence[str]) -> str:
    return "(?:" + "|".join(sorted(patterns, key=len, reverse=True)) + ")"


def _rules(language: str) -> list[tuple[str, re.Pattern, Replacement]]:
    """The detected language's rules first. Each table matches only its own script, so the
    other table also runs: mixed prompts (Chinese with English terms) get both, and the
    result does not depend on which script happens to dominate after an edit."""
    zh = [
        ("politeness", re.compile(_alternation(ZH_FILLER)), ""),
        *[("verbose phrase", re.compile(re.escape(k)), v) for k, v in ZH_VERBOSE.items()],
    ]
    return zh + _english_rules() if language == "zh" else _english_rules() + zh


def _english_rules() -> list[tuple[str, re.Pattern, Replacement]]:
    return [
        ("politeness", re.compile(rf"{_SENTENCE_START}[ \t]*{_alternation(EN_FILLER_SENTENCES)}[ \t]*", re.I | re.M), ""),
        ("filler", re.compile(rf"{_SENTENCE_START}(?P<lead>[ \t]*){_alternation(EN_FILLER_STARTS + EN_SENTENCE_LEADS)}\s+(?P<next>[a-z]\w*)", re.I | re.M),
         lambda m: m.group("lead") + _drop_and_capitalise(m)),
        ("filler", re.compile(rf"(?<=\w)(?:,? {_alternation(EN_FILLER_ANYWHERE)})(?=[ ,.;:!?])|(?<=[ (]){_alternation(EN_FILLER_ANYWHERE)},? (?=\w)", re.I), ""),
        *_phrase_rules(EN_VERBOSE),
    ]


_WHITESPACE_RULES: list[tuple[str, re.Pattern, Replacement]] = [
    ("whitespace", re.compile(r"(?<=\S)[ \t]{2,}(?=\S)"), " "),
    ("whitespace", re.compile(r"[ \t]+(?=\n)"), ""),
    ("whitespace", re.compile(r"\n{3,}"), "\n\n"),
    ("whitespace", re.compile(r"(?<=\w) +(?=[,.;:!?]\s)"), ""),
    ("whitespace", re.compile(r"(?m)^[ \t]*[,;][ \t]*"), ""),
    ("markup", re.compile(r"(\*\*|__)(?=\S)([^*_\n]+?)(?<=\S)\1"), lambda m: m.group(2)),
    ("markup", re.compile(r"([!?])\1+"), lambda m: m.group(1)),
]


def _find_edits(protected: Protected, rules) -> list[Edit]:
    """Matches on the whole text (so anchors and look-behinds see real context), kept only
    where they lie wholly in free text."""
    text, edits = protected.text, []
    for name, pattern, replacement in rules:
        for match in pattern.finditer(text):
            if _touches_span(protected, match.start(), match.end()):
                continue
            after = replacement(match) if callable(replacement) else replacement
            if after != match.group(0):
                edits.append(Edit(name, match.start(), match.end(), match.group(0), after))
    return edits


def _repeated_sentences(protected: Protected) -> list[Edit]:
    """Sentences (of five words or more) said before, outside few-shot label lines."""
    seen, edits = set(), []
    for match in re.finditer(r"[^.!?。！？\n]+[.!?。！？]?", protected.text):
        sentence = match.group(0)
        key = re.sub(r"[\W_]+", " ", sentence).strip().lower()
        if len(key.split()) < 5 and len(key) < 12 or re.match(r"^\s*[\w ]{1,20}:", sentence):
            continue
        if key in seen and not _touches_span(protected, match.start(), match.end()):
            end = match.end() + (1 if protected.text[match.end() : match.end() + 1] == " " else 0)
            edits.append(Edit("repeated sentence", match.start(), end, protected.text[match.start() : end], ""))
        seen.add(key)
    return edits


def _touches_span(protected: Protected, start: int, end: int) -> bool:
    return any(s.start < end and start < s.end for s in protected.spans)


def find_edits(protected: Protected, language: str | None = None) -> list[Edit]:
    """All rule edits on the free text, non-overlapping, in text order."""
    language = language or detect_language(protected.text)
    rules = _WHITESPACE_RULES + _rules(language)
    edits = _find_edits(protected, rules) + _repeated_sentences(protected)
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
    protected = protect(text, keep)
    language = detect_language(protected.text)
    first = find_edits(protected, language)
    current = protected.text
    edits = first
    for _ in range(MAX_PASSES):
        if not edits:
            break
        candidate = apply_edits(current, edits)
        if not _keeps(protected.protected_texts(), candidate):
            break
        current = candidate
        edits = find_edits(protect(current, keep), language)
    if current.startswith("\n") and not protected.text.startswith("\n"):
        current = current.lstrip("\n")  # what is left of a removed greeting
    return RulesOutput(current, tuple(first), language)


def _keeps(span_texts: list[str], candidate: str) -> bool:
    pos = 0
    for piece in span_texts:
        found = candidate.find(piece, pos)
        if found < 0:
            return False
        pos = found + len(piece)
    return True
