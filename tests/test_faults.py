"""Endpoint faults: every kind is retried and counted; a dead endpoint ends the run in bounded
time. Fast tests use the proxy's canned answers; slow ones put it in front of a real
`python -m llama_cpp.server` and run `promptslim optimize` through it."""

import json
import time

import pytest
from endpoints import FAULTS, FaultProxy, closed_port

from promptslim.errors import BackendUnavailable, InputError, RuntimeFailure
from promptslim.prompt import Prompt
from promptslim.runtime import CallOptions, openai_compat
from promptslim.runtime.openai_compat import OpenAIBackend, public_url


@pytest.fixture
def quick_backoff(monkeypatch):
    monkeypatch.setattr(openai_compat, "FIRST_BACKOFF_S", 0.01)


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_is_retried_and_counted(quick_backoff, fault):
    with FaultProxy(plan={1: fault}, stall_s=1.0, slow_s=0.05) as proxy:
        backend = OpenAIBackend("fake", base_url=proxy.url, timeout=0.5, max_retries=2)
        started = time.monotonic()
        for mode in ("completion", "chat"):
            completion = backend.complete(Prompt("Review: great\nSentiment:"), CallOptions(mode=mode, max_tokens=2))
            assert completion.text.strip() == "positive"
    if fault == "429":
        assert time.monotonic() - started >= 0.9  # as long as Retry-After: 1 asks
    retried = fault != "slow"  # a slow answer is still an answer
    assert (backend.retried_calls, backend.retries) == ((1, 1) if retried else (0, 0))
    assert len(proxy.requests) == 2 + retried


def test_retries_are_bounded_and_the_failure_says_how_many(quick_backoff):
    with FaultProxy(plan=lambda n: "503") as proxy:
        backend = OpenAIBackend("fake", base_url=proxy.url, max_retries=3)
        with pytest.raises(RuntimeFailure, match=r"failed with HTTP 503 after 4 tries: .*injected 503"):
            backend.complete(Prompt("hi"), CallOptions(max_tokens=2))
        assert len(proxy.requests) == 4 and backend.retries == 3


def test_a_dead_endpoint_ends_the_run_at_once_for_every_later_call(quick_backoff):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    backend = OpenAIBackend("m", base_url=url, max_retries=2)
    with pytest.raises(BackendUnavailable, match=f"cannot reach {url} after 3 tries"):
        backend.complete(Prompt("hi"), CallOptions(max_tokens=2))
    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        backend.complete(Prompt("hi"), CallOptions(max_tokens=2))
    assert time.monotonic() - started < 0.1


def test_a_refused_key_ends_the_run_and_is_never_echoed(quick_backoff):
    canary = "sk-canary-0123456789abcdef"

    class Refusing(FaultProxy):
        def _handle(self, handler, body):
            from endpoints import _send

            message = {"error": {"message": f"Incorrect API key provided: {canary}"}}
            _send(handler, 401, json.dumps(message).encode())

    with Refusing() as proxy:
        backend = OpenAIBackend("m", base_url=proxy.url, api_key=canary)
        with pytest.raises(BackendUnavailable) as refused:
            backend.complete(Prompt("hi"), CallOptions(max_tokens=2))
    assert refused.value.exit_code == 2 and canary not in str(refused.value)


def test_credentials_in_the_url_are_never_shown_or_cached():
    backend = OpenAIBackend("m", base_url="http://user:s3cret@127.0.0.1:9/v1?api-key=k3y")
    assert backend.identity == "endpoint:http://127.0.0.1:9/v1#m"
    assert public_url("https://[::1]:8080/v1/") == "https://[::1]:8080/v1/"


@pytest.mark.parametrize(
    "name, value",
    [
        ("PROMPTSLIM_TIMEOUT_S", "0"),
        ("PROMPTSLIM_TIMEOUT_S", "inf"),
        ("PROMPTSLIM_RETRIES", "-1"),
        ("PROMPTSLIM_RETRIES", "x"),
    ],
)
def test_bad_timeout_and_retry_settings_are_input_errors(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(InputError, match=name):
        OpenAIBackend("m", base_url="http://127.0.0.1:9/v1")
