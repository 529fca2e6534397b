"""Run one prompt once and report what the call cost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .measure.costing import Costing
from .prompt import Prompt
from .runtime import Backend, CallOptions, open_backend


@dataclass(frozen=True)
class RunResult:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    wall_s: float
    cpu_s: float
    energy_j: float
    energy_method: str
    co2_g: float
    cost_usd: float | None


def run(
    prompt: Prompt | str | list[dict],
    *,
    variables: Mapping[str, object] | None = None,
    mode: str = "completion",
    max_tokens: int = 256,
    stop: tuple[str, ...] = (),
    backend: Backend | None = None,
    target: str | None = None,
    region: str | None = None,
    seed: int = 0,
) -> RunResult:
    """Render the prompt's {{variables}}, run it once, and measure the call."""
    costing = Costing(target=target, region=region)
    rendered = Prompt.of(prompt).render(variables or {})
    backend = backend or open_backend()
    options = CallOptions(mode=mode, max_tokens=max_tokens, stop=tuple(stop), seed=seed)
    completion = backend.complete(rendered, options)
    return RunResult(
        text=completion.text,
        model=completion.model,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        wall_s=completion.wall_s,
        cpu_s=completion.cpu_s,
        energy_j=completion.energy_j,
        energy_method=completion.energy_method,
        co2_g=costing.co2_g(completion.energy_j),
        cost_usd=costing.cost_usd(rendered, mode, completion.text),
    )
