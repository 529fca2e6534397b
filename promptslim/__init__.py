"""promptslim: make LLM prompts cheaper and greener without making them worse."""

from .audit import AuditReport, audit
from .compress import Compressed, compress
from .errors import GateFailure, InputError, PromptslimError, RuntimeFailure
from .generate import variants
from .generators.base import Variant
from .optimize import OptimizeResult, optimize
from .prompt import Message, Prompt
from .run import RunResult, run
from .runtime import Backend, CallOptions, Completion, open_backend
from .spec import Spec, load_spec
from .tokens import count_tokens, known_targets


def _installed_version() -> str:
    """The installed distribution's version (pyproject.toml is its one source)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("promptslim")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"


__version__ = _installed_version()

__all__ = [
    "AuditReport",
    "Backend",
    "CallOptions",
    "Completion",
    "Compressed",
    "GateFailure",
    "InputError",
    "Message",
    "OptimizeResult",
    "Prompt",
    "PromptslimError",
    "RunResult",
    "RuntimeFailure",
    "Spec",
    "Variant",
    "audit",
    "compress",
    "count_tokens",
    "known_targets",
    "load_spec",
    "open_backend",
    "optimize",
    "run",
    "variants",
]
