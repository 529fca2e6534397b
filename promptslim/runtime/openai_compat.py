"""Any OpenAI-compatible endpoint: OpenAI, llama.cpp server, vLLM, Ollama.

Retries (429, 5xx, connection errors, with exponential backoff that honours Retry-After)
are the openai client's own; we bound them with `max_retries`.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlparse

from ..errors import InputError, RuntimeFailure
from ..measure.energy import Meter, Stopwatch, TokenEstimateMeter, hardware_meter
from ..measure.footprint import token_energy_model
from ..prompt import Prompt
from .base import CallOptions, Completion

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MAX_RETRIES = 3


def is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OpenAIBackend:
    def __init__(
        self,
        model: str | None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        meter: Meter | None = None,
    ):
        import openai

        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
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
        self._client = openai.OpenAI(base_url=self.base_url, api_key=key, timeout=timeout, max_retries=max_retries)
        self.meter = meter or self._default_meter()

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

    def complete(self, prompt: Prompt, options: CallOptions) -> Completion:
        import openai

        params = dict(
            model=self.model,
            max_tokens=options.max_tokens,
            temperature=options.temperature,
            seed=options.seed,
            stop=list(options.stop) or None,
        )
        try:
            with Stopwatch(self.meter) as watch:
                if options.mode == "chat":
                    resp = self._client.chat.completions.create(messages=prompt.as_messages(), **params)
                    text = resp.choices[0].message.content or ""
                else:
                    resp = self._client.completions.create(prompt=prompt.as_text(), **params)
                    text = resp.choices[0].text
        except openai.APITimeoutError:
            raise RuntimeFailure(f"{self.base_url} timed out: is the server overloaded? raise the timeout") from None
        except openai.APIConnectionError:
            raise RuntimeFailure(f"cannot reach {self.base_url}: is the server running? check --base-url") from None
        except openai.AuthenticationError:
            raise InputError(f"{self.base_url} rejected the API key: check OPENAI_API_KEY") from None
        except openai.NotFoundError:
            raise InputError(f"{self.base_url} has no model '{self.model}' (or no such route): check --model") from None
        except openai.BadRequestError as exc:
            raise InputError(f"{self.base_url} refused the request: {_first_line(exc)}") from None
        except openai.APIStatusError as exc:
            raise RuntimeFailure(
                f"{self.base_url} failed with HTTP {exc.status_code} after retries: {_first_line(exc)}"
            ) from None
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


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "message", exc)).strip().splitlines()[0][:300]
