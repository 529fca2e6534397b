"""The rules engine's shortcuts give exactly what the plain way gives.

Phrase tables are tries, URLs are found from "://" and "www.", quotes open with their mark,
sentence rules are tried only after a sentence end, and every pass after the first looks only
at the lines around the last edits. Each shortcut is checked here against the straightforward
version it replaces, on texts made of the pieces that trigger the rules.
"""

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from promptslim import protect as protect_module
from promptslim.generators import rules
from promptslim.protect import protect

FRAGMENTS = [
    *(". ", "! ", "? ", ".  ", "?\t", ".\n", "\n", "\n\n\n", " \n", "\t\n", "  ", " \t", "\t", " ", ",", " ,", " ."),
    *(" ;", " :", " !", " ?", "\u00a0", "\r\n", "**bold**", "__under__", "!!", "??", "(", "> ", "- ", "1. ", "## "),
    *("please", "Please", "kindly", "if possible,", "just", "really", "very", "the", "a", "an", "The", "A", "not"),
    *("I would like you to", "could you please", "Would you kindly", "Hello there!", "Hi,", "Dear assistant,"),
    *("Thank you in advance!", "Thanks!", "Thank you so much for your help.", "your help is greatly appreciated."),
    *("It is very important that you", "please note that", "keep in mind that", "it would be great if you could"),
    *("and I want you to read", ", I need you to list", "that is below", "which are listed", "a few", "the Rings"),
    *("Answer in English.", "Answer in English.", "Return only the JSON object.", "Text:", "Email:\n", "Summary:"),
    *("Anna: Hi, please.", "{name}", "${x:y}", "[USER]", "<slot>", "`code`", "42", '"quoted, please"', "www.a.io"),
    *("Hi! Thanks so much for taking the time to help with this.", "{# v3 #}", "Many thanks!", "\n\n"),
    *("您好，", "请", "麻烦你帮我", "非常感谢！", "进行总结", "的时候", "一下"),
]
PHRASES = sorted({**rules.EN_VERBOSE, **rules.EN_TERSE})
pieces = st.one_of(
    st.sampled_from(FRAGMENTS + PHRASES).flatmap(lambda t: st.sampled_from([t, t.upper(), t.capitalize()])),
    st.text(max_size=3),
)
texts = st.lists(st.tuples(st.sampled_from(["", " ", ". ", "\n", "\n\n"]), pieces).map("".join), max_size=40).map(
    "".join
)


def spans(matches) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in matches]


def plain(words) -> re.Pattern:
    """The alternation a trie replaces: longest phrase first, a word's end at a word boundary."""
    ordered = sorted(words, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) + (r"\b" if w[-1].isalnum() else "") for w in ordered))


TABLES = [(plain(words), re.compile(rules._trie(words))) for words in (rules.EN_VERBOSE, PHRASES, rules.EN_HEDGES)]


@settings(max_examples=300, deadline=None)
@given(texts)
def test_a_phrase_trie_finds_what_the_plain_alternation_finds(text):
    folded = text.lower()
    for alternation, trie in TABLES:
        found = [(m.start(), m.group(0)) for m in trie.finditer(folded)]
        assert found == [(m.start(), m.group(0)) for m in alternation.finditer(folded)]


URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`)\]]+|\bwww\.[^\s<>\"'`)\]]+", re.I)
QUOTE = re.compile(
    r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|「[^」\n]{1,300}」|『[^』\n]{1,300}』|(?<![\w])'[^'\n]{1,300}'(?![\w])"
)
links = st.lists(
    st.sampled_from(["http://a.b", "https://x.io/p?q=1", "ftp://f", "www.s.org", "WWW.T.COM", "xhttp://n", "://", "'"])
    | st.sampled_from([" ", "a", "_", "(", "\n", "'", '"', "9", "é"])
    | st.text(max_size=2),
    max_size=20,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(links)
def test_urls_and_quotes_are_found_as_their_plain_patterns_find_them(text):
    assert [(s.start, s.end) for s in protect_module._urls(text)] == spans(URL.finditer(text))
    quote = next(p for kind, p, _ in protect_module._PATTERNS if kind == "quote")
    assert spans(quote.finditer(text)) == spans(QUOTE.finditer(text))


def sentence_starts(level: str) -> re.Pattern:
    """Where the plain look-behind pattern puts a sentence start that an opener follows."""
    rules_ = [rule for rule in rules.SENTENCE_RULES if level == "aggressive" or rule[1] != "aggressive"]
    openers = "|".join(f"{rules._trie(words)}{rest}" for _, _, words, rest in rules_)
    return re.compile(rf"(?:^|(?<=\n)|(?<=[.!?][ \t\n])|(?<=[.!?][ \t\n][ \t\n]))[ \t]*(?={openers})")


STARTS = {level: sentence_starts(level) for level in rules.LEVELS}


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(rules.LEVELS))
def test_sentence_rules_are_tried_at_every_sentence_start(text, level):
    """The openers are found after . ! or ? and one or two spaces or breaks, on a new line,
    and at the text's start."""
    folded = text.lower()
    starts = {m.end() for m in rules._sentence_table(level).pattern.finditer(folded)}
    assert starts == {m.end() for m in STARTS[level].finditer(folded)}


def full_passes(text: str, level: str) -> str:
    """The fixpoint the plain way: every pass looks at the whole text."""
    protected = protect(text)
    run = rules._Run(rules._Text(protected.text, protected.spans, level))
    for _ in range(rules.MAX_PASSES):
        edits = run.find(None)
        if not edits:
            break
        run.apply(edits)
    return run.t.text


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(rules.LEVELS))
def test_passes_over_the_edited_lines_reach_the_fixpoint_of_whole_passes(text, level):
    protected = protect(text)
    run = rules._Run(rules._Text(protected.text, protected.spans, level))
    assert run.run() == full_passes(text, level)


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(rules.LEVELS))
@example("Hi! Thanks so much for taking the time to help with this.\n\n\n{x}", "safe")  # a removed line's break
def test_every_pass_makes_disjoint_edits_that_leave_the_spans_in_place(text, level):
    protected = protect(text)
    spans = [protected.text[s.start : s.end] for s in protected.spans]
    run = rules._Run(rules._Text(protected.text, protected.spans, level))
    edits = run.find(None)
    for _ in range(rules.MAX_PASSES):
        if not edits:
            break
        assert all(a.end <= b.start for a, b in zip(edits, edits[1:]))
        assert not any(run.t.touches(e.start, e.end) for e in edits)
        run.apply(edits)
        assert [run.t.text[s.start : s.end] for s in run.t.spans] == spans
        edits = run.find(None)


def test_the_fragments_reach_every_rule():
    # else the properties above could pass without ever trying a rule
    text = "Hello there! " + " ".join(FRAGMENTS + PHRASES) + " Thanks!"
    found = {e.rule for level in rules.LEVELS for e in rules.find_edits(protect(text), level)}
    assert found >= {"whitespace", "politeness", "filler", "verbose phrase", "article", "copula", "markup"}
    assert any(e.rule == "repeated instruction" for e in rules.find_edits(protect("Answer in English.\n" * 2)))
