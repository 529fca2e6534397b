"""The endpoint pool on canned loopback endpoints: spreading calls, dropping a dead endpoint,
refusing endpoints that serve different models, and what the report shows of each endpoint."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from endpoints import FaultProxy, canned, closed_port

from promptslim.errors import BackendUnavailable, InputError
from promptslim.prompt import Prompt
from promptslim.report import to_html, to_markdown
from promptslim.runtime import CallOptions, open_backend
from promptslim.runtime.openai_compat import OpenAIBackend
from promptslim.runtime.pool import EndpointPool, EndpointStats

OPTIONS = CallOptions(max_tokens=2)


def pool_of(*urls: str, concurrency: int = 2, retries: int = 0) -> EndpointPool:
    backends = [OpenAIBackend("m", base_url=url, max_retries=retries) for url in urls]
    return EndpointPool(backends, concurrency=concurrency)


def run_calls(pool: EndpointPool, n: int, workers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=workers) as threads:
        return list(threads.map(lambda i: pool.complete(Prompt(f"call {i}"), OPTIONS).text, range(n)))


def test_calls_spread_over_the_endpoints_within_each_ones_concurrency():
    with FaultProxy() as a, FaultProxy() as b:
        pool = pool_of(a.url, b.url, concurrency=2)
        busiest = []
        take = pool._take

        def watched_take():  # the most calls any one endpoint has in flight, seen as each is handed out
            endpoint = take()
            busiest.append(max(e.busy for e in pool._endpoints))
            return endpoint

        pool._take = watched_take
        assert run_calls(pool, 12, workers=6) == [" positive"] * 12
    first, second = pool.stats()
    assert first.calls + second.calls == 12 and first.calls >= 3 and second.calls >= 3
    assert max(busiest) <= 2  # six callers, but never more than two calls at once on one endpoint
    assert first.dropped_after_s is None and second.error is None and first.calls_per_s > 0


def dies_at(number: int):
    """A plan that resets request `number` and every later one (kept-alive connections die too)."""
    return lambda n: "die" if n >= number else None


def test_an_endpoint_that_dies_is_dropped_and_its_calls_answered_elsewhere():
    with FaultProxy() as a, FaultProxy(plan=dies_at(3)) as b:
        pool = pool_of(a.url, b.url)
        assert run_calls(pool, 12, workers=4) == [" positive"] * 12
    live, dead = pool.stats()
    assert live.calls + dead.calls == 12 and dead.calls >= 2  # answered before it died
    assert live.error is None and dead.dropped_after_s is not None
    assert dead.error.startswith(f"cannot reach {b.url}")


def test_when_every_endpoint_is_gone_the_run_ends():
    pool = pool_of(*(f"http://127.0.0.1:{closed_port()}/v1" for _ in "ab"))
    with pytest.raises(BackendUnavailable, match=r"^all 2 endpoints are gone; the last: cannot reach"):
        pool.complete(Prompt("hi"), OPTIONS)


def test_a_failed_call_on_a_live_endpoint_fails_as_on_one_endpoint():
    with FaultProxy(plan={1: "500"}) as a:
        pool = pool_of(a.url)
        with pytest.raises(Exception, match="HTTP 500"):
            pool.complete(Prompt("hi"), OPTIONS)
    assert pool.stats()[0].failed == 1 and pool.stats()[0].error is None


def odd_answer(body: dict) -> dict:
    answer = canned(body)
    answer["choices"][0]["message"]["content"] = "four, five"
    return answer


def test_the_start_up_check_names_the_endpoint_serving_another_model():
    with FaultProxy() as a, FaultProxy(models=("other",)) as b, FaultProxy() as c:
        with pytest.raises(InputError, match=rf"^--base-url {b.url} serves models \['other'\], but {a.url} "):
            open_backend("m", base_url=[a.url, b.url, c.url])
        with pytest.raises(InputError, match=rf"^--base-url {b.url} serves"):  # the majority, not the first, decides
            open_backend("m", base_url=[b.url, a.url, c.url])
    with FaultProxy() as a, FaultProxy(reply=odd_answer) as b:
        with pytest.raises(InputError, match=rf"^--base-url {b.url} answers the probe at temperature 0 with 'four"):
            open_backend("m", base_url=[a.url, b.url])


def test_endpoints_that_refuse_chat_are_probed_with_a_completion():
    refuse_chat = {2: "400"}  # a base model without a chat template: the chat probe is refused
    with FaultProxy(plan=refuse_chat) as a, FaultProxy(plan=refuse_chat) as b:
        assert open_backend("m", base_url=[a.url, b.url]).backends[1].base_url == b.url
        assert [path for _, path, _ in a.requests][-2:] == ["/v1/chat/completions", "/v1/completions"]
    with FaultProxy() as a, FaultProxy(plan=refuse_chat) as b:
        with pytest.raises(InputError, match=rf"^--base-url {b.url} answers the probe .* '\(completion\)  positive'"):
            open_backend("m", base_url=[a.url, b.url])


def test_a_pool_is_cached_as_its_first_endpoint_and_read_from_the_environment(monkeypatch):
    with FaultProxy() as a, FaultProxy() as b:
        monkeypatch.setenv("PROMPTSLIM_ENDPOINTS", f"{a.url}, {b.url}")
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # PROMPTSLIM_ENDPOINTS comes first
        pool = open_backend("m", concurrency=3)
        assert isinstance(pool, EndpointPool) and pool.concurrency == 3
        assert pool.identity == OpenAIBackend("m", base_url=a.url).identity
        assert [p[1] for p in a.requests] == ["/v1/models", "/v1/chat/completions"]  # the check: ids, then probe
        with pytest.raises(InputError, match="is given twice"):
            open_backend("m", base_url=[a.url, a.url + "/"])
    assert isinstance(open_backend("m", base_url=a.url), OpenAIBackend)  # one URL: as before, no check


def test_the_cli_refuses_an_odd_endpoint_with_exit_2(cli):
    with FaultProxy() as a, FaultProxy(models=("other",)) as b:
        proc = cli("run", "-", "-m", "m", "--base-url", a.url, "--base-url", b.url, stdin=b"hi")
    assert proc.returncode == 2, proc.err
    assert proc.err.startswith(f"promptslim: error: --base-url {b.url} serves models ['other']")
    assert len(proc.err.strip().splitlines()) == 1


def test_reports_show_calls_and_throughput_per_endpoint():
    live = EndpointStats("http://a/v1", 30, 0, 90, 20.0, 10.0, 3.0, 9.0)
    dead = EndpointStats("http://b/v1", 4, 1, 12, 5.0, 2.5, 1.6, 4.8, 2.5, "cannot reach http://b/v1")
    report = {"name": "t", "endpoints": [vars(live), vars(dead)]}
    markdown = to_markdown(report)
    assert "| http://a/v1 | 30 | 0 | 3 | 9 | live |" in markdown
    assert "| http://b/v1 | 4 | 1 | 1.6 | 4.8 | dropped after 2.5 s: cannot reach http://b/v1 |" in markdown
    page = to_html(report)
    assert '<table id="endpoints">' in page and "<td>dropped after 2.5 s: cannot reach http://b/v1</td>" in page
    assert "endpoints" not in to_html({"name": "t"})


def test_cli_run_says_which_endpoint_answered(cli):
    with FaultProxy(plan=dies_at(3)) as a, FaultProxy() as b:  # 1: model ids, 2: probe, 3: the call
        args = ("run", "-", "-m", "m", "--base-url", f"{a.url},{b.url}")
        proc = cli(*args, stdin=b"hi", env={"PROMPTSLIM_RETRIES": "0"})
    assert proc.returncode == 0, proc.err
    assert proc.out == " positive\n" and f"fake via {b.url} ({a.url} dropped): " in proc.err


@pytest.mark.parametrize("url", ["not a url", "ftp://host/v1", "http://[::1", "http://host:99999/v1", "http:///v1"])
def test_a_base_url_that_is_no_http_url_is_an_input_error(url):
    with pytest.raises(InputError, match=r"^--base-url .* is not an http\(s\) URL: give one like http://"):
        open_backend("m", base_url=["http://127.0.0.1:9/v1", url])


def test_an_endpoints_variable_without_a_url_is_an_input_error(monkeypatch):
    monkeypatch.setenv("PROMPTSLIM_ENDPOINTS", " , ")
    with pytest.raises(InputError, match="holds no URL"):
        open_backend("m")
