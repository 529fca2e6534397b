"""The endpoint pool against real `python -m llama_cpp.server` processes: one is killed in the
middle of an optimize run, which must finish and decide exactly as a run on one endpoint; a
server with another model is refused before any call."""

import json
import signal
import subprocess
import time

import pytest
from conftest import serve_model
from tiny_task import calls_in, optimize, optimize_command, optimize_env, outcome, tiny_spec

pytestmark = pytest.mark.slow
KILL_AFTER = 6  # calls answered (of 18) before the second server is killed


def test_optimize_survives_a_server_killed_mid_run_and_decides_as_one_endpoint(llama_server, model_path, tmp_path):
    spec = tiny_spec(tmp_path / "task")
    alone = optimize(spec, llama_server, tmp_path / "alone")
    assert alone.returncode == 0, alone.stderr
    cache = tmp_path / "pooled"
    with serve_model(model_path, tmp_path / "doomed.log") as doomed:
        command = optimize_command(spec, llama_server, "--base-url", doomed.url, "--concurrency", "2")
        env = optimize_env(cache, {"PROMPTSLIM_RETRIES": "1"})
        run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while calls_in(cache / "calls.sqlite3") < KILL_AFTER and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        out, err = run.communicate(timeout=600)
    assert run.returncode == 0, err
    assert outcome(out) == outcome(alone.stdout)  # the same winner, scores and answers
    survivor, dead = json.loads(out)["endpoints"]
    assert (survivor["url"], dead["url"]) == (llama_server, doomed.url)
    assert survivor["dropped_after_s"] is None and dead["dropped_after_s"] is not None
    assert dead["error"].startswith(f"cannot reach {doomed.url}")
    assert dead["calls"] >= 1 and survivor["calls"] + dead["calls"] == json.loads(out)["spend"]["model_calls"]
    assert survivor["failed"] == dead["failed"] == 0


def test_a_server_with_another_model_is_refused_by_name(cli, llama_server, model_path, tmp_path):
    with serve_model(model_path, tmp_path / "other.log", alias="other") as other:
        proc = cli("run", "-", "-m", "smollm2", "--base-url", llama_server, "--base-url", other.url, stdin=b"Hi")
    assert proc.returncode == 2, proc.err
    assert proc.err.startswith(f"promptslim: error: --base-url {other.url} serves models ['other'], but {llama_server}")
