"""Properties every compression must keep, over arbitrary Unicode prompts."""

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptslim.compress import compress
from promptslim.generators import rules
from promptslim.protect import preserved, protect
from promptslim.tokens import count_text

words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="`{}<>"), min_size=0, max_size=40
)
english = st.lists(
    st.sampled_from(
        [
            "Please",
            "kindly",
            "in order to",
            "due to the fact that",
            "Thank you in advance!",
            "Hello!",
            "the",
            "answer",
            "review",
            "I would like you to",
            "very",
            "\n",
            "\n\n\n",
            "  ",
            ".",
            ",",
            "请",
            "您好，",
            "麻烦你",
            "非常感谢！",
            "进行总结",
            "Review:",
            "- item",
            "# Title",
            "Summarise the text carefully.",
        ]
    ),
    min_size=0,
    max_size=25,
).map(" ".join)
variables = st.from_regex(r"\{\{[a-z_]{1,8}\}\}", fullmatch=True)
code = words.map(lambda w: f"\n```python\n{w.replace('`', '')}\n```\n")
inline = st.text(alphabet=string.ascii_letters + "()_.", min_size=1, max_size=12).map(lambda w: f"`{w}`")
numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6).map(lambda x: f"{x:.2f}")
json_blocks = st.dictionaries(
    st.text(string.ascii_lowercase, min_size=1, max_size=5), st.integers(), min_size=1, max_size=3
).map(lambda d: "\n" + json.dumps(d, indent=2) + "\n")
prompts = (
    st.lists(st.one_of(words, english, variables, code, inline, numbers, json_blocks), min_size=1, max_size=12)
    .map(" ".join)
    .filter(lambda s: s.strip())
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(prompts, st.sampled_from(rules.LEVELS))
def test_rules_never_alter_protected_spans(text, level):
    out = rules.compress(text, level=level)
    assert preserved(protect(text), out.text)


@SETTINGS
@given(prompts, st.sampled_from(rules.LEVELS))
def test_rules_never_return_more_tokens_and_are_idempotent(text, level):
    first = compress(text, method="rules", level=level)
    assert first.compressed_tokens <= first.original_tokens
    assert count_text(first.prompt) == first.compressed_tokens
    again = compress(first.prompt, method="rules", level=level)
    assert again.prompt == first.prompt


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prompts, st.sampled_from([0.3, 0.6, 0.9]))
@pytest.mark.slow
def test_prune_never_alters_protected_spans(text, rate):
    result = compress(text, method="prune", rate=rate)
    assert preserved(protect(text), result.prompt)
    assert result.compressed_tokens <= result.original_tokens
