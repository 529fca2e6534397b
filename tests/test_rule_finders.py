"""Each rule's fast finder in generators/rules.py yields exactly what the rule's pattern finds.

The finders try a pattern only where a match can start, or skip it when a substring it needs is
absent; `pattern.finditer` is the specification they must equal, match for match.
"""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from promptslim.generators import rules

# every rule: the table for one language holds the other language's rules too
RULES = rules._WHITESPACE_RULES + rules._rules("en")

# pieces that trigger the rules or sit at their edges: sentence and line starts, whitespace
# other than spaces, punctuation after spaces (spellings() adds the case-folding letters)
FRAGMENTS = [
    *(". ", "! ", "? ", ".  ", "?\t", ".\n", "\n", "\n\n\n", " \n", "\t\n", "\n, ", "\n; ", "  ", " \t", "\t"),
    *(" ", ",", ", ", " ,", " .", " ;", " :", " !", " ?", "。", "！", "？", "。 ", "**", "__", "!!", "??"),
    *("**bold**", "__under__", "\u00a0", "\u2003", "\r", "\x0b", "\x1c"),
    *("please", "Please", "PLEASE", "kindly", "Kindly", "if possible,", "if you can,", "just", "really", "very"),
    *("quite", "carefully", "for me", "I think", "basically", "essentially,", "actually", "simply", "not"),
    *("I would like you to", "I'd really appreciate it if you could", "could you please", "Would you kindly"),
    *("Hello there!", "Hi!", "Dear assistant,", "I hope you are doing well today.", "Thanks in advance!"),
    *("Thank you so much for your help.", "your help is greatly appreciated.", "many thanks.", "and thank you."),
    *("It is very important that you", "please note that", "keep in mind that", "it would be great if you could"),
    *("and I want you to read", ", I need you to list", ", I would really like you to go", "you to"),
    *("be so kind as to", "as an AI language model,"),
    *("您好，", "你好！", "麻烦你帮我", "希望您能够", "请", "烦请您帮我", "能不能请你帮忙", "再次非常感谢您的帮助。"),
    *("谢谢", "辛苦你了！", "我想让你", "我希望您", "一下", *rules.ZH_VERBOSE),
    *("the", "answer", "review", "text", "a", "Review:", "- item", "# Title", "{{var}}", "`code`", "1."),
]
PHRASES = sorted(rules.EN_VERBOSE)


def spellings(text: str) -> list[str]:
    """The text in other cases, and with the letters that re.IGNORECASE folds to ASCII ones."""
    folded = [("s", "\u017f"), ("i", "\u0131"), ("i", "\u0130"), ("I", "\u0130"), ("k", "\u212a")]
    return [text, text.upper(), text.capitalize(), *(text.replace(a, b) for a, b in folded if a in text)]


pieces = st.one_of(
    st.sampled_from(FRAGMENTS + PHRASES).flatmap(lambda text: st.sampled_from(spellings(text))), st.text(max_size=3)
)
texts = st.lists(
    st.tuples(st.sampled_from(["", " ", " ", ". ", "? ", "!  ", ". \u00a0", ".\t", "\n"]), pieces).map("".join),
    max_size=40,
).map("".join)


def spans(matches) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in matches]


def specified(pattern: re.Pattern | None, text: str) -> list[re.Match]:
    """What the rule's pattern finds. The verbose-phrase rule has one pattern per phrase of its
    table, and finds each phrase's matches in table order."""
    if pattern is None:
        phrases = (re.compile(rf"\b{re.escape(k)}\b", re.I) for k in rules.EN_VERBOSE)
        return [m for phrase in phrases for m in phrase.finditer(text)]
    return list(pattern.finditer(text))


def check(text: str) -> int:
    """Compare every finder with its pattern on `text` (one scan shared, as the rules share it);
    the number of matches found."""
    scan, total = rules._Scan(text), 0
    for name, pattern, _, finder in RULES:
        expected = spans(specified(pattern, text))
        assert spans(finder(pattern, scan)) == expected, (name, pattern and pattern.pattern[:60])
        total += len(expected)
    return total


@settings(max_examples=600, deadline=None)
@given(texts)
def test_each_rules_finder_finds_exactly_what_its_pattern_finds(text):
    check(text)


def test_the_fragments_reach_every_rule():
    # else the property above could pass without ever trying a rule
    text = " ".join(FRAGMENTS + PHRASES)
    for name, pattern, _, _ in RULES:
        assert specified(pattern, text), f"no fragment triggers the {name} rule {pattern and pattern.pattern[:60]}"
    assert check(text) > 0
