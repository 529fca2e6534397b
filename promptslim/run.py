"""Run one prompt once and report what the call cost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .measure.costing import Costing
from .prompt import Prompt
from .runtime import Backend, CallOptions, Completion, open_backend
from .serialize import fields_of


@dataclass(frozen=True, kw_only=True)
class RunResult(Completion):
    """The call's Completion, and what it cost: grams of CO2 in the region where it ran and,
    for a target with a price, dollars at the target's list prices."""

    co2_g: float
    cost_usd: float | None

    def to_dict(self) -> dict:
        """The measurement, as `run --json` prints it: the call's finish reason and extras aside."""
        data = fields_of(self)
        del data["finish_reason"], data["extra"]
        return data


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
        **fields_of(completion),
        co2_g=costing.co2_g(completion.energy_j),
        cost_usd=costing.cost_usd(rendered, mode, completion.text),
    )
