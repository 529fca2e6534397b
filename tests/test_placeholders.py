"""Template placeholders of every common style are protected spans, and markup is not a slot."""

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptslim.compress import compress
from promptslim.generators import rewrite, rules, shots
from promptslim.prompt import Prompt
from promptslim.protect import placeholders, preserved, protect
from promptslim.runtime import CallOptions, Completion

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


# ---------------------------------------------------------------- survival in every generator, as properties

NAMES = st.from_regex(r"[a-z](?:[a-z_]{0,6}[a-z])?", fullmatch=True)
SLOTS = st.one_of(
    st.sampled_from(STYLES),
    NAMES.map(lambda n: "{" + n + "}"),
    NAMES.map(lambda n: "{{" + n + "}}"),
    NAMES.map(lambda n: "${" + n + "}"),
    NAMES.map(lambda n: "${" + n + ":" + n.upper() + "}"),
    NAMES.map(lambda n: "[" + n.upper() + "]"),
    NAMES.map(lambda n: "<" + n + ">"),
    NAMES.map(lambda n: "__" + n.upper() + "__"),
    NAMES.map(lambda n: "%(" + n + ")s"),
    NAMES.map(lambda n: "<<" + n + ">>"),
    NAMES.map(lambda n: "$" + n),
)
WORDS = st.sampled_from(
    [
        "Please",
        "kindly",
        "Thank you for choosing",
        "Thank you in advance!",
        "Hello!",
        "I would like you to",
        "in order to",
        "the",
        "a",
        "very",
        "reply to",
        "write to",
        ".",
        ",",
        "!",
        "\n",
        "\n\n",
        "1.",
        "- ",
        "Text:",
    ]
)
TEMPLATES = st.lists(st.one_of(WORDS, SLOTS), min_size=1, max_size=16).map(" ".join).filter(str.strip)
EXAMPLES = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@EXAMPLES
@given(TEMPLATES, st.sampled_from(["safe", "aggressive"]))
def test_rules_keep_every_placeholder_of_every_style(text, level):
    out = rules.compress(text, level=level).text
    assert placeholders(out) == placeholders(text)
    assert preserved(protect(text), out)
    assert placeholders(compress(text, method="rules", level=level).prompt) == placeholders(text)


@EXAMPLES
@given(st.lists(st.tuples(st.booleans(), SLOTS), min_size=3, max_size=7), SLOTS)
def test_shots_never_drop_a_placeholder(demos, question):
    blocks = [
        f"Review: {'great, ' + slot if with_slot else 'great food'}\nSentiment: {'positive' if i % 2 else 'negative'}"
        for i, (with_slot, slot) in enumerate(demos)
    ]
    text = "Classify the sentiment.\n\n" + "\n\n".join(blocks) + f"\n\nReview: {question}\nSentiment:"
    for variant in shots.variants(Prompt(text=text)):
        assert Counter(placeholders(variant.prompt.text)) == Counter(placeholders(text))


class Scripted:
    name = identity = "scripted"

    def __init__(self, reply: str):
        self.reply = reply

    def complete(self, prompt, options: CallOptions) -> Completion:
        return Completion(self.reply, "scripted", 1, 1, 0.0, 0.0, 0.0, "cpu-estimate")


@EXAMPLES
@given(st.lists(SLOTS, min_size=1, max_size=4, unique=True), st.data())
def test_the_rewrite_guard_refuses_a_lost_changed_or_invented_placeholder(slots, data):
    text = "Please, I would like you to very carefully write a long reply to " + " and ".join(slots) + " today."
    kept = "Reply to " + " and ".join(slots) + "."
    assert rewrite.rewrite_text(text, Scripted(kept), len).text == kept
    i = data.draw(st.integers(0, len(slots) - 1))
    lost = "Reply to " + " and ".join(s for j, s in enumerate(slots) if j != i) + "."
    changed = kept.replace(slots[i], "{{" + slots[i].strip("{}$[]<>_%()") + "_x}}", 1)
    invented = kept + " Sign as [Your Name]." if "[Your Name]" not in slots else kept + " {new_slot}"
    for reply in (lost, changed, invented):
        assert rewrite.rewrite_text(text, Scripted(reply), len).text is None, reply


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEMPLATES.filter(lambda t: len(t) > 40), st.sampled_from([0.3, 0.5]))
def test_prune_keeps_every_placeholder_of_every_style(text, rate):
    result = compress(text, method="prune", rate=rate)
    assert placeholders(result.prompt) == placeholders(text)


@pytest.mark.slow
def test_the_issue_prune_example_keeps_its_placeholders():
    text = (
        "You are a friendly and very helpful billing assistant for our online shop, and you always answer politely. "
        "Please convert every price in the message into ${currency}, and if the currency is unknown, use "
        "${fallback:USD} instead. Address the customer {user} by name, quote their account [USER_ID] in the first "
        "line, and sign the reply for <customer_name> with our usual closing words and a short thank-you note."
    )
    result = compress(text, method="prune", rate=0.5)
    assert result.compressed_tokens < 0.7 * result.original_tokens
    for slot in ("${currency}", "${fallback:USD}", "{user}", "[USER_ID]", "<customer_name>"):
        assert slot in result.prompt
