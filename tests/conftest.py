"""Shared fixtures: the real embedded model, a real llama.cpp server, CLI runners."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ROOT / "prompts"
SHARED_CACHE = ROOT.parent / "shared" / "tiktoken-cache"
if "TIKTOKEN_CACHE_DIR" not in os.environ and SHARED_CACHE.is_dir():
    os.environ["TIKTOKEN_CACHE_DIR"] = str(SHARED_CACHE)


@pytest.fixture(scope="session")
def local_backend():
    from promptslim.runtime.llama import LlamaBackend

    return LlamaBackend()


@pytest.fixture(scope="session")
def model_path():
    from promptslim.runtime.llama import embedded_model_path

    return embedded_model_path()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_model(model_path, log: Path, alias: str = "smollm2") -> Iterator[subprocess.Popen]:
    """A real `python -m llama_cpp.server` on 127.0.0.1 (one thread, no OpenMP spinning on a
    shared machine), up and listing its model; the process's `url` is its OpenAI base URL."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--n_ctx", "2048", "--model_alias", alias, "--seed", "0", "--n_threads", "1"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        )
    proc.url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(proc.url + "/models", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("llama.cpp server did not start:\n" + log.read_text()[-2000:]) from None
                time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def llama_server(model_path, tmp_path_factory):
    """A real `python -m llama_cpp.server` on 127.0.0.1 with the embedded model: its base URL."""
    with serve_model(model_path, tmp_path_factory.mktemp("server") / "server.log") as server:
        yield server.url


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None, env: dict | None = None):
    """Run the real console entry point in a subprocess; returns CompletedProcess (text)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "promptslim", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=full_env,
        timeout=600,
    )


@pytest.fixture
def cli():
    def call(*args, **kwargs):
        proc = run_cli(*args, **kwargs)
        proc.out = proc.stdout.decode("utf-8", "replace")
        proc.err = proc.stderr.decode("utf-8", "replace")
        return proc

    return call
