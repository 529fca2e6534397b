"""`compress --method rules` on real templates: the defects of issue 11 stay fixed, and the two
levels do what they promise (safe keeps the meaning and the structure; aggressive is terser)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promptslim_cli.app import app
from typer.testing import CliRunner

from promptslim.compress import compress
from promptslim.generators import rules
from promptslim.protect import placeholders, preserved, protect


def cli_compress(stdin: str, *args: str) -> str:
    """`printf STDIN | promptslim compress - --method rules ARGS`, in this process; its stdout."""
    result = CliRunner().invoke(app, ["compress", "-", "--method", "rules", *args], input=stdin.encode("utf-8"))
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")


STEPS = "1. Stir the mixture for five minutes.\n2. Add the flour.\n3. Stir the mixture for five minutes.\n"


@pytest.mark.parametrize(
    "stdin",
    [
        "Reply to {customer}. Thank you for choosing {company}!\n",
        "Reply to ${user:guest}. Thank you for choosing [USER]!\n",
        "Reply to <customer>. Thank you for choosing ${company}!\n",
        "Thanks for {var!r}!\n",
        "Write a greeting to __NAME__ from __COMPANY__.\n",
        STEPS,
        "The bell rang. Nobody came.\nThe bell rang. Nobody came.\nThen the door opened.\n",
    ],
)
@pytest.mark.parametrize("level", ["safe", "aggressive"])
def test_issue_commands_keep_every_placeholder_and_repeated_step(stdin, level):
    out = cli_compress(stdin, "--level", level)
    assert placeholders(out) == placeholders(stdin)
    if level == "safe":  # nothing in these may go without changing what they say
        assert out == stdin
    else:
        assert out.lower().count("stir") == stdin.count("Stir") and out.lower().count("bell") == stdin.count("bell")


def test_a_crlf_prompt_stays_crlf_and_starts_where_it_did():
    stdin = "Hello!\r\nPlease summarise the text below in order to save time.\r\n\r\nText: {{text}}\r\n"
    out = cli_compress(stdin)
    assert out == "Summarise the text below to save time.\r\n\r\nText: {{text}}\n"  # the CLI adds the last \n
    body = out[:-1]
    assert body.count("\r\n") == body.count("\n")


def test_the_default_level_is_safe_and_aggressive_is_terser():
    text = "I want you to act as a travel guide. Please tell me the best places to visit in {city}, if possible."
    safe = compress(text, method="rules")
    terse = compress(text, method="rules", level="aggressive")
    assert (
        safe.prompt == "I want you to act as a travel guide. Tell me the best places to visit in {city}, if possible."
    )
    assert terse.prompt == "Act as travel guide. Tell me best places to visit in {city}."
    assert terse.compressed_tokens < safe.compressed_tokens < safe.original_tokens
    with pytest.raises(Exception, match="unknown level"):
        compress(text, method="rules", level="extreme")


@pytest.mark.parametrize(
    "text, out",
    [
        # an instruction said again, word for word, on a line of its own: the repeat goes
        ("Answer in English. Be brief.\n\nAnswer in English.", "Answer in English. Be brief."),
        ("Return only the JSON.\n\nData: {x}\n\nReturn only the JSON.", "Return only the JSON.\n\nData: {x}"),
        # a repeat that is a list item, a quote, a line of dialogue or story stays
        ("- Check the totals twice.\n- Add the tax.\n- Check the totals twice.", None),
        ("> Answer in English please.\n> Answer in English please.", None),
        ("Anna: Answer in English, please.\nBen: No.\nAnna: Answer in English, please.", None),
        ("Story:\nRemember the night we met in the rain.\nWe laughed.\nRemember the night we met in the rain.", None),
        ("Use the data below.\n\nUse the data below", None),  # not word for word
    ],
)
def test_only_an_exact_repeated_instruction_line_goes(text, out):
    assert rules.compress(text).text == (text if out is None else out)


@pytest.mark.parametrize(
    "text, out",
    [
        ("Hello!\n\nSummarise this.", "Summarise this."),
        ("Summarise the text.\n\nMany thanks!\n\nText: {x}", "Summarise the text.\n\nText: {x}"),
        ("Please reply in French. Thank you in advance for your help!", "Reply in French."),
        ("Summarise the text in order to save time, please.", "Summarise the text to save time."),
        ("Dear assistant, please list the risks.", "List the risks."),
        ("Answer in English.  Be brief.   \nThanks!", "Answer in English. Be brief."),
        ("Please note that the input may be empty.", "The input may be empty."),
    ],
)
def test_safe_removes_what_is_said_to_the_model(text, out):
    assert rules.compress(text).text == out


@pytest.mark.parametrize("level", rules.LEVELS)
def test_a_removed_line_takes_its_break_and_the_blank_lines_after_it_stay_in_place(level):
    text = "Hi! Thanks so much for taking the time to help with this.\n\n\n{# v3 #}\n\nReply to {name}.\n\n\nThanks!"
    out = rules.compress(text, level=level).text
    assert out == "{# v3 #}\n\nReply to {name}."
    assert preserved(protect(text), out)


@pytest.mark.parametrize(
    "text",
    [
        "He smiled.\nHello! Great to see you.",  # a greeting after the start: dialogue as much as politeness
        "He said thanks! Then he left.\nThanks!\nThe end.",
        "Summarise the text.\n\nEmail:\nHi team, please call me back. Thank you!",  # quoted data
        "Write a sign that says please keep off the grass.",
        "If possible, include sources.",
        "Explain quantum physics very simply.",
        "Compute the derivative with respect to x.",
    ],
)
def test_safe_leaves_what_changes_the_meaning(text):
    assert rules.compress(text).text == text


# ---------------------------------------------------------------- structure, as a property

LINE = st.sampled_from(
    [
        "Please summarise the text below in order to save time.",
        "Hello!",
        "Thank you in advance for your help!",
        "- Please check the totals.",
        "  - a nested item with  two spaces",
        "1. Stir the mixture for five minutes.",
        "1. Stir the mixture for five minutes.",
        "    indented_code(x)  # please keep",
        "\tcell\t\tvalue",
        "## Heading",
        "> quoted line, please",
        "| a  | b |",
        "Answer in English.",
        "Answer in English.",
        "Reply to {customer} and ${user:guest}.",
        "Use <customer_name> and [USER_ID].",
        "I would like you to read the text very carefully.",
        "",
        "   ",
        "Thanks!",
    ]
)
PROMPTS = st.tuples(st.lists(LINE, min_size=1, max_size=12), st.sampled_from(["\n", "\r\n"]), st.booleans())


def structure(text: str) -> list[str]:
    """What must not change: each kept line's indent, list or quote marker and heading marks."""
    marks = []
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        head = stripped.split(" ", 1)[0]
        if head in ("-", "1.", ">", "##", "|") or line[: len(line) - len(stripped)]:
            marks.append(line[: len(line) - len(stripped)] + head)
    return marks


@settings(max_examples=150, deadline=None)
@given(PROMPTS, st.sampled_from(rules.LEVELS))
def test_line_endings_indents_lists_and_markdown_are_kept(prompt, level):
    lines, newline, final = prompt
    text = newline.join(lines) + (newline if final else "")
    out = rules.compress(text, level=level).text
    if newline == "\r\n":
        assert out.count("\r\n") == out.count("\n")  # CRLF stays CRLF
    else:
        assert "\r" not in out
    assert out.endswith(newline) == text.endswith(newline) or not out.strip()
    assert not out.startswith(newline) or text.startswith(newline)
    kept = structure(text)
    for mark in structure(out):
        assert mark in kept  # no indent, marker or heading is invented
    assert [m for m in kept if m.strip().startswith(("1.", "-", ">", "##", "|"))] == [
        m for m in structure(out) if m.strip().startswith(("1.", "-", ">", "##", "|"))
    ]  # every list item, quote, heading and table row stays, in order
    assert placeholders(out) == placeholders(text)
    assert rules.compress(out, level=level).text == out  # compressing again changes nothing
