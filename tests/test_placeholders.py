"""Template placeholders of every common style are protected spans, and markup is not a slot."""

import pytest

from promptslim.protect import placeholders, preserved, protect

STYLES = [
    "{{name}}",
    "{{ user.name | upper }}",
    "{{{raw}}}",
    "{name}",
    "{0}",
    "{}",
    "{var!r}",
    "{amount:>10}",
    "{price:.2f}",
    "{user.name}",
    "{items[0]}",
    "${currency}",
    "${fallback:USD}",
    "${name:-guest}",
    "$customer",
    "[USER]",
    "[USER_ID]",
    "[[SLOT]]",
    "[Your Name]",
    "[insert the article here]",
    "<customer_name>",
    "<NAME>",
    "<<topic>>",
    "__NAME__",
    "%(name)s",
    "%s",
    "%d",
    "{% if premium %}",
    "{# a comment #}",
]


@pytest.mark.parametrize("slot", STYLES)
def test_every_style_is_a_protected_placeholder(slot):
    text = f"Write to {slot} today, please."
    spans = protect(text).spans
    assert any(text[s.start : s.end] == slot for s in spans), spans
    assert placeholders(text) == [slot]


@pytest.mark.parametrize(
    "text, slots",
    [
        ("<context>Some text</context> for <customer_name>", ["<customer_name>"]),  # a name that closes is markup
        ("Line one<br>line two, <b>bold</b>", []),
        ("It costs $5, or US$7; use \\$HOME in a shell", []),
        ("50% discount, 100%d", []),
        ("Reply in {language} to <user> about [TOPIC].", ["{language}", "<user>", "[TOPIC]"]),
    ],
)
def test_markup_money_and_percentages_are_not_slots(text, slots):
    assert placeholders(text) == slots


def test_markup_tags_are_protected_too():
    text = "<document>\nHello there\n</document>"
    kinds = {text[s.start : s.end]: s.kind for s in protect(text).spans}
    assert kinds == {"<document>": "markup", "</document>": "markup"}


@pytest.mark.parametrize(
    "variant, ok",
    [
        ("Hi {name} and ${x}.", True),
        ("Hi and ${x}.", False),  # lost
        ("Hi {name} and ${x} from [Your Name].", False),  # invented
        ("Hi {name} {name} and ${x}.", False),  # repeated
    ],
)
def test_a_variant_keeps_exactly_the_placeholders(variant, ok):
    assert preserved(protect("Hello {name} and ${x}."), variant) is ok
