"""The corpus audit: every input kind, bad input, findings, gates, formats, and the property that
an audited prompt's tokens_after is what `compress --method rules` gives."""

import csv
import importlib
import io
import json
import os
import re
import string
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import PROMPTS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import promptslim
from promptslim.compress import compress
from promptslim.prompt import read_text

AUDIT = sys.modules["promptslim.audit"]  # the module; `promptslim.audit` is the function
AUDIT_REPORT = importlib.import_module("promptslim.report.audit")
WORDY = (
    "Hello! I would like you to please read the review below very carefully and, in order to help us, "
    "decide whether it is positive or negative. Thank you so much in advance!\n\nReview: {{review}}\nSentiment:"
)


def write(folder: Path, name: str, content: "str | bytes") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def by_id(report) -> dict:
    return {p.id: p for p in report.prompts}


def sources(problems) -> list[str]:
    return [p.source for p in problems]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """One of every input kind, in nested folders."""
    root = tmp_path / "corpus"
    write(root, "a.txt", WORDY)
    write(root, "sub/b.md", "# Summary\n\nPlease kindly summarise the text below in order to help me.\n\n{{text}}\n")
    write(root, "sub/deeper/c.prompt", "Translate into French, answer with the translation only: {{text}}")
    write(root, "spec.yaml", "name: s\nmax_tokens: 7\nprompt: |\n  Could you please answer in one word: {{q}}\n")
    write(
        root,
        "chat.json",
        json.dumps(
            {
                "messages": [
                    {"role": "system", "content": "Hi there! Be brief."},
                    {"role": "user", "content": "{{question}}"},
                ]
            }
        ),
    )
    write(root, "config.yaml", "retries: 3\n")
    write(root, "list.json", "[1, 2, 3]")
    write(root, "turns.json", json.dumps([{"role": "user", "content": "Please kindly say hi."}]))
    write(root, "script.py", "print('not a prompt')\n")
    write(root, ".git/info/exclude.txt", "Please ignore me: a hidden folder is not entered.")
    write(root, "rows.jsonl", '{"prompt": "Please answer very briefly: {{q}}"}\n\n{"prompt": "Just say yes."}\n')
    write(root, "sheet.csv", 'id,prompt\n1,Please summarise this.\n2,"Line one\nline two, basically"\n')
    return root


# ---------------------------------------------------------------- input kinds


def test_a_folder_is_read_recursively_with_every_kind_of_file(corpus):
    report = promptslim.audit([str(corpus)])
    ids = {Path(i).name for i in by_id(report)}
    assert ids == {
        "a.txt",
        "b.md",
        "c.prompt",
        "spec.yaml",
        "chat.json",
        "turns.json",
        "rows.jsonl:1",
        "rows.jsonl:3",
        "sheet.csv:2",
        "sheet.csv:3",
    }
    assert not report.failures
    skipped = {Path(p.source).name: p.message for p in report.notes}
    assert set(skipped) == {"config.yaml", "list.json"} and "not a promptslim spec" in skipped["config.yaml"]
    spec = by_id(report)[str(corpus / "spec.yaml")]
    assert spec.main.output_tokens == 7  # a spec's max_tokens is the assumed answer length
    assert by_id(report)[str(corpus / "a.txt")].main.output_tokens == 200
    assert by_id(report)[str(corpus / "chat.json")].chat and by_id(report)[str(corpus / "turns.json")].chat
    assert by_id(report)[str(corpus / "sheet.csv") + ":3"].excerpt.startswith("Line one\nline two")


def test_jsonl_field_and_csv_column_name_where_the_prompt_is(tmp_path):
    write(tmp_path, "a.jsonl", '{"text": "Please kindly answer: {{q}}", "prompt": "x"}\n')
    write(tmp_path, "b.csv", "question,template\nq1,Could you please reply briefly?\n")
    report = promptslim.audit([str(tmp_path)], field="text", column="template")
    texts = sorted(p.excerpt for p in report.prompts)
    assert texts == ["Could you please reply briefly?", "Please kindly answer: {{q}}"]


def test_csv_fields_of_any_size_are_read(tmp_path):
    huge = "\n".join(f"Line {i}: please keep every line of this very long prompt." for i in range(6000))
    assert len(huge) > 131072  # the csv module's default field limit
    out = io.StringIO()
    csv.writer(out).writerows([["id", "prompt"], ["big", huge], ["small", "Just answer."]])
    write(tmp_path, "big.csv", out.getvalue())
    report = promptslim.audit([str(tmp_path / "big.csv")])
    assert not report.failures and len(report.prompts) == 2
    assert max(p.main.tokens for p in report.prompts) > 50_000


def test_stdin_is_one_prompt(cli):
    proc = cli("audit", "-", "--format", "json", stdin=WORDY.encode())
    assert proc.returncode == 0, proc.err
    report = json.loads(proc.out)
    assert [p["id"] for p in report["prompts"]] == ["<stdin>"]
    assert report["prompts"][0]["tokens"] == promptslim.count_tokens(WORDY)


def test_many_prompts_run_in_workers_with_the_same_result(tmp_path):
    lines = [json.dumps({"prompt": f"Please answer question {i} very briefly. " * (i % 4 + 1)}) for i in range(260)]
    write(tmp_path, "many.jsonl", "\n".join(lines))
    one = promptslim.audit([str(tmp_path)], workers=1)
    assert len(one.prompts) > AUDIT.SEQUENTIAL_MAX
    assert promptslim.audit([str(tmp_path)], workers=2).to_dict() == one.to_dict()


# ---------------------------------------------------------------- bad input


def test_symlinks_leading_outside_the_roots_are_not_followed(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    write(outside, "secret.txt", "Please reveal the secret.")
    write(root, "inside.txt", "Please answer.")
    os.symlink(outside / "secret.txt", root / "leak.txt")
    os.symlink(outside, root / "leakdir")
    os.symlink(root / "inside.txt", root / "alias.txt")  # inside the root: followed, to a file already read
    os.symlink(root / "gone.txt", root / "broken.txt")
    report = promptslim.audit([str(root)])
    assert [Path(i).name for i in by_id(report)] == ["inside.txt"]
    notes = {Path(p.source).name: p.message for p in report.notes}
    assert notes.keys() == {"leak.txt", "leakdir", "broken.txt", "alias.txt"} and "broken" in notes.pop("broken.txt")
    assert "counted once" in notes.pop("alias.txt")
    assert all("not followed" in message for message in notes.values())


def test_a_prompt_reached_by_several_paths_is_counted_once(tmp_path):
    write(tmp_path / "sub", "one.txt", WORDY)
    write(tmp_path, "two.txt", "Please answer briefly.")
    report = promptslim.audit([str(tmp_path / "sub" / "one.txt"), str(tmp_path), str(tmp_path / "sub")])
    assert sorted(Path(i).name for i in by_id(report)) == ["one.txt", "two.txt"]
    assert [p.source for p in report.notes] == [str(tmp_path / "sub" / "one.txt")] * 2


def test_binary_files_are_skipped_and_invalid_utf8_is_reported(tmp_path):
    write(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(tmp_path, "latin1.txt", "Caf\u00e9, please answer.".encode("latin-1"))
    write(tmp_path, "good.txt", "Please answer.")
    report = promptslim.audit([str(tmp_path)])
    assert [Path(i).name for i in by_id(report)] == ["good.txt"]
    assert [(Path(p.source).name, "binary" in p.message) for p in report.notes] == [("image.txt", True)]
    assert [Path(p.source).name for p in report.failures] == ["latin1.txt"]
    assert "not valid UTF-8" in report.failures[0].message


def test_an_unreadable_file_is_reported_and_the_audit_goes_on(tmp_path, monkeypatch):
    locked = write(tmp_path, "locked.txt", "Please answer.")
    write(tmp_path, "open.txt", "Please answer.")
    real_open = os.open

    def guarded(path, *args, **kwargs):
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded)  # the one reader opens every file with os.open
    report = promptslim.audit([str(tmp_path)])
    assert [Path(i).name for i in by_id(report)] == ["open.txt"]
    assert sources(report.failures) == [str(locked)] and "Permission denied" in report.failures[0].message


def test_an_empty_folder_gives_zeros_and_a_note(cli, tmp_path):
    proc = cli("audit", str(tmp_path), "--format", "json")
    assert proc.returncode == 0, proc.err
    summary = json.loads(proc.out)["summary"]
    assert (summary["prompts"], summary["tokens"], summary["cost_usd_year"], summary["energy_kwh_year"]) == (0, 0, 0, 0)
    assert "no prompt files" in proc.err


def test_a_csv_without_the_column_is_an_input_error_listing_the_columns(cli, tmp_path):
    write(tmp_path, "t.csv", "question,template\nq,Please answer.\n")
    proc = cli("audit", str(tmp_path / "t.csv"), "--column", "body")
    assert proc.returncode == 2
    assert "no column 'body'" in proc.err and "question, template" in proc.err


def test_a_bad_jsonl_line_is_counted_in_failures_and_the_rest_is_audited(tmp_path):
    write(tmp_path, "p.jsonl", '{"prompt": "Please answer."}\n{"prompt": "unterminated\n{"prompt": "Just answer."}\n')
    report = promptslim.audit([str(tmp_path)])
    assert len(report.prompts) == 2
    assert sources(report.failures) == [f"{tmp_path / 'p.jsonl'}:2"] and "not valid JSON" in report.failures[0].message
    assert report.summary["failures"] == 1


def test_jsonl_files_of_test_cases_are_skipped(tmp_path):
    write(tmp_path, "cases.jsonl", '{"vars": {"q": 1}, "expected": "yes"}\n')
    report = promptslim.audit([str(tmp_path)])
    assert not report.prompts and not report.failures and "no 'prompt' field" in report.notes[0].message


def test_a_huge_file_is_refused_without_reading_it_and_long_lines_are_skipped(tmp_path):
    with open(tmp_path / "huge.txt", "wb") as f:
        f.truncate(100_000_001)  # 100 MB, sparse: nothing is written
    write(tmp_path, "lines.jsonl", json.dumps({"prompt": "x " * 5000}) + "\n" + json.dumps({"prompt": "Just answer."}))
    report = promptslim.audit([str(tmp_path)], max_prompt_bytes=8000)
    assert [p.excerpt for p in report.prompts] == ["Just answer."]
    problems = {Path(p.source).name: p.message for p in report.failures}
    assert set(problems) == {"huge.txt", "lines.jsonl:1"}
    assert "100 MB is over the 0.008 MB limit" in problems["huge.txt"]


def test_a_missing_path_is_an_input_error(cli, tmp_path):
    proc = cli("audit", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "no such file or folder" in proc.err


# ---------------------------------------------------------------- findings


def test_findings_carry_span_text_and_rule():
    report = promptslim.audit([str(PROMPTS / "examples" / "code-review.txt")])
    prompt = report.prompts[0]
    text = read_text(PROMPTS / "examples" / "code-review.txt")
    rules = {f.rule for f in prompt.findings}
    assert {"filler", "verbose phrase", "no length instruction"} <= rules
    for f in prompt.findings:
        if f.suggestion is not None:  # a rules edit: its span holds the matched text
            assert text[f.start : f.end] == f.text
    assert any(f.text == "in order to" and f.suggestion == "to" for f in prompt.findings)


def test_findings_on_the_example_prompts():
    report = promptslim.audit([str(PROMPTS / "examples")])
    rules = {Path(p.id).name: {f.rule for f in p.findings} for p in report.prompts}
    assert "few-shot" in rules["sentiment-fewshot.txt"]
    assert "politeness" in rules["chinese-summary.txt"]  # 您好, 非常感谢
    assert {"repeated instruction", "whitespace"} <= rules["support-triage.txt"]
    assert "no length instruction" not in rules["json-extraction.txt"]  # "Output only the JSON object"
    shots = next(f for p in report.prompts for f in p.findings if f.rule == "few-shot")
    assert re.match(r"\d+ examples, [\d,]+ gpt-4o tokens", shots.detail)


def test_findings_on_the_example_corpus():
    report = promptslim.audit([str(PROMPTS / "corpus")])
    named = {p.name: p for p in report.prompts if p.name}
    assert {"polite-summary", "return-label"} <= named.keys()  # the records' own ids (JSONL and CSV)
    assert {"politeness", "filler"} <= {f.rule for f in named["polite-summary"].findings}
    rules = {Path(p.id).name: {f.rule for f in p.findings} for p in report.prompts}
    assert "long prompt" in rules["returns-policy-assistant.md"]
    assert "few-shot" in rules["intent-classifier.prompt"]
    assert not report.failures


def test_long_prompts_are_flagged_over_the_threshold(tmp_path):
    write(tmp_path, "long.txt", "Summarise the following notes. " * 100)
    flagged = promptslim.audit([str(tmp_path)], long_tokens=100).prompts[0]
    assert any(f.rule == "long prompt" for f in flagged.findings)
    assert not any(f.rule == "long prompt" for f in promptslim.audit([str(tmp_path)]).prompts[0].findings)


def test_prompts_are_sorted_by_yearly_saving_and_projected(tmp_path):
    write(tmp_path, "wordy.txt", WORDY)
    write(tmp_path, "tight.txt", "Label the review positive or negative.\nReview: {{review}}\nLabel:")
    report = promptslim.audit([str(tmp_path)], calls_per_day=2000, output_tokens=10)
    wordy, tight = report.prompts
    assert Path(wordy.id).name == "wordy.txt" and wordy.main.cost_usd_year_saved > tight.main.cost_usd_year_saved
    p = wordy.main
    assert p.cost_usd_per_1k == pytest.approx(1000 * (p.tokens * 2.5 + 10 * 10.0) / 1e6)
    assert p.cost_usd_year == pytest.approx(p.cost_usd_per_1k / 1000 * 2000 * 365)
    assert p.energy_kwh_year == pytest.approx(p.energy_wh_per_1k / 1000 / 1000 * 2000 * 365)
    assert report.summary["tokens"] == wordy.main.tokens + tight.main.tokens
    assert report.totals[0].energy_model.source == "token-estimate"


@pytest.mark.slow
def test_deep_prunes_with_the_local_model_and_counts_on_every_target(tmp_path):
    write(tmp_path, "a.txt", WORDY)
    report = promptslim.audit([str(tmp_path)], targets=["gpt-4o", "gpt-4"], deep=True, rate=0.5)
    for projection, totals in zip(report.prompts[0].projections, report.totals):
        assert projection.deep_tokens_after is not None and projection.deep_tokens_after < projection.tokens_after
        assert totals.deep_tokens_after == projection.deep_tokens_after
    assert report.deep_rate == 0.5


def test_user_energy_coefficients_are_labelled_user(tmp_path):
    write(tmp_path, "a.txt", "Answer.")
    report = promptslim.audit([str(tmp_path)], energy_per_input_token=1.0, energy_per_output_token=2.0, output_tokens=3)
    model, p = report.totals[0].energy_model, report.prompts[0].main
    assert (model.source, model.j_per_input_token, model.j_per_output_token) == ("user", 1.0, 2.0)
    assert p.energy_wh_per_1k == pytest.approx((p.tokens * 1.0 + 3 * 2.0) * 1000 / 3600)


def test_the_local_target_needs_a_calibration(cli, tmp_path):
    write(tmp_path, "a.txt", "Answer.")
    proc = cli("audit", str(tmp_path), "--target", "local", env={"PROMPTSLIM_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 2 and "promptslim calibrate" in proc.err


# ---------------------------------------------------------------- gates and outputs


def test_gates_exit_3_and_name_the_offenders(cli, tmp_path):
    wordy = write(tmp_path, "wordy.txt", WORDY)
    write(tmp_path, "tight.txt", "Label: {{x}}")
    over = cli("audit", str(tmp_path), "--fail-over-tokens", "20", "--format", "json")
    assert over.returncode == 3
    assert str(wordy) in over.err and "over --fail-over-tokens 20" in over.err and "tight.txt" not in over.err
    assert json.loads(over.out)["summary"]["prompts"] == 2  # the report is still printed
    saving = cli("audit", str(tmp_path), "--fail-saving", "10")
    assert saving.returncode == 3 and "wordy.txt: rules mode saves" in saving.err and "Prompt" in saving.out
    assert cli("audit", str(tmp_path), "--fail-over-tokens", "1000", "--fail-saving", "99").returncode == 0


def test_formats_and_output_file(cli, tmp_path):
    write(tmp_path / "in", "a.txt", WORDY)
    out = tmp_path / "report.csv"
    proc = cli("audit", str(tmp_path / "in"), "--format", "csv", "--output", str(out))
    assert proc.returncode == 0 and proc.out == ""
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["target"] == "gpt-4o" and int(rows[0]["tokens_after"]) < int(rows[0]["tokens"])
    md = cli("audit", str(tmp_path / "in"), "--format", "md")
    assert md.out.startswith("## promptslim audit") and "| Prompt | Tokens |" in md.out
    refused = cli("audit", str(tmp_path / "in"), "--output", str(tmp_path / "in" / "a.txt"))
    assert refused.returncode == 2 and "one of the audited files" in refused.err
    assert (tmp_path / "in" / "a.txt").read_text() == WORDY


@pytest.mark.parametrize("files", [0, 3])
def test_json_output_is_the_report_one_prompt_per_line(cli, tmp_path, files):
    (tmp_path / "in").mkdir()
    for i in range(files):
        write(tmp_path / "in", f"{i}.txt", WORDY + "\u00e9\u4e2d" * i)
    proc = cli("audit", str(tmp_path / "in"), "--format", "json")
    assert proc.returncode == 0
    assert json.loads(proc.out) == json.loads(promptslim.serialize.dumps(promptslim.audit([str(tmp_path / "in")])))
    lines = proc.out.splitlines()
    assert sum(line.startswith('    {"source": ') for line in lines) == files


def test_html_is_one_file_that_escapes_prompt_text():
    from promptslim.report.audit_html import render

    with tempfile.TemporaryDirectory() as folder:
        write(Path(folder), "x<script>.txt", "Please read <script>alert(1)</script> very carefully. {{q}}")
        page = render(promptslim.audit([folder]).to_dict())
    assert "<script" not in page.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<svg" in page and "src=" not in page and "<link" not in page
    assert "Content-Security-Policy" in page


# ---------------------------------------------------------------- the compress property


fragments = st.sampled_from(
    [
        "Please",
        "kindly",
        "in order to",
        "Thank you in advance!",
        "Hello!",
        "the",
        "answer",
        "I would like you to",
        "very",
        "\n",
        "\n\n\n",
        "  ",
        ".",
        ",",
        "请",
        "您好，",
        "Review:",
        "{{x}}",
        "`code`",
        "42",
        '"quoted"',
        "due to the fact that",
        "Note that",
    ]
)
texts = (
    st.lists(st.one_of(fragments, st.text(string.ascii_letters + " ", max_size=12)), min_size=1, max_size=20)
    .map(" ".join)
    .filter(lambda s: s.strip())
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from(["gpt-4o", "gpt-4"]), st.sampled_from(["safe", "aggressive"]))
def test_audited_tokens_after_is_what_rules_compression_gives(text, target, level):
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), "p.txt", text)
        audited = promptslim.audit([str(path)], targets=[target], level=level).prompts[0].main
        expected = compress(read_text(path), method="rules", target=target, level=level)
        terse = compress(read_text(path), method="rules", target=target, level="aggressive")
    assert (audited.tokens, audited.tokens_after) == (expected.original_tokens, expected.compressed_tokens)
    assert audited.aggressive_tokens_after == terse.compressed_tokens


def test_the_report_shows_the_aggressive_savings_beside_as_unverified(tmp_path):
    write(tmp_path, "wordy.txt", WORDY)
    report = promptslim.audit([str(tmp_path)])
    main, totals = report.prompts[0].main, report.totals[0]
    assert main.aggressive_tokens_after < main.tokens_after < main.tokens
    assert (totals.aggressive_tokens_after, report.summary["level"]) == (main.aggressive_tokens_after, "safe")
    data = report.to_dict()
    line = AUDIT_REPORT.headline(data)
    assert "(safe," in line and "after aggressive rules" in line and "unverified" in line
    assert "Aggressive" in AUDIT_REPORT.to_table(data) and "aggressive_tokens_after" in AUDIT_REPORT.to_csv(data)
    terse = promptslim.audit([str(tmp_path)], level="aggressive")
    assert terse.prompts[0].main.tokens_after == main.aggressive_tokens_after
    with pytest.raises(promptslim.InputError, match="unknown level"):
        promptslim.audit([str(tmp_path)], level="reckless")


def test_the_cli_audit_and_compress_agree_on_one_file(cli):
    path = PROMPTS / "examples" / "support-triage.txt"
    audited = json.loads(cli("audit", str(path), "--format", "json", "--target", "gpt-4").out)["prompts"][0]
    compressed = json.loads(cli("compress", str(path), "--method", "rules", "--target", "gpt-4", "--json").out)
    assert (audited["tokens"], audited["tokens_after"]) == (
        compressed["original_tokens"],
        compressed["compressed_tokens"],
    )
