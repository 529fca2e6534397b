"""Where prompts run. The optimizer never knows which backend it talks to."""

from __future__ import annotations

import os
from collections.abc import Sequence
from urllib.parse import urlparse

from ..errors import InputError
from .base import Backend, CallOptions, Completion

EXAMPLE_URL = "http://127.0.0.1:8080/v1"


def open_backend(
    model: str | None = None, *, base_url: str | Sequence[str] | None = None, concurrency: int = 1, **options
) -> Backend:
    """A backend from CLI-style choices.

    With base URLs (the argument, else PROMPTSLIM_ENDPOINTS or OPENAI_BASE_URL; commas separate
    URLs) `model` names the endpoints' model; several URLs make a checked EndpointPool that runs
    `concurrency` calls at once on each. Otherwise `model` is a GGUF path (or PROMPTSLIM_MODEL,
    or the embedded default).
    """
    urls = endpoint_urls(base_url)
    if len(urls) > 1:
        from .pool import open_pool

        return open_pool(model, urls, concurrency=concurrency, **options)
    if urls:
        from .openai_compat import OpenAIBackend

        return OpenAIBackend(model, base_url=urls[0], **options)
    from .llama import LlamaBackend

    return LlamaBackend(model, **options)


def endpoint_urls(base_url: str | Sequence[str] | None) -> list[str]:
    """The endpoint URLs asked for: given, else from the environment; each may list several."""
    given = [base_url] if isinstance(base_url, str) else list(base_url or ())
    given = given or [os.environ.get("PROMPTSLIM_ENDPOINTS") or os.environ.get("OPENAI_BASE_URL") or ""]
    urls = [url.strip() for value in given for url in value.split(",") if url.strip()]
    if not urls and any(value.strip() for value in given):
        raise InputError(f"--base-url {','.join(given)!r} holds no URL: give one like {EXAMPLE_URL}")
    for url in urls:
        if not _is_http_url(url):
            raise InputError(f"--base-url {url[:80]!r} is not an http(s) URL: give one like {EXAMPLE_URL}")
    return urls


def _is_http_url(url: str) -> bool:
    try:
        parts = urlparse(url)
        parts.port  # noqa: B018 (raises on a port out of range)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


__all__ = ["Backend", "CallOptions", "Completion", "open_backend"]
