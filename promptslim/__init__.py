"""promptslim: make LLM prompts cheaper and greener without making them worse."""

from .errors import GateFailure, InputError, PromptslimError, RuntimeFailure
from .prompt import Message, Prompt
from .run import RunResult, run
from .runtime import Backend, CallOptions, Completion, open_backend
from .tokens import count_tokens, known_targets

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "CallOptions",
    "Completion",
    "GateFailure",
    "InputError",
    "Message",
    "Prompt",
    "PromptslimError",
    "RunResult",
    "RuntimeFailure",
    "count_tokens",
    "known_targets",
    "open_backend",
    "run",
]
