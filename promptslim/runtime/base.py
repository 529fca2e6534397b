"""The backend interface: a prompt and call options in, a measured Completion out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..constants import MODES
from ..errors import InputError
from ..prompt import Prompt

if TYPE_CHECKING:
    from ..measure.energy import Stopwatch


@dataclass(frozen=True)
class CallOptions:
    mode: str = "completion"
    max_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    cold: bool = True  # False lets a local model reuse the KV cache of a shared prompt prefix

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"unknown mode '{self.mode}': use completion or chat")
        if self.max_tokens < 1:
            raise InputError(f"max_tokens must be at least 1, got {self.max_tokens}")

    def key(self) -> dict:
        """The parameters that decide the output, for cache keys (a warm call answers as a cold one)."""
        return {
            "mode": self.mode,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
            "stop": list(self.stop),
        }


@dataclass(frozen=True)
class Completion:
    """One call's output and what it cost on the machine that ran it."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    wall_s: float
    cpu_s: float
    energy_j: float
    energy_method: str
    finish_reason: str = "stop"
    extra: dict = field(default_factory=dict)
    cold: bool = True  # measured without a reused KV prefix: what a call costs on its own

    @classmethod
    def measured(
        cls,
        watch: Stopwatch,
        text: str,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        finish_reason: str = "stop",
        extra: dict | None = None,
        cold: bool = True,
    ) -> Completion:
        """A call's output and token counts, with the time and energy its stopwatch measured."""
        energy = watch.energy(prompt_tokens, completion_tokens)
        return cls(
            text=text,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            wall_s=watch.wall_s,
            cpu_s=watch.cpu_s,
            energy_j=energy.joules,
            energy_method=energy.method,
            finish_reason=finish_reason,
            extra=extra or {},
            cold=cold,
        )


class Backend(Protocol):
    """What callers may use of a backend; nothing else is probed for."""

    name: str  # what to show the user
    identity: str  # what identifies the model's behaviour (file hash, endpoint + name)

    def complete(self, prompt: Prompt, options: CallOptions) -> Completion:
        """Run one call; the prompt must already be rendered."""

    def count_tokens(self, prompt: Prompt, mode: str) -> int:
        """Prompt tokens as this backend's model would see them."""

    def count_text(self, text: str) -> int:
        """Tokens of a piece of plain text in this backend's tokenizer (no BOS token, no chat
        template; 0 for empty text)."""

    def local_model(self) -> Path | None:
        """The GGUF file this backend runs in this process, or None when the model runs elsewhere."""

    def answer_pieces(self, text: str) -> list[bytes] | None:
        """An answer as the model's generated token pieces, in order; None where the model's
        tokenizer is not at hand or does not give the text back exactly."""
