"""Grid carbon intensity by region, from codecarbon's bundled energy-mix data (offline)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from ..errors import InputError
from ..files import FileProblem, check_output, read_text, shown, write_text
from .energy import J_PER_KWH
from .hardware import codecarbon_data

WORLD = "world"


def _emissions_columns() -> tuple[str, ...]:
    from codecarbon.output_methods.emissions_data import EmissionsData

    return tuple(f.name for f in dataclasses.fields(EmissionsData))


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
    """codecarbon's own tracker over a whole run, and its standard emissions CSV.

    Only used when the user asks for the file; runs offline (no geolocation call). The path is
    checked before the run (a folder that exists, not a folder itself, none of the run's
    inputs, an existing file only if it is an emissions CSV); codecarbon writes no file itself.
    The row is added atomically: a new file gets the header, an existing one keeps its rows
    and its column order.
    """

    def __init__(self, path: str, region: str | None, *, inputs: Iterable[str | Path] = ()):
        code = resolve_region(region)
        if code == WORLD:
            raise InputError("--emissions-csv needs --region CC: codecarbon's offline tracker needs a country")
        self.path = check_output(path, option="--emissions-csv", inputs=inputs)
        self.country = code
        self._header = self._existing_header()

    def _existing_header(self) -> list[str] | None:
        """The header of the file already there (None for a new or empty file)."""
        if not self.path.exists():
            return None
        try:
            text = read_text(self.path, fix="give a new file name")
        except FileProblem as exc:
            raise InputError(f"--emissions-csv {exc}") from None
        header = next(csv.reader(io.StringIO(text)), None)
        if header and sorted(header) != sorted(_emissions_columns()):
            raise InputError(
                f"--emissions-csv {shown(self.path)}: exists and is not a codecarbon emissions CSV: "
                "give a new file name (it is never replaced)"
            )
        return header or None

    def __enter__(self) -> EmissionsCsv:
        import logging

        from codecarbon import OfflineEmissionsTracker

        logging.getLogger("codecarbon").setLevel(logging.ERROR)  # its info lines are not ours to print
        self._tracker = OfflineEmissionsTracker(
            country_iso_code=self.country,
            output_methods=[],  # the CSV is written here, atomically
            tracking_mode="process",
            log_level="error",
            allow_multiple_runs=True,
        )
        self._tracker.start()
        return self

    def __exit__(self, *exc) -> None:
        self._tracker.stop()
        data = getattr(self._tracker, "final_emissions_data", None)
        if data is None or exc[0] is not None:  # a failed run is not a run to record
            return
        row = {k: v for k, v in data.values.items()}
        header = self._header or list(row)
        old = read_text(self.path, fix="give a new file name") if self._header else ""
        out = io.StringIO()
        writer = csv.DictWriter(out, header, extrasaction="ignore", lineterminator="\n")
        if not old:
            writer.writeheader()
        writer.writerow(row)
        write_text(self.path, (old if not old or old.endswith("\n") else old + "\n") + out.getvalue())
