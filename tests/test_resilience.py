"""`promptslim optimize` against a real `python -m llama_cpp.server` when things go wrong:
faults on the wire, a dead endpoint, kill -9 mid-run, two runs sharing one cache, and an API
key that must end up nowhere. Tested through the CLI and the cache file only, so they hold
whatever the search does. The spec is tiny (6 cases, 3 output tokens, 2 candidates)."""

import json
import random
import re
import secrets
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from endpoints import FAULTS, FaultProxy
from tiny_task import calls_in, optimize, optimize_command, optimize_env, outcome, tiny_spec

pytestmark = pytest.mark.slow


@pytest.fixture
def spec(tmp_path) -> Path:
    return tiny_spec(tmp_path / "task")


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.fixture(scope="module")
def reference(llama_server, tmp_path_factory):
    """An uninterrupted, fault-free run of the tiny task: what every other run must decide."""
    folder = tmp_path_factory.mktemp("reference")
    proc = optimize(tiny_spec(folder), llama_server, folder / "cache")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    return {"outcome": outcome(proc.stdout), "calls": report["spend"]["model_calls"]}


def test_concurrent_optimize_through_every_fault_matches_a_clean_run(llama_server, spec, tmp_path, reference):
    plan = {2 + 2 * i: fault for i, fault in enumerate(FAULTS)}  # every kind once, between clean requests
    with FaultProxy(llama_server, plan, stall_s=9.0, slow_s=0.5) as proxy:
        proc = optimize(
            spec, proxy.url, tmp_path / "cache", "--concurrency", "4",
            env={"PROMPTSLIM_TIMEOUT_S": "8", "PROMPTSLIM_RETRIES": "6"},
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert sorted(proxy.faults) == sorted(FAULTS)
    assert outcome(proc.stdout) == reference["outcome"]  # the same winner and scores
    retries = len(FAULTS) - 1  # one for each fault but the slow answer; with 4 calls in flight one call may meet two
    assert re.search(rf"note: \d+ calls were retried \({retries} retries\) after endpoint errors", proc.stderr)


def test_a_dead_endpoint_fails_in_bounded_time_and_a_rerun_resumes_from_the_cache(llama_server, spec, tmp_path):
    cache = tmp_path / "cache"
    with FaultProxy(llama_server, {9: "die"}) as proxy:
        port = int(proxy.url.rsplit(":", 1)[1].split("/")[0])
        started = time.monotonic()
        dead = optimize(spec, proxy.url, cache, env={"PROMPTSLIM_RETRIES": "2"})
        elapsed = time.monotonic() - started
    assert dead.returncode == 1, dead.stderr
    assert dead.stderr.strip().splitlines()[-1] == f"promptslim: error: cannot reach {proxy.url} after 3 tries: " + (
        "is the server running? check --base-url"
    )
    assert elapsed < 60 and "Traceback" not in dead.stderr
    done = calls_in(cache / "calls.sqlite3")
    assert done == 8  # every call that was answered is kept
    with FaultProxy(llama_server, port=port) as back:  # the endpoint is back, at the same address
        resumed = optimize(spec, back.url, cache)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["spend"]["cached_calls"] >= done


def test_kill_9_at_five_seeded_points_then_a_rerun_finishes_as_if_uninterrupted(
    llama_server, spec, tmp_path, reference
):
    points = sorted(random.Random(12).sample(range(1, reference["calls"]), 5))
    for point in points:
        cache = tmp_path / f"cache-{point}"
        db = cache / "calls.sqlite3"
        proc = subprocess.Popen(
            optimize_command(spec, llama_server),
            env=optimize_env(cache),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while calls_in(db) < point and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert integrity(db) == "ok", point
        assert calls_in(db) >= point
        rerun = optimize(spec, llama_server, cache)
        assert rerun.returncode == 0, rerun.stderr
        assert outcome(rerun.stdout) == reference["outcome"], point
        assert integrity(db) == "ok"


def test_two_optimize_runs_share_one_cache_at_once(llama_server, spec, tmp_path, reference):
    cache = tmp_path / "cache"
    command, env = optimize_command(spec, llama_server), optimize_env(cache)
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"]
    results = [run.communicate(timeout=600) for run in runs]
    for run, (out, err) in zip(runs, results):
        assert run.returncode == 0, err
        assert "locked" not in err
        assert outcome(out) == reference["outcome"]
    assert calls_in(cache / "calls.sqlite3") == reference["calls"]  # every distinct call, once
    again = optimize(spec, llama_server, cache)
    assert json.loads(again.stdout)["spend"]["model_calls"] == 0  # none was lost


def test_the_api_key_appears_in_no_artifact(llama_server, spec, tmp_path):
    canary = "sk-canary-" + secrets.token_hex(16)
    env = {"OPENAI_API_KEY": canary}
    out = tmp_path / "out"
    runs = [
        optimize(spec, llama_server, tmp_path / "cache", "--out", str(out), env=env),
        optimize(spec, llama_server, tmp_path / "cache", "--debug", env=env),
        optimize(spec, "http://127.0.0.1:9/v1", tmp_path / "cache", "--debug", env={**env, "PROMPTSLIM_RETRIES": "0"}),
        optimize(spec, llama_server, tmp_path / "cache", "--model", "no-such-model", "--debug", env=env),
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    assert "Traceback" in runs[2].stderr  # --debug showed the traceback, and it is searched too
    texts = [r.stdout for r in runs] + [r.stderr for r in runs]
    assert not [t for t in texts if canary in t]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"calls.sqlite3", "report.json", "report.md", "report.html"}
    assert [p for p in written if canary.encode() in p.read_bytes()] == []
