"""The one reader every input goes through, and the atomic writer every output goes through."""

import codecs
import io
import os
import threading

import pytest

from promptslim import files
from promptslim.errors import InputError, RuntimeFailure
from promptslim.files import FileProblem


@pytest.mark.parametrize(
    "data, text",
    [
        (b"plain", "plain"),
        (codecs.BOM_UTF8 + "caf\u00e9".encode(), "caf\u00e9"),
        (codecs.BOM_UTF16_LE + "caf\u00e9 \u4e2d".encode("utf-16-le"), "caf\u00e9 \u4e2d"),
        (codecs.BOM_UTF16_BE + "caf\u00e9".encode("utf-16-be"), "caf\u00e9"),
        (codecs.BOM_UTF32_LE + "caf\u00e9".encode("utf-32-le"), "caf\u00e9"),
    ],
)
def test_utf8_and_text_with_a_byte_order_mark_are_decoded(tmp_path, data, text):
    (tmp_path / "p.txt").write_bytes(data)
    assert files.read_text(tmp_path / "p.txt") == text


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"ab\x00cd", "binary (NUL bytes)"),
        (b"caf\xe9", "not valid UTF-8 (byte 3)"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8a\x00", "not valid UTF-16"),  # a lone surrogate
    ],
)
def test_binary_and_undecodable_files_are_named_for_what_they_are(tmp_path, data, reason):
    (tmp_path / "p.txt").write_bytes(data)
    with pytest.raises(FileProblem) as problem:
        files.read_text(tmp_path / "p.txt")
    assert reason in problem.value.reason and str(tmp_path / "p.txt") in str(problem.value)


def test_devices_fifos_and_folders_are_refused_before_reading(tmp_path):
    with pytest.raises(FileProblem, match="is a device, FIFO or socket"):
        files.read_bytes("/dev/zero")  # would never end
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(FileProblem, match="is a device, FIFO or socket"):
        files.read_bytes(fifo)  # opened without waiting for a writer
    with pytest.raises(FileProblem, match="is a folder"):
        files.read_bytes(tmp_path)
    with pytest.raises(FileProblem, match="no such file"):
        files.read_bytes(tmp_path / "missing.txt")


def test_no_more_than_the_limit_is_read_and_the_message_gives_both_sizes(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 1500)
    with pytest.raises(FileProblem) as problem:
        files.read_bytes(big, limit=1000, fix="split it")
    assert problem.value.reason == "0.0015 MB is over the 0.001 MB limit: split it"
    big.write_bytes(b"x" * 8_000_001)
    with pytest.raises(FileProblem, match=r"8\.000001 MB is over the 8 MB limit"):  # never "8 MB is over 8 MB"
        files.read_bytes(big, limit=8_000_000)
    with pytest.raises(FileProblem, match=r"<stdin>: over the 0\.001 MB limit"):
        files.read_bytes("-", limit=1000, stdin=io.BytesIO(b"y" * 5000))


def test_a_closed_stdin_is_an_input_error(monkeypatch):
    monkeypatch.setattr("sys.stdin", None)  # what Python sets when fd 0 is closed (`<&-`)
    with pytest.raises(FileProblem, match="stdin is closed"):
        files.read_bytes("-")


def test_names_with_controls_or_undecodable_bytes_are_shown_on_one_printable_line():
    name = os.fsdecode(b"a\xff\x1b[31m\nb") + "\u202e.txt"
    assert files.shown(name) == "a\\xff\\x1b[31m\\nb\\u202e.txt"
    assert files.shown("plain/caf\u00e9 \u4e2d.txt") == "plain/caf\u00e9 \u4e2d.txt"
    files.shown(name).encode("utf-8")  # always encodable


def test_yaml_and_json_errors_name_the_line_and_bombs_are_refused():
    with pytest.raises(FileProblem, match=r"^s.yaml:2: not valid YAML"):
        files.parse("a: 1\nb: c: d\n", "s.yaml", as_json=False)
    with pytest.raises(FileProblem, match=r"^s.json:1: not valid JSON"):
        files.parse("{oops", "s.json", as_json=True)
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(12)
    )
    with pytest.raises(FileProblem, match="more than 100 aliases"):
        files.parse(laughs, "bomb.yaml", as_json=False)
    with pytest.raises(FileProblem, match="nested too deeply"):
        files.parse("[" * 100_000 + "]" * 100_000, "deep.json", as_json=True)
    data, lines = files.parse_with_lines('{\n  "a": 1,\n  "b": 2\n}', "s.json", as_json=True)
    assert data == {"a": 1, "b": 2} and lines == {"a": 2, "b": 3}
    data, lines = files.parse_with_lines("a: 1\n\nb: &x [1]\nc: *x\n", "s.yaml", as_json=False)
    assert data == {"a": 1, "b": [1], "c": [1]} and lines == {"a": 1, "b": 3, "c": 4}


def test_inside_resolves_links(tmp_path):
    (tmp_path / "spec").mkdir()
    (tmp_path / "secret.txt").write_text("s")
    (tmp_path / "spec" / "link.jsonl").symlink_to(tmp_path / "secret.txt")
    assert files.inside(tmp_path / "spec" / "a.jsonl", tmp_path / "spec")
    assert not files.inside(tmp_path / "spec" / ".." / "secret.txt", tmp_path / "spec")
    assert not files.inside(tmp_path / "spec" / "link.jsonl", tmp_path / "spec")
    assert not files.inside(tmp_path / "spec-other" / "a.jsonl", tmp_path / "spec")  # a prefix is not a folder


# ---------------------------------------------------------------- writing


def test_atomic_write_replaces_whole_and_keeps_the_mode(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    target.chmod(0o640)
    files.write_text(target, "new \udcff")  # a lone surrogate (from a JSON escape) is written escaped
    assert target.read_bytes() == b"new \\udcff"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "keep.html"
    target.write_text("precious")
    with pytest.raises(KeyboardInterrupt), files.atomic_writer(target) as f:
        f.write("half a report")
        raise KeyboardInterrupt
    assert target.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.html"]


def test_through_a_symlink_the_target_is_replaced_and_devices_are_written_in_place(tmp_path):
    real = tmp_path / "real.md"
    real.write_text("old")
    (tmp_path / "link.md").symlink_to(real)
    files.write_text(tmp_path / "link.md", "new")
    assert (tmp_path / "link.md").is_symlink() and real.read_text() == "new"
    files.write_text("/dev/null", "discarded")  # never renamed over a device
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_two_writers_each_leave_a_complete_file_and_the_last_wins(tmp_path):
    target = tmp_path / "out"
    texts = {name: name * 200_000 + "\n" for name in ("J", "C")}
    barrier = threading.Barrier(2)

    def write(name: str) -> None:
        with files.atomic_writer(target) as f:
            barrier.wait()
            for i in range(0, len(texts[name]), 4096):
                f.write(texts[name][i : i + 4096])

    threads = [threading.Thread(target=write, args=(n,)) for n in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_text() in texts.values()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_output_checks_run_before_any_work(tmp_path):
    source = tmp_path / "cases.jsonl"
    source.write_text("{}")
    os.link(source, tmp_path / "hard.json")
    with pytest.raises(InputError, match="that is the input"):
        files.check_output(tmp_path / "hard.json", option="--output", inputs=[source])  # a hard link too
    with pytest.raises(InputError, match="is a folder"):
        files.check_output(tmp_path, option="--output")
    with pytest.raises(InputError, match="there is no folder"):
        files.check_output(tmp_path / "no" / "x.csv", option="--output")
    assert files.check_output(tmp_path / "new.csv", option="--output", inputs=[source]) == tmp_path / "new.csv"
    with pytest.raises(InputError, match="exists and is not a folder"):
        files.prepare_folder(source, option="--out")
    with pytest.raises(InputError, match="cannot create the folder"):
        files.prepare_folder("/proc/nope", option="--out")
    assert files.prepare_folder(tmp_path / "a" / "b", option="--out").is_dir()


def test_a_write_that_fails_midway_is_a_runtime_failure(tmp_path, monkeypatch):
    target = tmp_path / "r.txt"

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(RuntimeFailure, match="No space left"):
        files.write_text(target, "x")
    assert not target.exists() and not list(tmp_path.iterdir())


def test_json_escapes_of_lone_surrogates_are_not_text():
    with pytest.raises(FileProblem, match=r"holds \\udcff, a lone surrogate, which is not text"):
        files.parse('{"prompt": "hi \\udcff"}', "p.json", as_json=True)
    with pytest.raises(FileProblem, match="lone surrogate"):
        files.parse('messages: [{role: user, content: "\\uD800"}]', "p.yaml", as_json=False)
    assert files.parse('{"prompt": "\\ud83d\\ude00"}', "p.json", as_json=True) == {"prompt": "\U0001f600"}  # a pair
