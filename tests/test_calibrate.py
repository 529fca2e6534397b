"""The fitted energy model of the local model: the fit, its storage, and `audit --target local`."""

import json

import pytest

from promptslim.errors import InputError
from promptslim.measure import calibrate as cal


def points(a: float, b: float, c: float) -> list[cal.Point]:
    return [cal.Point(p, o, a * p + b * o + c, 0.1) for p in (32, 128, 512) for o in (8, 32, 64)]


def test_the_fit_recovers_the_coefficients():
    fit = cal.fit(points(0.002, 0.05, 0.3))
    assert (fit.j_per_input_token, fit.j_per_output_token, fit.j_per_call) == pytest.approx((0.002, 0.05, 0.3))
    assert fit.r2 == pytest.approx(1.0)


def test_the_fit_needs_two_lengths_of_each_kind():
    with pytest.raises(InputError, match="two prompt lengths"):
        cal.fit([cal.Point(32, o, 1.0 + o, 0.1) for o in (8, 16, 32)])


def test_fits_are_stored_per_machine_and_model(tmp_path):
    fit = cal.fit(points(0.001, 0.02, 0.5))
    stored = cal.Calibration(
        fit.j_per_input_token,
        fit.j_per_output_token,
        fit.j_per_call,
        machine="host / cpu",
        model="gguf:sha256:aa",
        model_name="m.gguf",
        r2=fit.r2,
        energy_method="cpu-estimate",
        points=tuple(points(0.001, 0.02, 0.5)),
        created="2025-01-01",
    )
    path = cal.save(stored, tmp_path)
    assert path.parent == tmp_path / "calibration"
    assert cal.load("gguf:sha256:aa", "host / cpu", tmp_path) == stored
    assert cal.load("gguf:sha256:bb", "host / cpu", tmp_path) is None  # another model
    assert cal.load("gguf:sha256:aa", "other / cpu", tmp_path) is None  # another machine
    assert stored.joules(100, 10) == pytest.approx(0.001 * 100 + 0.02 * 10 + 0.5)


@pytest.mark.slow
def test_calibrate_stores_a_fit_that_audit_uses_for_the_local_target(cli, tmp_path):
    env = {"PROMPTSLIM_CACHE_DIR": str(tmp_path / "cache")}
    proc = cli("calibrate", "--prompt-tokens", "8,48", "--output-tokens", "1,6", "--json", env=env)
    assert proc.returncode == 0, proc.err
    fitted = json.loads(proc.out)
    assert len(fitted["points"]) == 4 and fitted["energy_method"] and fitted["j_per_output_token"] != 0
    assert list((tmp_path / "cache" / "calibration").glob("*.json"))
    (tmp_path / "p.txt").write_text("Please answer in one word: is the sky blue?")
    report = json.loads(cli("audit", str(tmp_path / "p.txt"), "--target", "local", "--format", "json", env=env).out)
    model = report["targets"][0]["energy_model"]
    assert model["source"] == "calibration" and model["j_per_output_token"] == fitted["j_per_output_token"]
    assert report["prompts"][0]["energy_model"] == "calibration" and report["prompts"][0]["target"] == "local"


def test_the_fit_keeps_every_coefficient_non_negative():
    # joules that fall with output length: least squares would give output tokens negative energy
    noisy = [cal.Point(p, o, 0.01 * p + 1.0 - 0.001 * o, 0.1) for p in (32, 128, 512) for o in (8, 32, 64)]
    fit = cal.fit(noisy)
    assert fit.j_per_output_token == 0.0 and fit.j_per_input_token > 0 and fit.j_per_call > 0


def test_a_run_fit_with_one_output_length_still_ranks_prompts_by_length():
    from promptslim.measure.energy_fit import fit

    run = fit([100, 200, 300, 400], [1, 1, 1, 1], [2.1, 3.9, 6.2, 7.8])
    assert run.joules(150, 1) < run.joules(250, 1)
    assert run.joules(100, 1) + run.joules(400, 1) == pytest.approx(run.joules(250, 1) * 2)
