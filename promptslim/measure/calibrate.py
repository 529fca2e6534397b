"""A fitted energy model for the local model on this machine: J = a*prompt + b*output + c.

A short fixed workload (a grid of prompt lengths x output lengths, greedy) runs through the
local backend, whose meter labels every figure (rapl, nvml or cpu-estimate). A least-squares
fit turns the calls into joules per prompt token, per output token and per call, with its R².
Fits are stored per machine and model file under the cache dir, one JSON file per pair.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ..cache import default_cache_dir
from ..errors import InputError
from ..prompt import Prompt
from . import energy_fit
from .energy_fit import Fit, LinearEnergy
from .hardware import cpu_model

WORKLOAD_PROMPT_TOKENS = (32, 128, 256, 512, 1024)
WORKLOAD_OUTPUT_TOKENS = (8, 32, 64)
# filler before a counting task: the model keeps counting, so calls reach their output cap
_FILLER = (
    "The committee reviewed the quarterly figures for every regional office and agreed on "
    "the schedule for the next audit of travel, hardware and training costs. "
)
_TASK = "\nContinue the list: 1, 2, 3, 4, 5,"


@dataclass(frozen=True)
class Point:
    prompt_tokens: int
    output_tokens: int
    energy_j: float
    wall_s: float


@dataclass(frozen=True)
class Calibration(LinearEnergy):
    """The energy model of one model file on one machine, and the workload it was fitted on."""

    machine: str
    model: str  # the model file's identity (its sha256)
    model_name: str
    r2: float
    energy_method: str  # how the workload's energy was obtained
    points: tuple[Point, ...]
    created: str


def machine_id() -> str:
    """Host name and CPU model: a fit holds for one machine's hardware."""
    return f"{socket.gethostname()} / {cpu_model() or platform.machine() or 'unknown CPU'}"


def fit(points: Sequence[Point]) -> Fit:
    """Joules per prompt token, per output token and per call (non-negative least squares)."""
    if len({p.prompt_tokens for p in points}) < 2 or len({p.output_tokens for p in points}) < 2:
        raise InputError("calibration needs at least two prompt lengths and two output lengths")
    return energy_fit.fit(
        [p.prompt_tokens for p in points], [p.output_tokens for p in points], [p.energy_j for p in points]
    )


def workload_prompt(backend, tokens: int) -> Prompt:
    """The longest prompt of filler and a counting task within `tokens` of the model's tokens."""
    words = (_FILLER * (tokens // 8 + 1)).split()

    def size(n: int) -> int:
        return backend.count_tokens(Prompt(text=" ".join(words[:n]) + _TASK))

    lo, hi = 0, len(words)
    while lo < hi:  # binary search on the number of filler words
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if size(mid) <= tokens else (lo, mid - 1)
    return Prompt(text=" ".join(words[:lo]) + _TASK)


def run_workload(
    backend,
    prompt_tokens: Sequence[int] = WORKLOAD_PROMPT_TOKENS,
    output_tokens: Sequence[int] = WORKLOAD_OUTPUT_TOKENS,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Point], str]:
    """One greedy call per (prompt length, output cap), after one unmeasured warm-up call."""
    from ..runtime.base import CallOptions

    grid = [(p, o) for p in prompt_tokens for o in output_tokens]
    prompts = {p: workload_prompt(backend, p) for p in prompt_tokens}
    backend.complete(prompts[prompt_tokens[0]], CallOptions(max_tokens=4))
    points, methods = [], set()
    for done, (p, o) in enumerate(grid, 1):
        result = backend.complete(prompts[p], CallOptions(max_tokens=o))
        points.append(Point(result.prompt_tokens, result.completion_tokens, result.energy_j, result.wall_s))
        methods.add(result.energy_method)
        if progress:
            progress(done, len(grid))
    return points, "+".join(sorted(methods))


def calibrate(
    backend=None,
    *,
    prompt_tokens: Sequence[int] = WORKLOAD_PROMPT_TOKENS,
    output_tokens: Sequence[int] = WORKLOAD_OUTPUT_TOKENS,
    progress: Callable[[int, int], None] | None = None,
) -> Calibration:
    """Run the workload on the local model (default: the embedded one) and fit it."""
    from ..runtime.llama import LlamaBackend

    backend = backend or LlamaBackend()
    if len(set(prompt_tokens)) < 2 or len(set(output_tokens)) < 2 or min(*prompt_tokens, *output_tokens) < 1:
        raise InputError("calibration needs at least two prompt lengths and two output lengths, each 1 or more")
    points, method = run_workload(backend, prompt_tokens, output_tokens, progress)
    result = fit(points)
    return Calibration(
        result.j_per_input_token,
        result.j_per_output_token,
        result.j_per_call,
        machine=machine_id(),
        model=backend.identity,
        model_name=backend.name,
        r2=result.r2,
        energy_method=method,
        points=tuple(points),
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )


def calibration_path(machine: str, model: str, root: Path | None = None) -> Path:
    key = hashlib.sha256(f"{machine}\n{model}".encode()).hexdigest()[:20]
    return (root or default_cache_dir()) / "calibration" / f"{key}.json"


def save(calibration: Calibration, root: Path | None = None) -> Path:
    """Write atomically: a reader never sees half a file."""
    path = calibration_path(calibration.machine, calibration.model, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(asdict(calibration), indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def load(model: str, machine: str | None = None, root: Path | None = None) -> Calibration | None:
    """The stored fit for this model file on this machine, or None."""
    path = calibration_path(machine or machine_id(), model, root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["points"] = tuple(Point(**p) for p in data["points"])
        return Calibration(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise InputError(
            f"{path}: not a readable calibration ({exc}): delete it and run promptslim calibrate"
        ) from None
