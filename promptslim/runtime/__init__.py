"""Where prompts run. The optimizer never knows which backend it talks to."""

from __future__ import annotations

import os

from .base import Backend, CallOptions, Completion


def open_backend(model: str | None = None, *, base_url: str | None = None, **options) -> Backend:
    """A backend from CLI-style choices.

    With a base URL (argument or OPENAI_BASE_URL) `model` names the endpoint's model;
    otherwise `model` is a GGUF path (or PROMPTSLIM_MODEL, or the embedded default).
    """
    base_url = base_url or os.environ.get("OPENAI_BASE_URL")
    if base_url:
        from .openai_compat import OpenAIBackend

        return OpenAIBackend(model, base_url=base_url, **options)
    from .llama import LlamaBackend

    return LlamaBackend(model, **options)


__all__ = ["Backend", "CallOptions", "Completion", "open_backend"]
