"""Where prompts run. The optimizer never knows which backend it talks to."""

from __future__ import annotations

import os
from collections.abc import Sequence

from .base import Backend, CallOptions, Completion


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
    return [url.strip() for value in given for url in value.split(",") if url.strip()]


__all__ = ["Backend", "CallOptions", "Completion", "open_backend"]
