"""Several OpenAI-compatible endpoints serving one model, used as one backend.

Each call goes to the least busy live endpoint with a free slot (`concurrency` calls at once on
each). An endpoint that is gone (BackendUnavailable: unreachable after its retries, or refusing
the key or the model) is dropped and the call runs again on another; the run ends only when
every endpoint is gone. Nothing else moves a call: one that fails on a live endpoint fails as it
would on a single endpoint, so a pool's results are a single endpoint's.

That holds only if the endpoints answer alike, which `check` verifies before any call: the model
ids each one lists and its answer to a fixed probe at temperature 0. The pool then answers as its
first endpoint does and takes that endpoint's identity, so a run through the pool and a run
against the first endpoint alone share cached calls. (Not the model id alone: two servers may
give different weights one alias.)
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..errors import BackendUnavailable, InputError
from ..prompt import Prompt
from .base import CallOptions, Completion
from .openai_compat import OpenAIBackend

# a fixed probe at temperature 0: chat first; an endpoint without a chat template (a base model)
# refuses chat, and answers the same probe as a completion
PROBE_TEXT = "Continue the list: one, two, three,"
PROBE_CALL = {mode: CallOptions(mode=mode, max_tokens=8, temperature=0.0, seed=0) for mode in ("chat", "completion")}


@dataclass(frozen=True)
class EndpointStats:
    """What one endpoint of a pool did, from the pool's first call to its own last answer."""

    url: str
    calls: int  # answered
    failed: int  # failed there while it was live (retrying elsewhere would change the results)
    completion_tokens: int
    busy_s: float  # summed over its calls, which overlap with concurrency
    seconds: float  # from the pool's first call to this endpoint's last answer or its drop
    calls_per_s: float | None
    tokens_per_s: float | None
    dropped_after_s: float | None = None  # None: live to the end
    error: str | None = None  # why it was dropped


@dataclass
class _Endpoint:
    backend: OpenAIBackend
    busy: int = 0
    calls: int = 0
    failed: int = 0
    completion_tokens: int = 0
    busy_s: float = 0.0
    last_s: float | None = None  # when its last answer came
    gone: BackendUnavailable | None = None
    gone_s: float | None = None


class EndpointPool:
    def __init__(self, backends: Sequence[OpenAIBackend], *, concurrency: int = 1):
        if not backends:
            raise ValueError("an endpoint pool needs at least one endpoint")
        self.name, self.identity = backends[0].name, backends[0].identity
        self.concurrency = max(1, concurrency)  # calls at once on each endpoint
        self.backends = list(backends)
        self._endpoints = [_Endpoint(backend) for backend in backends]
        self._changed = threading.Condition()
        self._started: float | None = None

    @property
    def retried_calls(self) -> int:
        return sum(b.retried_calls for b in self.backends)

    @property
    def retries(self) -> int:
        return sum(b.retries for b in self.backends)

    def check(self) -> None:
        """Refuse endpoints that do not answer alike: an InputError naming the first odd one."""
        with ThreadPoolExecutor(max_workers=len(self._endpoints)) as pool:
            models = list(pool.map(lambda b: b.served_models(), self.backends))
            _same("serves models", self.backends, models)
            answers = list(pool.map(_probe, self.backends))
            _same("answers the probe at temperature 0 with", self.backends, answers)

    def complete(self, prompt: Prompt, options: CallOptions) -> Completion:
        while True:
            endpoint = self._take()
            began = time.perf_counter()
            try:
                completion = endpoint.backend.complete(prompt, options)
            except BackendUnavailable as exc:
                self._give_back(endpoint, began, gone=exc)
                continue  # on another endpoint, or raised by _take when none is left
            except BaseException:
                self._give_back(endpoint, began)
                raise
            self._give_back(endpoint, began, completion)
            return completion

    def stats(self) -> tuple[EndpointStats, ...]:
        with self._changed:
            return tuple(self._stats(e) for e in self._endpoints)

    def count_tokens(self, prompt: Prompt, mode: str = "completion") -> int:
        return self.backends[0].count_tokens(prompt, mode)

    def count_text(self, text: str) -> int:
        return self.backends[0].count_text(text)

    def local_model(self) -> None:
        return None

    def answer_pieces(self, text: str) -> None:
        return None  # the endpoints' tokenizer is not at hand

    def _take(self) -> _Endpoint:
        """A slot on the least busy live endpoint, waiting for one to free up."""
        with self._changed:
            while True:
                live = [e for e in self._endpoints if e.gone is None]
                if not live:
                    raise self._all_gone()
                free = [e for e in live if e.busy < self.concurrency]
                if free:
                    chosen = min(free, key=lambda e: (e.busy, e.calls + e.failed))
                    chosen.busy += 1
                    self._started = self._started or time.perf_counter()
                    return chosen
                self._changed.wait()

    def _give_back(
        self,
        endpoint: _Endpoint,
        began: float,
        completion: Completion | None = None,
        gone: BackendUnavailable | None = None,
    ) -> None:
        now = time.perf_counter()
        with self._changed:
            endpoint.busy -= 1
            endpoint.busy_s += now - began
            if gone is not None:
                if endpoint.gone is None:
                    endpoint.gone, endpoint.gone_s = gone, now
            elif completion is None:
                endpoint.failed += 1
            else:
                endpoint.calls += 1
                endpoint.completion_tokens += completion.completion_tokens
                endpoint.last_s = now
            self._changed.notify_all()

    def _all_gone(self) -> BackendUnavailable:
        last = max(self._endpoints, key=lambda e: e.gone_s or 0.0).gone
        return BackendUnavailable(
            f"all {len(self._endpoints)} endpoints are gone; the last: {last}", getattr(last, "exit_code", 1)
        )

    def _stats(self, e: _Endpoint) -> EndpointStats:
        end = e.gone_s if e.gone_s is not None else e.last_s
        seconds = end - self._started if self._started is not None and end is not None else 0.0
        return EndpointStats(
            url=e.backend.base_url,
            calls=e.calls,
            failed=e.failed,
            completion_tokens=e.completion_tokens,
            busy_s=e.busy_s,
            seconds=seconds,
            calls_per_s=e.calls / seconds if seconds > 0 else None,
            tokens_per_s=e.completion_tokens / seconds if seconds > 0 else None,
            dropped_after_s=seconds if e.gone is not None else None,
            error=str(e.gone) if e.gone is not None else None,
        )


def _probe(backend: OpenAIBackend) -> str:
    """The probe's chat answer, or its completion (so marked) where chat is refused."""
    try:
        return backend.complete(Prompt.of([{"role": "user", "content": PROBE_TEXT}]), PROBE_CALL["chat"]).text
    except InputError:
        return "(completion) " + backend.complete(Prompt.of(PROBE_TEXT), PROBE_CALL["completion"]).text


def _same(what: str, backends: Sequence[OpenAIBackend], values: list) -> None:
    """Every value equal to the most common one (the first endpoint's on a tie), else an
    InputError naming the first endpoint that differs and one that does not."""
    usual = Counter(map(repr, values)).most_common(1)[0][0]
    witness = next(b for b, v in zip(backends, values) if repr(v) == usual)
    for backend, value in zip(backends, values):
        if repr(value) != usual:
            raise InputError(
                f"--base-url {backend.base_url} {what} {value!r}, but {witness.base_url} {what} {usual}: "
                "every endpoint must serve the same model (drop the odd one or fix its server)"
            )


def open_pool(model: str | None, urls: Sequence[str], *, concurrency: int = 1, **options) -> EndpointPool:
    """A checked pool of the endpoints at `urls`: each serving `model`, all answering alike."""
    backends = [OpenAIBackend(model, base_url=url, **options) for url in urls]
    seen = Counter(b.base_url for b in backends)
    twice = next((url for url, n in seen.items() if n > 1), None)
    if twice:
        raise InputError(f"--base-url {twice} is given twice: give each endpoint once")
    pool = EndpointPool(backends, concurrency=concurrency)
    pool.check()
    return pool


def parallel_calls(backend, concurrency: int) -> int:
    """Calls to keep in flight: `concurrency` on each endpoint of a pool, else `concurrency`."""
    return concurrency * len(backend.backends) if isinstance(backend, EndpointPool) else concurrency
