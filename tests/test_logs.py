"""Log audits: records read from JSONL byte ranges and Parquet row groups, calls grouped into the
templates they came from, real counts and token means, and the same report from this process,
the process pool and a Dask cluster."""

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from make_logs import TEMPLATES, log_records, write_jsonl, write_parquet  # noqa: E402

from promptslim import logs  # noqa: E402
from promptslim.log_audit import audit_logs, gate_failures  # noqa: E402
from promptslim.report.logs import render  # noqa: E402

# a phrase of each generated template, to find it in a report
PHRASES = (
    "support agent",
    "Summarize the following review",
    "translate English",
    "Extract the invoice",
    "product description",
)


def expected(fills: int, seed: int = 7) -> dict[int, dict]:
    sums = defaultdict(lambda: {"calls": 0, "prompt": 0, "completion": 0})
    for t, record in log_records(fills=fills, seed=seed):
        usage = record["response"]["usage"]
        sums[t]["calls"] += 1
        sums[t]["prompt"] += usage["prompt_tokens"]
        sums[t]["completion"] += usage["completion_tokens"]
    return sums


def check(report, fills: int) -> None:
    """Exactly one template per generated one, with its calls and token means."""
    assert len(report.templates) == len(TEMPLATES)
    want = expected(fills)
    for index, phrase in enumerate(PHRASES):
        (found,) = [t for t in report.templates if phrase in t.template.text]
        assert found.calls == fills == want[index]["calls"]
        assert found.prompt_tokens_mean == pytest.approx(want[index]["prompt"] / fills)
        assert found.completion_tokens_mean == pytest.approx(want[index]["completion"] / fills)


@pytest.fixture(scope="module")
def small_logs(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("logs")
    write_jsonl(folder / "calls.jsonl", log_records(fills=200))
    write_parquet(folder / "calls.parquet", log_records(fills=200), row_group=300)
    return folder / "calls.jsonl", folder / "calls.parquet"


def test_templates_counts_and_means_from_jsonl_and_parquet(small_logs):
    jsonl, parquet = small_logs
    from_jsonl = audit_logs([jsonl], workers=1, part_bytes=40_000)
    from_parquet = audit_logs([parquet], workers=1)
    check(from_jsonl, 200)
    assert from_jsonl.partitions > 5 and from_parquet.partitions == 4  # byte ranges and row groups
    assert from_jsonl.to_dict()["templates"] == from_parquet.to_dict()["templates"]
    assert from_jsonl.span_measured and 29 < from_jsonl.span_days <= 30


def test_partitioning_and_workers_do_not_change_the_report(small_logs):
    jsonl, _ = small_logs
    one = audit_logs([jsonl], workers=1, part_bytes=10**9).to_dict()
    for part_bytes, workers in ((997, 1), (25_000, 2)):
        assert audit_logs([jsonl], workers=workers, part_bytes=part_bytes).to_dict() == one


def test_byte_ranges_take_every_line_once(tmp_path):
    path = tmp_path / "l.jsonl"
    lines = [json.dumps({"n": i, "pad": "x" * (i % 37)}) for i in range(300)]
    path.write_text("\n".join(lines) + "\n")
    for size in (1, 7, 64, 1000, 10**6):
        seen = [r["n"] for p in logs.partitions([str(path)], size) for r, _ in logs.records(p)]
        assert seen == list(range(300))


@pytest.mark.slow
def test_dask_local_cluster_matches_the_process_pool(small_logs):
    jsonl, parquet = small_logs
    pool = audit_logs([jsonl, parquet], workers=2, part_bytes=60_000).to_dict()
    on_dask = audit_logs([jsonl, parquet], dask="local:2", part_bytes=60_000).to_dict()
    assert json.dumps(on_dask) == json.dumps(pool)
    assert [t["calls"] for t in pool["templates"]] == [400] * 5


@pytest.mark.slow
def test_five_templates_by_ten_thousand_fills_everywhere(tmp_path):
    write_jsonl(tmp_path / "calls.jsonl", log_records(fills=10_000))
    write_parquet(tmp_path / "calls.parquet", log_records(fills=10_000), row_group=8_000)
    reports = [
        audit_logs([tmp_path / "calls.jsonl"], workers=2, part_bytes=4_000_000),
        audit_logs([tmp_path / "calls.parquet"], workers=2),
        audit_logs([tmp_path / "calls.jsonl"], dask="local:2", part_bytes=4_000_000),
        audit_logs([tmp_path / "calls.parquet"], dask="local:2"),
    ]
    for report in reports:
        check(report, 10_000)
    first = json.dumps(reports[0].to_dict()["templates"])
    assert all(json.dumps(r.to_dict()["templates"]) == first for r in reports)


def test_record_forms_and_unreadable_records(tmp_path):
    usage = {"prompt_tokens": 12, "completion_tokens": 3}
    records = [
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hi to Ann"}], "usage": usage},
        {"request": {"body": {"prompt": ["Say hi to Bob"]}}, "response": {"body": {"usage": usage}}},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "Say hi to Cy"}]}], "usage": usage},
        {"messages": [{"role": "user", "content": "no usage"}]},
    ]
    path = tmp_path / "l.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\nnot json\n")
    report = audit_logs([path], workers=1)
    assert report.records == 5 and report.failure_count == 2
    assert sorted(p.message for p in report.failures) == [
        "no usage.prompt_tokens: the log must hold the responses' usage",
        "not JSON",
    ]
    assert not report.span_measured and report.notes  # no timestamps: one day, said so
    assert sum(t.calls for t in report.templates) == 3


def test_masked_fills_and_literal_matching():
    assert logs.mask('Order 1234 for "blue shoes" by ann@x.io') == "Order {number} for {quoted} by {email}"
    template = logs.Template(("user",), (("Hello ", ", you owe ", "."),))
    assert template.matches(("Hello Ann, you owe 5 dollars.",))
    assert not template.matches(("Hi Ann, you owe 5.",))
    assert template.text == "user: Hello {*}, you owe {*}."


def test_outputs_that_vary_widely_point_at_a_cap(small_logs):
    report = audit_logs([small_logs[1]], workers=1)
    (described,) = [t for t in report.templates if "product description" in t.template.text]
    assert described.length_capped > 0 and "cap is the lever" in described.output_note
    assert [t.main.cost_usd_year for t in report.templates] == sorted(
        (t.main.cost_usd_year for t in report.templates), reverse=True
    )
    assert gate_failures(report, max_tokens=40) and not gate_failures(report, max_tokens=10_000)


def test_cli_formats_gates_and_bad_input(cli, small_logs, tmp_path):
    jsonl, parquet = small_logs
    proc = cli("audit", str(jsonl), "--format", "json")  # detected as a log
    data = json.loads(proc.out)
    assert proc.returncode == 0 and len(data["templates"]) == 5 and data["summary"]["calls"] == 1000
    keys = {"template", "calls", "calls_per_day", "prompt_tokens_mean", "completion_tokens_mean"}
    assert keys | {"completion_tokens_p95", "cost_usd_year", "energy_kwh_year", "co2_kg_year"} <= set(
        data["templates"][0]
    )
    proc = cli("audit", "--logs", str(parquet), "--fail-over-tokens", "20")
    assert proc.returncode == 3 and "over --fail-over-tokens 20" in proc.err
    assert "Summarize the following review in one sentence. Review: {*}" in proc.out and "cap is the lever" in proc.out
    assert render(data, "csv", 0).startswith("template,calls,calls_per_day")
    assert "promptslim log audit" in render(data, "md", 3) and "<table" in render(data, "html", 0)
    (tmp_path / "p.txt").write_text("hello")
    bad_input = (
        ("--logs", str(tmp_path / "p.txt")),
        ("--dask", "local:x", str(jsonl)),
        ("--calls-per-day", "5", str(jsonl)),  # the log says how many
        ("--level", "aggressive", str(jsonl)),  # the rules level is for prompt corpora
    )
    for bad in bad_input:
        proc = cli("audit", *bad)
        assert proc.returncode == 2 and len(proc.err.strip().splitlines()) == 1, proc.err


@pytest.mark.parametrize("learn", [0, 5])
def test_templates_first_seen_late_are_learned_after_the_merge(small_logs, monkeypatch, learn):
    """With few or no records to learn from, every call is a leftover: the merge still finds the
    five templates, whatever the partitioning."""
    monkeypatch.setattr(logs, "LEARN_RECORDS", learn)
    reports = [audit_logs([small_logs[0]], workers=1, part_bytes=size).to_dict() for size in (10**9, 7_000)]
    assert reports[0] == reports[1]
    assert sorted(t["calls"] for t in reports[0]["templates"]) == [200] * 5


def test_a_shared_system_prompt_does_not_join_different_user_templates(tmp_path):
    rng = random.Random(3)
    words = "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega".split()

    def fill(low: int, high: int) -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(low, high)))

    users = (
        lambda: f"Translate this sentence into German, keeping names as they are: {fill(3, 20)}",
        lambda: f"Summarize the text below in three bullet points.\n\n{fill(20, 80)}",
        lambda: f"What is the capital of {rng.choice(words).title()}? Answer with one word.",
    )
    with open(tmp_path / "l.jsonl", "w") as out:
        for i in range(300):
            messages = [{"role": "system", "content": "You are a helpful assistant."}]
            messages.append({"role": "user", "content": users[i % 3]()})
            usage = {"prompt_tokens": 40, "completion_tokens": 5}
            out.write(json.dumps({"messages": messages, "usage": usage}) + "\n")
    report = audit_logs([tmp_path / "l.jsonl"], workers=1)
    assert [t.calls for t in report.templates] == [100] * 3
    assert "user: What is the capital of {*}? Answer with one word." in [
        t.template.text.split("\n\n", 1)[1] for t in report.templates
    ]
