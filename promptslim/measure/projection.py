"""What a prompt costs at volume: dollars, energy and CO2 per 1,000 calls and per year.

Energy per call comes from one of three labelled models: the stored calibration of the local
model on this machine (`calibration`), EcoLogits' per-token estimate for API models
(`token-estimate`), or coefficients the user gives (`user`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..tokens import LOCAL
from .energy import J_PER_KWH, J_PER_WH
from .energy_fit import LinearEnergy
from .footprint import token_energy_model
from .price import price_for

DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class EnergyModel(LinearEnergy):
    """The energy model a projection uses, and where its coefficients come from."""

    source: str  # calibration | token-estimate | user
    detail: str = ""

    @classmethod
    def labelled(cls, model: LinearEnergy, source: str, detail: str) -> EnergyModel:
        return cls(model.j_per_input_token, model.j_per_output_token, model.j_per_call, source=source, detail=detail)


@dataclass(frozen=True)
class Volume:
    calls_per_day: float
    grams_per_kwh: float  # grid carbon intensity of the region

    @property
    def calls_per_year(self) -> float:
        return self.calls_per_day * DAYS_PER_YEAR


@dataclass(frozen=True)
class Projection:
    """One prompt on one target model, before and after compression."""

    target: str
    tokens: int
    tokens_after: int
    output_tokens: int
    saving_pct: float
    cost_usd_per_1k: float | None
    energy_wh_per_1k: float
    co2_g_per_1k: float
    cost_usd_year: float | None
    energy_kwh_year: float
    co2_kg_year: float
    cost_usd_year_saved: float | None
    energy_kwh_year_saved: float
    co2_kg_year_saved: float
    energy_model: str  # the EnergyModel's source
    deep_tokens_after: int | None = None
    aggressive_tokens_after: int | None = None  # after rules at the aggressive level (unverified)


def energy_model(target: str, *, user: tuple[float, float] | None = None, calibration=None) -> EnergyModel:
    """The energy model for a target: the user's, the local calibration, or the per-token estimate."""
    if user is not None:
        given = LinearEnergy(*user, j_per_call=0.0)
        return EnergyModel.labelled(given, "user", "given with --energy-per-input-token and --energy-per-output-token")
    if target == LOCAL:
        if calibration is None:
            raise InputError(
                "--target local: no energy calibration for this model on this machine: run `promptslim calibrate` "
                "first, or give --energy-per-input-token and --energy-per-output-token"
            )
        detail = (
            f"fitted on {calibration.machine} for {calibration.model_name} ({calibration.energy_method}, "
            f"R\u00b2 {calibration.r2:.3f}, {calibration.created})"
        )
        return EnergyModel.labelled(calibration, "calibration", detail)
    estimate = token_energy_model(target)
    detail = estimate.source.removeprefix("token-estimate (").removesuffix(")")  # the source is said once
    return EnergyModel.labelled(estimate, "token-estimate", detail)


def project(
    target: str, tokens: int, tokens_after: int, output_tokens: int, energy: EnergyModel, volume: Volume
) -> Projection:
    price = price_for(target) if target != LOCAL else None
    cost = price.cost(tokens, output_tokens) if price else None
    cost_after = price.cost(tokens_after, output_tokens) if price else None
    joules, joules_after = energy.joules(tokens, output_tokens), energy.joules(tokens_after, output_tokens)
    grams, grams_after = (j / J_PER_KWH * volume.grams_per_kwh for j in (joules, joules_after))
    calls = volume.calls_per_year
    return Projection(
        target=target,
        tokens=tokens,
        tokens_after=tokens_after,
        output_tokens=output_tokens,
        saving_pct=100.0 * (tokens - tokens_after) / tokens if tokens else 0.0,
        cost_usd_per_1k=None if cost is None else cost * 1000,
        energy_wh_per_1k=joules * 1000 / J_PER_WH,
        co2_g_per_1k=grams * 1000,
        cost_usd_year=None if cost is None else cost * calls,
        energy_kwh_year=joules * calls / J_PER_KWH,
        co2_kg_year=grams * calls / 1000,
        cost_usd_year_saved=None if cost is None else (cost - cost_after) * calls,
        energy_kwh_year_saved=(joules - joules_after) * calls / J_PER_KWH,
        co2_kg_year_saved=(grams - grams_after) * calls / 1000,
        energy_model=energy.source,
    )
