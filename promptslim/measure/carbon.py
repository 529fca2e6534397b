"""Grid carbon intensity by region, from codecarbon's bundled energy-mix data (offline)."""

from __future__ import annotations

import json
import os
from functools import cache

from ..errors import InputError
from .energy import J_PER_KWH
from .hardware import codecarbon_data

WORLD = "world"


@cache
def _energy_mix() -> dict:
    with open(codecarbon_data("private_infra", "global_energy_mix.json")) as f:
        return json.load(f)


@cache
def world_average() -> float:
    with open(codecarbon_data("private_infra", "carbon_intensity_per_source.json")) as f:
        return float(json.load(f)["world_average"])


def _alpha3(code: str) -> str | None:
    if len(code) == 3:
        return code
    try:
        import pycountry  # a codecarbon dependency

        country = pycountry.countries.get(alpha_2=code)
    except (ImportError, KeyError, LookupError):
        return None
    return country.alpha_3 if country else None


def resolve_region(region: str | None) -> str:
    """Normalise a region to an ISO 3166 alpha-3 code or 'world'."""
    if not region or region.strip().lower() in (WORLD, "global"):
        return WORLD
    code = _alpha3(region.strip().upper())
    if code is None or code not in _energy_mix():
        raise InputError(f"unknown region '{region}': use an ISO country code such as FR, FRA or US, or 'world'")
    return code


def grams_per_kwh(region: str | None) -> float:
    code = resolve_region(region)
    return world_average() if code == WORLD else float(_energy_mix()[code]["carbon_intensity"])


def co2_grams(joules: float, region: str | None) -> float:
    return joules / J_PER_KWH * grams_per_kwh(region)


class EmissionsCsv:
    """codecarbon's own tracker over a whole run, writing its standard emissions CSV.

    Only used when the user asks for the file; runs offline (no geolocation call).
    """

    def __init__(self, path: str, region: str | None):
        code = resolve_region(region)
        if code == WORLD:
            raise InputError("--emissions-csv needs --region CC: codecarbon's offline tracker needs a country")
        self.path, self.country = os.path.abspath(path), code

    def __enter__(self) -> EmissionsCsv:
        from codecarbon import OfflineEmissionsTracker

        self._tracker = OfflineEmissionsTracker(
            country_iso_code=self.country,
            output_dir=os.path.dirname(self.path),
            output_file=os.path.basename(self.path),
            save_to_file=True,
            tracking_mode="process",
            log_level="error",
            allow_multiple_runs=True,
        )
        self._tracker.start()
        return self

    def __exit__(self, *exc) -> None:
        self._tracker.stop()
