"""Per-token energy estimates for models whose hardware we cannot see (API targets).

Output tokens follow EcoLogits' LLM-inference methodology: GPU energy per output token
E = ALPHA * P_active + BETA (Wh, P_active in billions of parameters), times a data-centre
PUE. Input (prefill) tokens are batched and compute-bound: published llama.cpp and vLLM
measurements put prefill throughput at tens of times decode throughput at similar power,
so we charge an input token PREFILL_RATIO of an output token. Closed models do not publish
their sizes: the active-parameter figures below are labelled assumptions, overridable.
Every figure from this module is an estimate and is reported as `token-estimate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .energy import J_PER_WH
from .energy_fit import LinearEnergy

ALPHA_WH_PER_B = 8.91e-5  # EcoLogits: Wh per output token per billion active parameters
BETA_WH = 1.43e-3  # EcoLogits: Wh per output token
PUE = 1.2  # data-centre overhead (EcoLogits' default for API providers)
PREFILL_RATIO = 1 / 30  # energy of an input token relative to an output token
DEFAULT_ACTIVE_B = 70.0  # when nothing is known of the model

# assumed active parameters (billions) for closed API models, by family prefix
ASSUMED_ACTIVE_B: dict[str, float] = {
    "gpt-5-nano": 4.0,
    "gpt-4.1-nano": 4.0,
    "gpt-5-mini": 8.0,
    "gpt-4.1-mini": 8.0,
    "gpt-4o-mini": 8.0,
    "o4-mini": 8.0,
    "o3-mini": 8.0,
    "o1-mini": 8.0,
    "gpt-3.5-turbo": 20.0,
    "gpt-5": 100.0,
    "gpt-4.1": 100.0,
    "gpt-4o": 100.0,
    "o3": 100.0,
    "o1": 100.0,
    "gpt-4-turbo": 220.0,
    "gpt-4": 220.0,
}


@dataclass(frozen=True)
class TokenEnergyModel(LinearEnergy):
    """The per-token estimate (no energy per call), and the model size it assumes."""

    active_params_b: float
    source: str


def active_params_b(model: str) -> tuple[float, str]:
    """Active parameters in billions, and where the figure comes from."""
    name = model.lower()
    family = max((f for f in ASSUMED_ACTIVE_B if name == f or name.startswith(f + "-")), key=len, default=None)
    if family:
        return ASSUMED_ACTIVE_B[family], f"assumed size for {family}"
    match = re.search(r"(\d+(?:\.\d+)?)\s*b\b", name.replace("_", "-"))
    if match:
        return float(match.group(1)), "size read from the model name"
    return DEFAULT_ACTIVE_B, f"unknown size, assumed {DEFAULT_ACTIVE_B:g}B"


def token_energy_model(model: str) -> TokenEnergyModel:
    params, origin = active_params_b(model)
    j_out = (ALPHA_WH_PER_B * params + BETA_WH) * PUE * J_PER_WH
    return TokenEnergyModel(
        j_per_input_token=j_out * PREFILL_RATIO,
        j_per_output_token=j_out,
        j_per_call=0.0,
        active_params_b=params,
        source=f"token-estimate (EcoLogits per-token model; {origin})",
    )
