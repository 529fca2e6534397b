"""`promptslim optimize` end to end on the embedded model: outputs, cache, crash-resume, bad input."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

TINY = ROOT / "tests" / "data" / "tiny-sentiment.yaml"
FAST = ["--max-candidates", "3"]


@pytest.fixture
def cache_env(tmp_path):
    return {"PROMPTSLIM_CACHE_DIR": str(tmp_path / "cache")}


@pytest.mark.slow
def test_optimize_writes_all_four_outputs_and_reuses_the_cache(cli, tmp_path, cache_env):
    out = tmp_path / "out"
    first = cli("optimize", str(TINY), "--out", str(out), "--json", *FAST, env=cache_env)
    assert first.returncode == 0, first.err
    report = json.loads(first.out)
    for key in ("baseline", "best", "frontier", "variants", "spend", "savings"):
        assert key in report
    shape = set(report["baseline"])
    assert {
        "description",
        "prompt",
        "max_tokens",
        "score",
        "score_ci",
        "prompt_tokens",
        "completion_tokens",
        "energy_j",
        "energy_method",
        "co2_g",
        "cost_usd",
        "calls",
    } <= shape
    assert all(set(v) == shape for v in [report["best"], *report["frontier"], *report["variants"]])
    assert report["baseline"]["calls"] == 12 and report["spend"]["model_calls"] > 0
    fit, base = report["energy_fit"], report["baseline"]
    assert report["savings"]["energy_basis"] == "fit" and fit["calls"] >= 30  # the baseline and the candidates' calls
    assert base["energy_fit_j"] == pytest.approx(
        fit["j_per_input_token"] * base["model_prompt_tokens"]
        + fit["j_per_output_token"] * base["generated_tokens"]
        + fit["j_per_call"]
    )
    assert "fit over the run's" in (out / "report.md").read_text()
    files = sorted(p.name for p in out.iterdir())
    assert files == ["report.html", "report.json", "report.md", "tiny-sentiment.optimized.yaml"]
    from promptslim.spec import load_spec

    winner = load_spec(out / "tiny-sentiment.optimized.yaml")  # a valid spec whose cases still resolve
    assert winner.max_tokens == report["best"]["max_tokens"] and len(winner.cases) == 12
    assert TINY.read_text().startswith("name: tiny-sentiment")  # the source is untouched

    again = json.loads(cli("optimize", str(TINY), "--json", *FAST, env=cache_env).out)
    assert again["spend"]["model_calls"] == 0
    assert again["spend"]["cached_calls"] == report["spend"]["model_calls"] + report["spend"]["cached_calls"]
    assert again["best"]["prompt"] == report["best"]["prompt"]


def calls_in(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_killed_run_resumes_without_redoing_finished_calls(cli, tmp_path, cache_env):
    db = Path(cache_env["PROMPTSLIM_CACHE_DIR"]) / "calls.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptslim", "optimize", str(TINY), "--json", *FAST],
        env={**os.environ, **cache_env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while calls_in(db) < 8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = calls_in(db)
    assert done >= 8
    resumed = json.loads(cli("optimize", str(TINY), "--json", *FAST, env=cache_env).out)
    assert resumed["spend"]["cached_calls"] >= done  # nothing finished was redone
    fresh = json.loads(cli("optimize", str(TINY), "--json", *FAST, "--no-cache", env=cache_env).out)
    assert fresh["best"]["prompt"] == resumed["best"]["prompt"]
    assert fresh["best"]["score"] == resumed["best"]["score"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow
def test_report_of_a_real_run_renders_without_running_planted_scripts(cli, tmp_path, cache_env):
    from test_report import Dom, chromium

    spec = tmp_path / "spec.yaml"
    planted = "<script>document.title='PWNED'</script>"
    spec.write_text(
        TINY.read_text().replace("Hello!", f"Hello! {planted}").replace("tiny-sentiment.cases.jsonl", "cases.jsonl")
    )
    cases = (
        (TINY.parent / "tiny-sentiment.cases.jsonl")
        .read_text()
        .replace("Wonderful service", f"Wonderful {planted} service")
    )
    (tmp_path / "cases.jsonl").write_text(cases)
    out = tmp_path / "out"
    proc = cli("optimize", str(spec), "--out", str(out), *FAST, env=cache_env)
    assert proc.returncode == 0, proc.err
    page = (out / "report.html").read_text()
    assert planted not in page
    browser = chromium(tmp_path, "--dump-dom", (out / "report.html").as_uri())
    dom = Dom(browser.stdout)
    assert "PWNED" not in (dom.title or "")
    assert not [tag for tag, _, _ in dom.elements if tag == "script"]
    assert dom.inside("pareto", "circle")


@pytest.mark.parametrize(
    "edit, needle",
    [
        (("scorer: label", "scorer: vibes"), "unknown scorer"),
        (("objective: tokens", "objective: speed"), "not an objective"),
        (("cases: tiny-sentiment.cases.jsonl", "cases: nope.jsonl"), "no such cases file"),
        (("labels: [positive, negative]\n", ""), "labels"),
        (("max_drop: 0.25", "max_drop: 2"), "max_drop"),
        (("confidence: 0.8", "confidence: 0"), "confidence"),
    ],
)
def test_bad_specs_exit_2_with_one_line(cli, tmp_path, edit, needle):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY.read_text().replace(*edit))
    shutil.copy(TINY.parent / "tiny-sentiment.cases.jsonl", tmp_path)  # cases are read from the spec's folder
    proc = cli("optimize", str(spec))
    assert proc.returncode == 2, proc.err
    assert needle in proc.err and "Traceback" not in proc.err and len(proc.err.strip().splitlines()) == 1


def test_empty_and_broken_cases_exit_2(cli, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY.read_text().replace("tiny-sentiment.cases.jsonl", "cases.jsonl"))
    (tmp_path / "cases.jsonl").write_text("")
    assert "no cases" in cli("optimize", str(spec)).err
    (tmp_path / "cases.jsonl").write_text('{"vars": {"review": "x"}, "expected": "positive"}\n{oops\n')
    proc = cli("optimize", str(spec))
    assert proc.returncode == 2 and "cases.jsonl:2" in proc.err


def test_failing_calls_score_zero_and_never_crash(tmp_path):
    from promptslim.evaluate import Candidate, Evaluator
    from promptslim.generators.base import Variant
    from promptslim.spec import load_spec

    class Down:
        name = identity = "down"

        def complete(self, prompt, options):
            from promptslim.errors import RuntimeFailure

            raise RuntimeFailure("cannot reach http://127.0.0.1:9/v1: is the server running?")

    spec = load_spec(TINY)
    evaluator = Evaluator(spec, Down(), cache=None)
    results = evaluator.run(Candidate("b", Variant(spec.prompt, "b"), 8), spec.cases[:3])
    assert [r.score for r in results] == [0.0, 0.0, 0.0]
    assert all("cannot reach" in r.error for r in results)
