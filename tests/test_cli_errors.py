"""The error contract on the command line: bad input is one line naming the input and the fix
(exit 2), runtime failures exit 1, nothing is lost or overwritten, and outputs are checked
before any model call. One test (at least) per defect of issue 12."""

import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT
from endpoints import FaultProxy, closed_port
from promptslim_cli.app import main

TINY = ROOT / "tests" / "data" / "tiny-sentiment.yaml"
CASES = TINY.parent / "tiny-sentiment.cases.jsonl"


@pytest.fixture
def promptslim(capsys, monkeypatch):
    """The CLI in this process (fast): returncode, out, err."""

    def call(*args: str, stdin: bytes = b"") -> SimpleNamespace:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, out=out, err=err)

    return call


def one_line_error(proc, code: int = 2) -> str:
    assert proc.returncode == code, proc.err
    lines = proc.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("promptslim: error: "), proc.err
    assert "Traceback" not in proc.err and "internal error" not in proc.err
    return lines[0]


@pytest.fixture
def task(tmp_path) -> Path:
    """A copy of the tiny spec and its cases in a folder of its own."""
    folder = tmp_path / "task"
    folder.mkdir()
    shutil.copy(CASES, folder)
    spec = folder / "spec.yaml"
    spec.write_text(TINY.read_text())
    return spec


# ---------------------------------------------------------------- 1, 9: outputs checked first


def test_1_an_output_named_like_the_cases_file_is_refused_before_any_call(promptslim, task):
    cases = json.dumps([json.loads(line) for line in CASES.read_text().splitlines()])
    (task.parent / "report.json").write_text(cases)
    task.write_text(task.read_text().replace("tiny-sentiment.cases.jsonl", "report.json"))
    with FaultProxy() as endpoint:
        proc = promptslim("optimize", str(task), "--out", str(task.parent), "--base-url", endpoint.url, "-m", "x")
    line = one_line_error(proc)
    assert "would overwrite" in line and "report.json, which the spec reads" in line
    assert not endpoint.requests
    assert (task.parent / "report.json").read_text() == cases


@pytest.mark.parametrize("out", ["file", "/proc/nope"])
def test_9_out_is_checked_before_any_model_call(promptslim, task, out):
    if out == "file":
        out = str(task.parent / "taken")
        Path(out).write_text("keep")
    with FaultProxy() as endpoint:
        proc = promptslim("optimize", str(task), "--out", out, "--base-url", endpoint.url, "-m", "x")
    line = one_line_error(proc)
    assert "exists and is not a folder" in line or "cannot create the folder" in line
    assert not endpoint.requests  # no call spent before the refusal


# ---------------------------------------------------------------- 2: no code from a spec


def test_2_a_builtin_scorer_is_refused_before_any_call(promptslim, task):
    task.write_text(task.read_text().replace("scorer: label", "scorer: python:builtins:eval"))
    with FaultProxy(reply=lambda body: {"choices": []}) as endpoint:
        proc = promptslim("optimize", str(task), "--base-url", endpoint.url, "-m", "x", "--allow-python-scorer")
    assert "builtins is part of Python itself" in one_line_error(proc)
    assert not endpoint.requests


def test_2_an_installed_scorer_needs_allow_python_scorer(promptslim, task, monkeypatch):
    site = task.parent.parent / "site"
    site.mkdir()
    (site / "scorer_pkg_elsewhere.py").write_text("open('RAN', 'w').close()\ndef score(o, e, r):\n    return 1\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.chdir(task.parent)
    task.write_text(task.read_text().replace("scorer: label", "scorer: python:scorer_pkg_elsewhere:score"))
    line = one_line_error(promptslim("optimize", str(task), "--out", str(task.parent / "o")))
    assert "pass --allow-python-scorer" in line and not (task.parent / "RAN").exists()  # its code never ran


# ---------------------------------------------------------------- 3, 4: report files


class SlowReport:
    """An audit report whose JSON rows arrive slowly, so that a second writer lands mid-write."""

    def __init__(self, rows: int, delay_s: float):
        self.rows, self.delay_s = rows, delay_s

    def to_dict(self) -> dict:
        def prompts():
            for i in range(self.rows):
                time.sleep(self.delay_s)
                yield {"id": f"p{i}", "text": "x" * 2000}

        return {"summary": {"prompts": self.rows}, "prompts": prompts()}


def test_3_two_audits_writing_one_file_leave_one_whole_report(tmp_path):
    from promptslim_cli.commands import audit as command

    out = tmp_path / "out"
    writing = threading.Thread(target=command.write, args=(SlowReport(20, 0.01), "json", 0, out))
    writing.start()
    time.sleep(0.05)  # the JSON writer is half-way
    empty = {"prompts": [], "summary": {}, "targets": [], "failures": [], "notes": []}
    command.write(SimpleNamespace(to_dict=lambda: empty), "csv", 0, out)
    assert out.read_text().startswith("source,id,")  # the CSV, whole, while the JSON is still being written
    writing.join()
    report = json.loads(out.read_text())  # then the JSON, whole: the last writer wins, nothing is mixed
    assert len(report["prompts"]) == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary file left


def test_4_names_that_are_not_utf8_or_hold_escapes_give_valid_reports(cli, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Please answer the question.")
    with open(os.fsencode(corpus) + b"/b\xff\x1b[31m\nc.txt", "w") as f:
        f.write("Hello there, please be brief.")
    keep = tmp_path / "keep.html"
    keep.write_text("old report")
    html = cli("audit", str(corpus), "--format", "html", "-o", str(keep))
    assert html.returncode == 0, html.err
    assert "b\\xff\\x1b[31m\\nc.txt" in keep.read_text(encoding="utf-8")
    as_json = cli("audit", str(corpus), "--format", "json")
    assert as_json.returncode == 0
    ids = [p["id"] for p in json.loads(as_json.stdout.decode("utf-8"))["prompts"]]  # strict UTF-8
    assert sorted(Path(i).name for i in ids) == ["a.txt", "b\\xff\\x1b[31m\\nc.txt"]
    table = cli("audit", str(corpus)).stdout
    assert b"\x1b" not in table and b"\xff" not in table


# ---------------------------------------------------------------- 5: emissions CSV


@pytest.mark.parametrize(
    "where, needle",
    [
        ("folder", "is a folder: give a file name"),
        ("missing/e.csv", "there is no folder"),
        ("prompt.txt", "that is the input"),
        ("other.csv", "exists and is not a codecarbon emissions CSV"),
    ],
)
def test_5_emissions_csv_paths_are_checked_before_the_run(promptslim, tmp_path, where, needle):
    (tmp_path / "folder").mkdir()
    (tmp_path / "prompt.txt").write_text("Say hi.")
    (tmp_path / "other.csv").write_text("name,score\na,1\n")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with FaultProxy() as endpoint:
        proc = promptslim(
            "run", str(tmp_path / "prompt.txt"), "--base-url", endpoint.url, "-m", "x",
            "--region", "FR", "--emissions-csv", str(tmp_path / where),
        )  # fmt: skip
    assert needle in one_line_error(proc) and not endpoint.requests
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before  # no .bak, nothing moved


def test_5_emissions_rows_are_appended_to_the_same_file(promptslim, tmp_path):
    path = tmp_path / "emissions.csv"
    with FaultProxy() as endpoint:
        for _ in range(2):
            proc = promptslim(
                "run", "-", "--base-url", endpoint.url, "-m", "x", "--max-tokens", "2",
                "--region", "FR", "--emissions-csv", str(path), stdin=b"Say hi.",
            )  # fmt: skip
            assert proc.returncode == 0, proc.err
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and lines[0].startswith("timestamp,project_name,run_id")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emissions.csv"]


# ---------------------------------------------------------------- 6: folder audits go on


def test_6_a_spec_folder_with_csv_cases_is_audited_with_a_note(promptslim, task):
    (task.parent / "task.cases.csv").write_text("review,expected\nGreat,positive\n")
    proc = promptslim("audit", str(task.parent), "--format", "json")
    assert proc.returncode == 0, proc.err
    assert [Path(p["id"]).name for p in json.loads(proc.out)["prompts"]] == ["spec.yaml"]
    assert "no 'prompt' column (its columns are review, expected): not a prompt file, skipped" in proc.err


# ---------------------------------------------------------------- 7: cases confined


@pytest.mark.parametrize(
    "cases, flag, needle",
    [
        ("/dev/zero", None, "unknown format"),
        ("../../etc/passwd", "--allow-outside", "unknown format"),
        ("../outside.jsonl", None, "is outside the spec's folder"),
        ("zero.jsonl", None, "is outside the spec's folder"),
        ("zero.jsonl", "--allow-outside", "is a device, FIFO or socket"),
    ],
)
def test_7_cases_paths_are_confined_and_devices_refused(promptslim, task, cases, flag, needle):
    (task.parent / "zero.jsonl").symlink_to("/dev/zero")
    shutil.copy(CASES, task.parent.parent / "outside.jsonl")
    task.write_text(task.read_text().replace("tiny-sentiment.cases.jsonl", cases))
    started = time.monotonic()
    proc = promptslim("optimize", str(task), *([flag] if flag else []))
    assert needle in one_line_error(proc) and time.monotonic() - started < 5


# ---------------------------------------------------------------- 8, 10: one line, exit 2


@pytest.mark.parametrize(
    "edit, needle",
    [
        (("target: gpt-4o", "target: 5"), "target: must be a model name"),
        (("target: gpt-4o", "target: [gpt-4o]"), "target: must be a model name"),
        (("target: gpt-4o", "target: gpt-4o\nregion: 5"), "region: must be an ISO country code"),
        (("max_tokens: 24", "max_tokens: 1000000000"), "max_tokens: must be a whole number from 1 to 131072"),
    ],
)
def test_8_spec_values_of_the_wrong_kind_are_input_errors(promptslim, task, edit, needle):
    task.write_text(task.read_text().replace(*edit))
    assert needle in one_line_error(promptslim("optimize", str(task)))


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--calls-per-day", "inf"], "'--calls-per-day': inf is not a finite number"),
        (["--calls-per-day", "nan"], "--calls-per-day"),
        (["--max-prompt-mb", "1e300"], "'--max-prompt-mb'"),
        (["--jobs", "100000"], "'--jobs'"),
        (["--rate", "0.5"], "--rate applies to --deep pruning only"),
        (["--top", "3", "--format", "json"], "--top does not apply to --format json"),
        (["--format", "xml"], "--format xml: use one of"),
        (["--output", "{tmp}/no/such/folder/r.csv"], "there is no folder"),
    ],
)
def test_8_10_audit_options(promptslim, tmp_path, args, needle):
    (tmp_path / "p.txt").write_text("Please answer.")
    proc = promptslim("audit", str(tmp_path / "p.txt"), *(a.format(tmp=tmp_path) for a in args))
    assert needle in one_line_error(proc)


def test_8_count_with_stdin_closed(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "promptslim", "count", "-", "-t", "gpt-4o"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    assert proc.returncode == 2 and b"the prompt is empty" in proc.stderr  # an empty stdin
    closed = subprocess.run(
        f"{sys.executable} -m promptslim count - -t gpt-4o <&-", shell=True, capture_output=True, text=True
    )
    assert closed.returncode == 2, closed.stderr
    assert (
        closed.stderr.strip() == "promptslim: error: <stdin>: stdin is closed: pipe the input in, or give a file path"
    )


@pytest.mark.parametrize(
    "args, needle",
    [
        (["compress", "{p}", "--rat", "0.5"], "No such option: --rat"),
        (["compress", "{p}", "--method", "rules", "--rate", "0.5"], "--rate applies to pruning, not --method rules"),
        (["compress", "{p}", "--method", "rules", "--target-tokens", "5"], "--target-tokens applies to pruning"),
        (["compress", "{p}", "--rate", "0.5", "--target-tokens", "5"], "--target-tokens and --rate both set"),
        (["compress", "{p}", "--diff", "--json"], "--diff and --json both choose the output"),
        (["run", "{p}", "--max-tokens", "1000000000"], "'--max-tokens'"),
        (["run", "{p}", "--stop", "\\x"], "--stop \\x: not a valid escape"),
        (["run", "{p}", "--stop", ""], "--stop '': an empty stop sequence stops nothing"),
        (["run", "{p}", "--var", "x=\udcff"], "--var x=\\xff: not valid UTF-8"),  # argv bytes that are not UTF-8
        (["compress", "{p}", "--keep", "\udcff"], "--keep \\xff: not valid UTF-8"),
        (["count"], "Missing argument"),
        (["nosuch"], "No such command 'nosuch'"),
    ],
)
def test_10_usage_errors_and_conflicting_flags_are_one_line(promptslim, tmp_path, args, needle):
    (tmp_path / "p.txt").write_text("Please answer.")
    proc = promptslim(*(a.format(p=tmp_path / "p.txt") for a in args))
    assert needle in one_line_error(proc)


def test_10_utf16_prompts_are_read_and_oversize_messages_give_both_sizes(promptslim, tmp_path):
    (tmp_path / "p.txt").write_bytes("\ufeffPlease answer.".encode("utf-16-le"))
    proc = promptslim("count", str(tmp_path / "p.txt"), "-t", "gpt-4o", "--json")
    assert proc.returncode == 0, proc.err
    assert json.loads(proc.out)["tokens"]["gpt-4o"] == 3
    (tmp_path / "big.txt").write_text("word " * 400)
    proc = promptslim("audit", str(tmp_path / "big.txt"), "--max-prompt-mb", "0.001")
    assert "big.txt: 0.002 MB is over the 0.001 MB limit" in proc.err


def test_10_error_messages_stay_on_one_line_whatever_the_input_holds(promptslim, tmp_path):
    name = tmp_path / "a\nb\x1b[2J.txt"
    proc = promptslim("count", str(name))
    assert "a\\nb\\x1b[2J.txt: no such file" in one_line_error(proc)


def test_a_dead_endpoint_is_a_runtime_failure_in_bounded_time(promptslim, monkeypatch):
    monkeypatch.setenv("PROMPTSLIM_RETRIES", "1")
    url = f"http://127.0.0.1:{closed_port()}/v1"
    started = time.monotonic()
    proc = promptslim("run", "-", "--base-url", url, "-m", "x", stdin=b"hi")
    assert f"cannot reach {url} after 2 tries" in one_line_error(proc, code=1)
    assert time.monotonic() - started < 5
