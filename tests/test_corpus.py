"""corpus.py on its own: what a scan finds, how each kind of file is read, what is skipped."""

import codecs
import io
import json
import os
from pathlib import Path

import pytest

from promptslim import corpus
from promptslim.corpus import Item, Problem
from promptslim.errors import InputError


def scan(*paths, **options) -> tuple[list[Item], list[Problem]]:
    entries = list(corpus.read(corpus.discover([str(p) for p in paths]), **options))
    return [e for e in entries if isinstance(e, Item)], [e for e in entries if isinstance(e, Problem)]


def test_discover_lists_prompt_files_in_name_order_and_remembers_the_named_ones(tmp_path):
    for name in ("b.txt", "a.md", "sub/c.prompt", "skip.py", ".hidden/d.txt", "node_modules/e.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("Say hi.")
    found = corpus.discover([tmp_path, tmp_path / "b.txt"])
    assert [Path(f).relative_to(tmp_path).as_posix() for f in found.files] == ["a.md", "b.txt", "sub/c.prompt"]
    assert found.given == {os.path.realpath(tmp_path / "b.txt")}
    assert found.total_bytes == 3 * len("Say hi.")
    assert [n.message for n in found.notes] == ["already included through another path: counted once"]


def test_a_csv_without_the_column_is_skipped_in_a_folder_but_an_error_when_named(tmp_path):
    (tmp_path / "task.cases.csv").write_text("review,expected\nGreat,positive\n")  # a spec's own cases
    (tmp_path / "p.txt").write_text("Please answer.")
    items, problems = scan(tmp_path)
    assert [Path(i.id).name for i in items] == ["p.txt"]
    (note,) = problems
    assert not note.failure and "no 'prompt' column (its columns are review, expected)" in note.message
    with pytest.raises(InputError, match="no column 'prompt': its columns are review, expected"):
        scan(tmp_path / "task.cases.csv")


@pytest.mark.parametrize("codec, bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)])
def test_utf16_files_of_every_kind_are_read(tmp_path, codec, bom):
    def write(name: str, text: str) -> None:
        (tmp_path / name).write_bytes(bom + text.encode(codec))

    write("a.txt", "Please answer in French.")
    write("b.jsonl", json.dumps({"prompt": "Say hi."}) + "\n" + json.dumps({"prompt": "Say bye."}) + "\n")
    write("c.csv", "id,prompt\n1,Say yes.\n")
    write("d.yaml", "prompt: Say no.\n")
    items, problems = scan(tmp_path)
    assert not problems
    texts = sorted(i.prompt.text for i in items)
    assert texts == ["Please answer in French.", "Say bye.", "Say hi.", "Say no.", "Say yes."]


def test_a_device_named_on_its_own_is_refused_and_fifos_in_folders_are_not_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "p.txt").write_text("Please answer.")
    items, problems = scan(tmp_path)  # would block forever opening the FIFO
    assert [Path(i.id).name for i in items] == ["p.txt"] and not problems
    items, problems = scan("/dev/zero", tmp_path / "pipe.txt")
    assert (
        not items
        and [p.message for p in problems] == ["is a device, FIFO or socket, not a file: give a regular file"] * 2
    )


def test_names_that_are_not_utf8_or_hold_controls_are_escaped(tmp_path):
    raw = os.fsencode(tmp_path) + b"/bad\xff\x1b[2J\nname.txt"
    with open(raw, "wb") as f:
        f.write(b"Please answer.")
    (item,) = scan(tmp_path)[0]
    assert item.id == f"{tmp_path}/bad\\xff\\x1b[2J\\nname.txt"
    item.id.encode("utf-8")


def test_a_line_over_the_limit_says_so_without_inventing_its_size(tmp_path):
    (tmp_path / "p.jsonl").write_text(json.dumps({"prompt": "x" * 3000}) + "\n" + json.dumps({"prompt": "ok"}) + "\n")
    items, problems = scan(tmp_path, max_bytes=1000)
    assert [i.prompt.text for i in items] == ["ok"]
    assert problems[0].source.endswith("p.jsonl:1")
    assert problems[0].message == "over the 0.001 MB limit: split it, or raise --max-prompt-mb"


def test_stdin_is_one_prompt_read_up_to_the_limit(tmp_path):
    found = corpus.discover(["-"])
    (item,) = corpus.read(found, stdin=io.BytesIO(b"Say hi.\n"))
    assert item.id == "<stdin>" and item.prompt.text == "Say hi."
    (problem,) = corpus.read(found, stdin=io.BytesIO(b"x" * 2000), max_bytes=1000)
    assert problem.message.startswith("over the 0.001 MB limit")


def test_specs_of_any_shape(tmp_path):
    (tmp_path / "spec.yaml").write_text("name: s\nmax_tokens: 7\nprompt: Say {{x}}.\n")
    (tmp_path / "config.yaml").write_text("retries: 3\n")
    (tmp_path / "broken.yaml").write_text("a: b: c\n")
    items, problems = scan(tmp_path)
    assert [(i.name, i.output_tokens, i.prompt.text) for i in items] == [("s", 7, "Say {{x}}.")]
    by_name = {Path(p.source.split(":")[0]).name: p for p in problems}
    assert not by_name["config.yaml"].failure
    assert by_name["broken.yaml"].failure and "not valid YAML" in by_name["broken.yaml"].message
    assert by_name["broken.yaml"].source.endswith("broken.yaml:1")  # the line of the error


def test_is_input_covers_named_files_through_hard_links_and_prompt_files_in_folders(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("x")
    os.link(tmp_path / "in" / "a.txt", tmp_path / "a-link.txt")
    (tmp_path / "in" / "notes.log").write_text("x")
    assert corpus.is_input(tmp_path / "a-link.txt", [tmp_path / "in" / "a.txt"])
    assert corpus.is_input(tmp_path / "in" / "a.txt", [tmp_path / "in"])
    assert not corpus.is_input(tmp_path / "in" / "notes.log", [tmp_path / "in"])  # not a prompt file
    assert not corpus.is_input(tmp_path / "new.json", [tmp_path / "in"])  # does not exist: not read


def test_records_that_are_not_text_or_too_deep_are_reported_and_the_rest_read(tmp_path):
    lines = ['{"prompt": "bad \\udcff"}', '{"prompt": ' + "[" * 50_000 + "]" * 50_000 + "}", '{"prompt": "ok"}']
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n")
    items, problems = scan(tmp_path)
    assert [i.prompt.text for i in items] == ["ok"]
    assert ["lone surrogate" in p.message or "nested too deeply" in p.message for p in problems] == [True, True]
