"""The OpenAI-compatible backend against a real llama.cpp server, and its retry policy."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from promptslim.errors import RuntimeFailure
from promptslim.prompt import Prompt
from promptslim.runtime import CallOptions
from promptslim.runtime.openai_compat import OpenAIBackend


@pytest.mark.slow
def test_completion_and_chat_against_a_real_llama_cpp_server(llama_server, local_backend):
    backend = OpenAIBackend("smollm2", base_url=llama_server)
    prompt = Prompt("Country: France\nCapital: Paris\n\nCountry: Italy\nCapital:")
    completion = backend.complete(prompt, CallOptions(max_tokens=4, stop=("\n",)))
    assert "Rome" in completion.text
    assert completion.prompt_tokens == local_backend.count_tokens(prompt)
    # the same model in-process gives the same greedy answer
    assert completion.text == local_backend.complete(prompt, CallOptions(max_tokens=4, stop=("\n",))).text
    chat = backend.complete(Prompt("Say hello."), CallOptions(mode="chat", max_tokens=8))
    assert chat.text and 0 < chat.completion_tokens <= 8
    assert chat.energy_j > 0 and chat.energy_method in {"token-estimate", "rapl", "rapl+nvml"}


@pytest.mark.slow
def test_cli_run_through_the_server(cli, llama_server):
    proc = cli(
        "run", "-", "--base-url", llama_server, "--model", "smollm2", "--max-tokens", "3", "--json", stdin=b"One, two,"
    )
    assert proc.returncode == 0, proc.err
    assert json.loads(proc.out)["completion_tokens"] >= 1


class Flaky(BaseHTTPRequestHandler):
    """Answers 429 (with Retry-After) and 503, then a valid completion."""

    script = []
    calls = 0

    def do_POST(self):
        type(self).calls += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status = self.script.pop(0) if self.script else 200
        body = (
            {"error": {"message": "busy"}}
            if status != 200
            else {
                "id": "x",
                "object": "text_completion",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "text": " ok", "finish_reason": "stop", "logprobs": None}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
            }
        )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Flaky.calls = 0
    yield server, f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_retries_429_and_5xx_then_succeeds(flaky_server):
    _, url = flaky_server
    Flaky.script = [429, 503]
    backend = OpenAIBackend("m", base_url=url, max_retries=3)
    completion = backend.complete(Prompt("hi"), CallOptions(max_tokens=2))
    assert completion.text == " ok" and Flaky.calls == 3
    assert (completion.prompt_tokens, completion.completion_tokens) == (5, 1)


def test_retries_are_bounded(flaky_server):
    _, url = flaky_server
    Flaky.script = [503] * 10
    backend = OpenAIBackend("m", base_url=url, max_retries=2)
    with pytest.raises(RuntimeFailure, match="503"):
        backend.complete(Prompt("hi"), CallOptions(max_tokens=2))
    assert Flaky.calls == 3


@pytest.mark.slow
def test_optimize_through_the_server_with_concurrent_calls(cli, llama_server, tmp_path):
    from conftest import ROOT

    spec = ROOT / "tests" / "data" / "tiny-sentiment.yaml"
    proc = cli(
        "optimize",
        str(spec),
        "--base-url",
        llama_server,
        "--model",
        "smollm2",
        "--concurrency",
        "3",
        "--max-candidates",
        "2",
        "--json",
        env={"PROMPTSLIM_CACHE_DIR": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.err
    report = json.loads(proc.out)
    assert report["baseline"]["calls"] == 12 and report["spend"]["model_calls"] >= 12
    assert report["model"] == "smollm2"
