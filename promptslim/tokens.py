"""Token counts: tiktoken for OpenAI targets, the GGUF tokenizer for the local model.

Targets are tiktoken's own model names (its model-to-encoding map decides the encoding)
plus `local`, the local GGUF model (chat-template overhead included in chat mode).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from .errors import InputError, RuntimeFailure
from .prompt import Prompt

if TYPE_CHECKING:
    import tiktoken

    from .runtime.base import Backend

LOCAL = "local"
DEFAULT_TARGET = "gpt-4o"
# OpenAI's documented chat overhead: every message is wrapped in 3 tokens, the reply primed by 3
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3
# tiktoken splits a text into pieces with its encoding's regex and encodes each piece alone. In
# these encodings a run of whitespace that holds a line break ends at its last break, and no
# other piece takes a line break followed by a letter: there a text splits into lines whose
# counts add up, and a text that shares lines with one counted before (a prompt and its
# compressed forms) encodes only the lines it does not share
LINEWISE_ENCODINGS = frozenset({"o200k_base", "cl100k_base"})
# a line with the lines after it up to the next that starts with a letter
_LINES = re.compile(r"[^\n]*\n(?:\n|[^A-Za-z\n][^\n]*(?:\n|\Z))*|[^\n]+")
LINE_MEMORY_CHARS = 1_000_000  # of lines whose counts are remembered, per process


def is_tiktoken_target(target: str) -> bool:
    import tiktoken.model

    if target in tiktoken.model.MODEL_TO_ENCODING:
        return True
    return any(target.startswith(p) for p in tiktoken.model.MODEL_PREFIX_TO_ENCODING)


def known_targets() -> list[str]:
    import tiktoken.model

    return sorted(tiktoken.model.MODEL_TO_ENCODING) + [LOCAL]


def check_target(target: str) -> str:
    if target != LOCAL and not is_tiktoken_target(target):
        chat_models = [t for t in known_targets() if t.startswith(("gpt-", "o1", "o3", "o4")) or t == LOCAL]
        raise InputError(
            f"unknown target model '{target}': use one of {', '.join(chat_models)} (or any model name tiktoken knows)"
        )
    return target


@cache
def encoding_for(target: str) -> tiktoken.Encoding:
    """The tiktoken encoding of a target; a clear error when it cannot be loaded offline."""
    import tiktoken

    check_target(target)
    name = tiktoken.encoding_name_for_model(target)
    try:
        return tiktoken.get_encoding(name)
    except Exception as exc:  # tiktoken raises network errors of several kinds
        raise RuntimeFailure(
            f"cannot load tiktoken encoding '{name}' for {target} ({type(exc).__name__}): "
            "connect to the internet once, or set TIKTOKEN_CACHE_DIR to a folder with tiktoken's cached files"
        ) from None


def count_text(text: str, target: str = DEFAULT_TARGET) -> int:
    """Tokens of plain text for a tiktoken target (special-token text counts as text)."""
    return _counter(target)(text)


@cache
def _counter(target: str) -> Callable[[str], int]:
    encoding = encoding_for(target)
    if encoding.name in LINEWISE_ENCODINGS:
        return _LineCounter(encoding.encode_ordinary)
    return lambda text: len(encoding.encode_ordinary(text))


class _LineCounter:
    """A text's tokens as the sum of its lines' (split where LINEWISE_ENCODINGS allow), with the
    counts of the lines seen last remembered."""

    def __init__(self, encode: Callable[[str], list[int]]):
        self.encode, self.counts, self.chars = encode, {}, 0

    def __call__(self, text: str) -> int:
        total, counts = 0, self.counts
        for line in _LINES.findall(text):
            n = counts.get(line)
            if n is None:
                if self.chars > LINE_MEMORY_CHARS:
                    counts.clear()
                    self.chars = 0
                n = counts[line] = len(self.encode(line))
                self.chars += len(line)
            total += n
        return total


def count_tokens(prompt: Prompt | str, target: str = DEFAULT_TARGET, *, mode: str = "completion", backend=None) -> int:
    """Prompt tokens for a target model: text as is, chat with its per-message overhead.

    `backend` is the local model to count with when target is `local` (default: embedded).
    """
    prompt = Prompt.of(prompt)
    if target == LOCAL:
        return (backend or local_backend()).count_tokens(prompt, mode)
    if mode == "chat":
        encoding = encoding_for(target)
        total = TOKENS_PER_REPLY
        for message in prompt.as_messages():
            total += TOKENS_PER_MESSAGE + len(encoding.encode_ordinary(message["role"]))
            total += count_text(message["content"], target)
        return total
    return sum(count_text(part, target) for part in prompt.parts())


def text_counter(target: str, backend: Backend | None = None) -> Callable[[str], int]:
    """How many tokens a piece of text is on the target: tiktoken's count for an API model, the
    backend's own tokenizer for `local` (default: the embedded model). No BOS token and no chat
    overhead, so the pieces of a prompt can be counted one by one."""
    if target == LOCAL:
        return (backend or local_backend()).count_text
    return lambda text: count_text(text, target)


def prompt_tokens(prompt: Prompt, target: str, count: Callable[[str], int]) -> int:
    """A prompt's input tokens on the target: with the chat format's overhead for API models,
    its texts in the local model's tokens (`count`, from `text_counter`) for `local`."""
    if target == LOCAL:
        return sum(count(part) for part in prompt.parts())
    return count_tokens(prompt, target, mode=prompt.default_mode)


@cache
def local_backend(model: str | None = None):
    """The local GGUF model (default: the embedded one), one backend per model and process."""
    from .runtime.llama import LlamaBackend

    return LlamaBackend(model)
