"""Any OpenAI-compatible endpoint: OpenAI, llama.cpp server, vLLM, Ollama.

Retries are ours, not the openai client's, so that every fault is handled and counted: 408,
409, 429 and 5xx answers (waiting as long as Retry-After asks, up to a minute), refused or
reset connections, timeouts, and answers that are not a whole completion (truncated JSON,
no choices). Each waits longer than the last (exponential backoff with jitter). A call that
still fails is a RuntimeFailure (that case fails; the run goes on); an endpoint that cannot
be reached at all, or that refuses the key or the model, is BackendUnavailable: it ends the
run, and every later call fails at once. Energy is measured over the attempt that answered.
"""

from __future__ import annotations

import email.utils
import ipaddress
import math
import os
import random
import threading
import time
from urllib.parse import urlparse, urlunparse

from ..errors import BackendUnavailable, InputError, RuntimeFailure
from ..measure.energy import Meter, Stopwatch, TokenEstimateMeter, hardware_meter
from ..measure.footprint import token_energy_model
from ..prompt import Prompt
from .base import CallOptions, Completion

DEFAULT_TIMEOUT_S = 120.0  # PROMPTSLIM_TIMEOUT_S overrides it
DEFAULT_MAX_RETRIES = 4  # PROMPTSLIM_RETRIES overrides it
MAX_RETRY_AFTER_S = 60.0  # a server asking for a longer wait is answered with a failure
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0
RETRY_STATUS = (408, 409, 429)  # and every 5xx
# what reading a response that is not a whole completion raises (no choices, no message, no text)
NOT_A_COMPLETION = (ValueError, IndexError, AttributeError, TypeError)


def is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url(url: str) -> str:
    """The URL without credentials or query (where keys hide), for messages and cache keys."""
    parts = urlparse(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{parts.port}" if parts.port else ""
    return urlunparse((parts.scheme, netloc, parts.path, "", "", ""))


def _setting(name: str, default: float, *, whole: bool = False) -> float:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        number = -1
    if not (0 <= number < math.inf) or (not whole and number == 0):
        raise InputError(f"{name}={value!r}: give a {'whole ' if whole else ''}number above 0, e.g. {default:g}")
    return number


class OpenAIBackend:
    def __init__(
        self,
        model: str | None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        meter: Meter | None = None,
    ):
        import openai

        base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        self.base_url = public_url(base_url)  # what messages and the cache key show
        if not model:
            raise InputError(f"--base-url {self.base_url} needs --model NAME: the endpoint's model name")
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if not is_loopback(self.base_url) and urlparse(self.base_url).hostname == "api.openai.com":
                raise InputError("OPENAI_API_KEY is not set: export your API key to use api.openai.com")
            key = "not-needed"  # local servers ignore the key but the client wants one
        self.model = model
        self.name = model
        self.identity = f"endpoint:{self.base_url}#{model}"
        self.timeout = timeout if timeout is not None else _setting("PROMPTSLIM_TIMEOUT_S", DEFAULT_TIMEOUT_S)
        if max_retries is None:
            max_retries = int(_setting("PROMPTSLIM_RETRIES", DEFAULT_MAX_RETRIES, whole=True))
        self.max_retries = max_retries
        self._secret = key
        self._client = openai.OpenAI(base_url=base_url, api_key=key, timeout=self.timeout, max_retries=0)
        self.meter = meter or self._default_meter()
        self.retried_calls = 0  # calls that needed more than one attempt
        self.retries = 0  # attempts beyond the first, over all calls
        self._down: BackendUnavailable | None = None
        self._stats = threading.Lock()

    def _default_meter(self) -> Meter:
        """Counters only see this machine: use them for a loopback server, else estimate."""
        if is_loopback(self.base_url) and hardware_meter():
            return hardware_meter()
        return TokenEstimateMeter(token_energy_model(self.model))

    @property
    def _counting_target(self) -> str:
        """Counts are tiktoken's, for the model when tiktoken knows it, else for the default target."""
        from ..tokens import DEFAULT_TARGET, is_tiktoken_target

        return self.model if is_tiktoken_target(self.model) else DEFAULT_TARGET

    def count_tokens(self, prompt: Prompt, mode: str = "completion") -> int:
        from ..tokens import count_tokens

        return count_tokens(prompt, self._counting_target, mode=mode)

    def count_text(self, text: str) -> int:
        from ..tokens import count_text

        return count_text(text, self._counting_target)

    def local_model(self) -> None:
        return None

    def answer_pieces(self, text: str) -> list[bytes] | None:
        return None  # the endpoint's tokenizer is not at hand

    def served_models(self) -> list[str]:
        """The ids of the models the endpoint lists (llama.cpp's server: its --model_alias, else the file)."""
        return self._retrying(lambda: sorted(model.id for model in self._client.models.list()))

    def complete(self, prompt: Prompt, options: CallOptions) -> Completion:
        def attempt():
            with Stopwatch(self.meter) as watch:
                resp, text = self._request(prompt, options)
            return watch, resp, text

        watch, resp, text = self._retrying(attempt)
        usage = resp.usage
        return Completion.measured(
            watch,
            text,
            resp.model or self.model,
            usage.prompt_tokens if usage else self.count_tokens(prompt, options.mode),
            usage.completion_tokens if usage else self.count_tokens(Prompt(text=text)),
            finish_reason=resp.choices[0].finish_reason or "stop",
            extra={} if usage else {"usage": "counted locally: the endpoint reported none"},
        )

    def _retrying(self, request):
        """request()'s result, with failed attempts retried; a final failure raised as ours."""
        attempt = 0
        while True:
            if self._down is not None:  # another call found the endpoint gone: do not wait again
                raise self._down
            try:
                result = request()
                break
            except Exception as exc:  # the client raises its own errors, httpx's and JSON's
                wait = self._retry_wait(exc, attempt)
                if wait is None:
                    self._count(attempt)
                    raise self._failure(exc, attempt + 1) from None
            attempt += 1
            time.sleep(wait)
        self._count(attempt)
        return result

    def _request(self, prompt: Prompt, options: CallOptions):
        """One attempt: the response and its text; a response without them raises (and is retried)."""
        params = dict(
            model=self.model,
            max_tokens=options.max_tokens,
            temperature=options.temperature,
            seed=options.seed,
            stop=list(options.stop) or None,
        )
        if options.mode == "chat":
            resp = self._client.chat.completions.create(messages=prompt.as_messages(), **params)
            text = resp.choices[0].message.content or ""
        else:
            resp = self._client.completions.create(prompt=prompt.as_text(), **params)
            text = resp.choices[0].text
        if not isinstance(text, str):
            raise ValueError("the completion has no text")
        return resp, text

    def _retry_wait(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None when this failure is final."""
        import openai

        if attempt >= self.max_retries:
            return None
        backoff = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2**attempt) * random.uniform(0.75, 1.0)
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code not in RETRY_STATUS and exc.status_code < 500:
                return None
            after = _retry_after(exc)
            if after is None:
                return backoff
            return after if after <= MAX_RETRY_AFTER_S else None
        if isinstance(exc, (openai.APIConnectionError, openai.APIResponseValidationError, *NOT_A_COMPLETION)):
            return backoff  # refused, reset, timed out, or not a whole completion
        return None

    def _failure(self, exc: Exception, attempts: int) -> Exception:
        """The error a final failure becomes; one that no later call can avoid ends the run."""
        import openai

        tries = f" after {attempts} tries" if attempts > 1 else ""
        if isinstance(exc, InputError):
            return exc
        if isinstance(exc, openai.APITimeoutError):
            return self._gone(
                f"{self.base_url} did not answer within {self.timeout:g} s{tries}: is the server overloaded? "
                "raise PROMPTSLIM_TIMEOUT_S"
            )
        if isinstance(exc, openai.APIConnectionError):
            return self._gone(f"cannot reach {self.base_url}{tries}: is the server running? check --base-url")
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return self._gone(f"{self.base_url} rejected the API key: check OPENAI_API_KEY", exit_code=2)
        if isinstance(exc, openai.NotFoundError):
            return self._gone(
                f"{self.base_url} has no model '{self.model}' (or no such route): check --model", exit_code=2
            )
        if isinstance(exc, openai.BadRequestError):
            return InputError(f"{self.base_url} refused the request: {self._first_line(exc)}")
        if isinstance(exc, openai.APIStatusError):
            after = _retry_after(exc)
            if after is not None and after > MAX_RETRY_AFTER_S:
                return RuntimeFailure(
                    f"{self.base_url} answered HTTP {exc.status_code} and asks to wait {after:.0f} s: try again later"
                )
            return RuntimeFailure(f"{self.base_url} failed with HTTP {exc.status_code}{tries}: {self._first_line(exc)}")
        if isinstance(exc, NOT_A_COMPLETION):
            return RuntimeFailure(
                f"{self.base_url} sent something that is not a completion{tries} ({type(exc).__name__}): "
                "check that it is an OpenAI-compatible endpoint"
            )
        return exc  # not ours to explain: the CLI reports it as an internal error

    def _gone(self, message: str, exit_code: int = 1) -> BackendUnavailable:
        self._down = BackendUnavailable(message, exit_code)
        return self._down

    def _count(self, retries: int) -> None:
        if retries:
            with self._stats:
                self.retried_calls += 1
                self.retries += retries

    def _first_line(self, exc: Exception) -> str:
        """The first line of an error the endpoint sent, without the key should it echo it."""
        line = (str(getattr(exc, "message", exc)).strip().splitlines() or [""])[0][:300]
        return line.replace(self._secret, "***") if len(self._secret) >= 8 else line


def _retry_after(exc) -> float | None:
    """Seconds a 429 or 503 asks to wait (Retry-After in seconds or as a date; retry-after-ms)."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    millis = headers.get("retry-after-ms")
    value = headers.get("retry-after")
    try:
        if millis is not None:
            return max(0.0, float(millis) / 1000)
        if value is not None:
            return max(0.0, float(value))
    except ValueError:
        pass
    if value is None:
        return None
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None
