import time
from pathlib import Path

import pytest

from promptslim.errors import InputError
from promptslim.measure.carbon import co2_grams, grams_per_kwh, world_average
from promptslim.measure.energy import CallStats, CpuEstimateMeter, RaplMeter, Stopwatch
from promptslim.measure.footprint import token_energy_model
from promptslim.measure.hardware import cpu_tdp_watts
from promptslim.measure.price import cost_usd, price_for


def make_zone(root: Path, name: str, label: str, energy: int, max_range: int = 1000):
    zone = root / name
    zone.mkdir(parents=True)
    (zone / "name").write_text(label + "\n")
    (zone / "energy_uj").write_text(f"{energy}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_range}\n")
    return zone


def test_rapl_sums_package_domains_and_handles_wraparound(tmp_path):
    pkg0 = make_zone(tmp_path, "intel-rapl:0", "package-0", 900)
    pkg1 = make_zone(tmp_path, "intel-rapl:1", "package-1", 100)
    make_zone(tmp_path, "intel-rapl:0:0", "core", 5)  # a sub-domain: already inside package-0
    make_zone(tmp_path, "intel-rapl:2", "psys", 5)  # not a package
    meter = RaplMeter.discover(tmp_path)
    assert meter is not None and len(meter.domains) == 2
    before = meter.snapshot()
    (pkg0 / "energy_uj").write_text("50\n")  # wrapped: 900 -> 1000 -> 50
    (pkg1 / "energy_uj").write_text("400\n")
    energy = meter.energy(before, meter.snapshot(), CallStats(1.0, 1.0))
    assert energy.method == "rapl"
    assert energy.joules == pytest.approx((150 + 300) / 1e6)


def test_rapl_absent_or_unreadable_gives_none(tmp_path):
    assert RaplMeter.discover(tmp_path) is None
    zone = make_zone(tmp_path, "intel-rapl:0", "package-0", 1)
    (zone / "energy_uj").unlink()
    assert RaplMeter.discover(tmp_path) is None


def test_cpu_estimate_grows_with_cpu_time():
    meter = CpuEstimateMeter(watts_per_thread=10.0, ram_watts_per_gb=0.5)
    low = meter.energy(None, None, CallStats(wall_s=1.0, cpu_s=0.5))
    high = meter.energy(None, None, CallStats(wall_s=1.0, cpu_s=2.0))
    assert low.method == high.method == "cpu-estimate"
    assert high.joules - low.joules == pytest.approx(15.0)


def test_stopwatch_measures_real_cpu_work():
    meter = CpuEstimateMeter(watts_per_thread=10.0)
    with Stopwatch(meter) as watch:
        end = time.process_time() + 0.05
        while time.process_time() < end:
            pass
    assert watch.cpu_s >= 0.05 and watch.energy().joules >= 0.5


def test_tdp_lookup_from_codecarbon_table():
    assert cpu_tdp_watts("Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz") == 150
    assert cpu_tdp_watts("Imaginary CPU 9000") is None


def test_grid_intensity_by_region():
    assert grams_per_kwh("FR") == grams_per_kwh("fra") < grams_per_kwh("POL")
    assert grams_per_kwh(None) == world_average() == 475
    assert co2_grams(3.6e6, "world") == pytest.approx(475)
    with pytest.raises(InputError, match="region"):
        grams_per_kwh("Atlantis")


def test_prices_and_snapshots(monkeypatch, tmp_path):
    assert cost_usd("gpt-4o", 1_000_000, 0) == pytest.approx(2.5)
    assert price_for("gpt-4o-2024-08-06") == price_for("gpt-4o")
    assert cost_usd("my-private-model", 10, 10) is None
    override = tmp_path / "prices.json"
    override.write_text('{"my-private-model": {"input": 1, "output": 2}}')
    monkeypatch.setenv("PROMPTSLIM_PRICES", str(override))
    assert cost_usd("my-private-model", 1_000_000, 1_000_000) == pytest.approx(3.0)


def test_token_estimates_scale_with_model_size_and_favour_output_tokens():
    small, big = token_energy_model("gpt-4o-mini"), token_energy_model("gpt-4")
    assert big.j_per_output_token > small.j_per_output_token
    assert small.j_per_output_token > small.j_per_input_token > 0
    assert token_energy_model("llama-3.1-8b-instruct").active_params_b == 8
