"""`promptslim run` and `count` end to end on the real embedded model, and every bad input."""

import json
import socket
import sys

import pytest
from conftest import PROMPTS

import promptslim

pytestmark = pytest.mark.slow
RUN_KEYS = {
    "cold",
    "text",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "wall_s",
    "cpu_s",
    "energy_j",
    "energy_method",
    "co2_g",
    "cost_usd",
}
EXAMPLE = str(PROMPTS / "capital-city.txt")


def test_run_json_has_every_key(cli):
    proc = cli(
        "run", EXAMPLE, "--var", "country=Italy", "--max-tokens", "4", "--stop", "\\n", "--target", "gpt-4o", "--json"
    )
    assert proc.returncode == 0, proc.err
    result = json.loads(proc.out)
    assert set(result) == RUN_KEYS
    assert "Rome" in result["text"]
    assert result["energy_method"] in {"rapl", "nvml", "rapl+nvml", "cpu-estimate"}
    assert result["energy_j"] > 0 and result["co2_g"] > 0 and result["cost_usd"] > 0
    assert 1 <= result["completion_tokens"] <= 4


def test_run_plain_prints_output_then_summary_on_stderr(cli):
    proc = cli("run", "-", "--max-tokens", "3", stdin=b"The capital of France is")
    assert proc.returncode == 0
    assert proc.out.strip() and "J (" in proc.err and "output tokens" in proc.err


def test_count_agrees_with_model_and_tiktoken(cli, local_backend):
    import tiktoken

    proc = cli("count", EXAMPLE, "-t", "gpt-4o", "-t", "gpt-4", "-t", "local", "--json")
    counts = json.loads(proc.out)["tokens"]
    text = (PROMPTS / "capital-city.txt").read_text()[:-1]
    assert counts["gpt-4o"] == len(tiktoken.encoding_for_model("gpt-4o").encode(text))
    assert counts["gpt-4"] == len(tiktoken.encoding_for_model("gpt-4").encode(text))
    assert counts["local"] == len(local_backend.tokenize(text))


def test_a_file_of_chat_messages_runs_counts_and_compresses_as_chat(cli, tmp_path, local_backend):
    messages = [
        {"role": "system", "content": "You are a very helpful assistant. Please answer in one word."},
        {"role": "user", "content": "Hi! Could you please name the capital of {{country}}?"},
    ]
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(messages), encoding="utf-8")
    ran = cli("run", str(path), "--var", "country=France", "--max-tokens", "4", "--json")
    assert ran.returncode == 0, ran.err
    rendered = promptslim.Prompt.of(messages).render({"country": "France"})
    assert json.loads(ran.out)["prompt_tokens"] == local_backend.count_tokens(rendered, "chat")  # the chat template
    counted = json.loads(cli("count", str(path), "-t", "gpt-4o", "--json").out)["tokens"]["gpt-4o"]
    assert counted == promptslim.count_tokens(messages, "gpt-4o", mode="chat")
    compressed = cli("compress", str(path), "--method", "rules")
    assert compressed.returncode == 0, compressed.err
    assert json.loads(compressed.out) == [
        {"role": "system", "content": "You are a very helpful assistant. Answer in one word."},
        {"role": "user", "content": "Could you please name the capital of {{country}}?"},
    ]
    assert cli("count", str(path), "--mode", "completion").returncode == 2


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "args, stdin, code, needle",
    [
        (["run", "missing.txt"], None, 2, "no such file"),
        (["run", "-"], b"   ", 2, "empty"),
        (["run", "-"], b"\xc3\x28 bad", 2, "UTF-8"),
        (["run", EXAMPLE], None, 2, "'country'"),
        (["run", "-", "--model", "/no/such/model.gguf"], b"hi", 2, "no such GGUF"),
        (["run", "-", "--model", EXAMPLE], b"hi", 2, "not a GGUF"),
        (["count", "-", "--target", "gpt-17"], b"hi", 2, "unknown target"),
        (["run", "-", "--target", "gpt-17"], b"hi", 2, "unknown target"),
        (["run", "-", "--region", "Narnia"], b"hi", 2, "unknown region"),
        (["run", "-", "--mode", "poem"], b"hi", 2, "unknown mode"),
        (["run", "-", "--max-tokens", "0"], b"hi", 2, "max-tokens"),
        (["run", "-", "--var", "novalue"], b"hi", 2, "NAME=VALUE"),
    ],
)
def test_bad_input_is_one_line_with_exit_code(cli, args, stdin, code, needle):
    proc = cli(*args, stdin=stdin)
    assert proc.returncode == code, proc.err
    assert needle in proc.err
    assert "Traceback" not in proc.err


def test_unreachable_base_url_is_a_runtime_error(cli):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    proc = cli("run", "-", "--base-url", url, "--model", "any", stdin=b"hi")
    assert proc.returncode == 1
    assert url in proc.err and "Traceback" not in proc.err
    assert len(proc.err.strip().splitlines()) == 1


def test_prompt_longer_than_context_names_both_numbers(cli):
    proc = cli("run", "-", stdin=("lorem ipsum dolor " * 4000).encode())
    assert proc.returncode == 2
    assert "8192" in proc.err and "tokens but the model's context is" in proc.err


def test_debug_shows_the_traceback(cli):
    proc = cli("run", "missing.txt", "--debug")
    assert proc.returncode != 0 and "Traceback" in proc.err


GUARD = r"""
import socket, sys
def guard(event, args):
    if event == "socket.connect":
        addr = args[1]
        if isinstance(addr, tuple) and addr[0] not in ("127.0.0.1", "::1", "localhost"):
            raise RuntimeError(f"network call to {addr}")
    if event == "socket.getaddrinfo" and args[0] not in ("127.0.0.1", "::1", "localhost", None):
        raise RuntimeError(f"name lookup of {args[0]}")
sys.addaudithook(guard)
from promptslim_cli.app import main
main(sys.argv[1:])
"""


def test_default_run_makes_no_network_call_and_writes_no_file(tmp_path):
    import subprocess

    prompt = tmp_path / "p.txt"
    prompt.write_text("The sky is")
    before = set(tmp_path.iterdir())
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            GUARD,
            "run",
            str(prompt),
            "--max-tokens",
            "3",
            "--target",
            "gpt-4o",
            "--region",
            "DE",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["co2_g"] > 0
    assert set(tmp_path.iterdir()) == before  # no emissions.csv or anything else


def test_emissions_csv_only_when_asked(cli, tmp_path):
    out = tmp_path / "emissions.csv"
    proc = cli(
        "run", "-", "--max-tokens", "3", "--region", "FR", "--emissions-csv", str(out), stdin=b"Hello", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.err
    assert out.is_file() and "emissions" in out.read_text().splitlines()[0]
