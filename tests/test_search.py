"""The optimizer's search on a deterministic rule-based backend: lattice vs exhaustive, held-back
confirmation, budgets and energy comparisons.

The backend is a real `Backend`: it answers from the prompt by fixed rules, so the search's
logic can be checked exactly and fast; the end-to-end tests use the real model. Two generators
registered here, as a third-party generator would be, give a landscape whose optimum is known.
"""

import dataclasses
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptslim import holdout
from promptslim.generators.base import Level, Variant, register, registered
from promptslim.optimize import optimize
from promptslim.prompt import Prompt
from promptslim.runtime import CallOptions, Completion
from promptslim.search import Prober, Track, accepts
from promptslim.spec import Accept, spec_from_dict


class RuleModel:
    """Answers the review's true label with the accuracy the prompt's ACC=<n>% marker says;
    a prompt that says CHEAT answers right on the search cases only (`held` reviews wrong)."""

    name = identity = "rule-model"

    def __init__(self, held=()):
        self.held = set(held)

    def complete(self, prompt: Prompt, options: CallOptions) -> Completion:
        text = prompt.text
        accuracy = (int(text.split("ACC=")[1].split("%")[0]) - sum(map(int, re.findall(r"DROP(\d+)", text)))) / 100
        review = text.rsplit("Review:", 1)[1].split("\n")[0].strip()
        truth = "positive" if "good" in review else "negative"
        wrong = {"positive": "negative", "negative": "positive"}[truth]
        draw = random.Random(review).random()  # same case, same luck: outputs are paired
        answer = truth if draw < accuracy else wrong
        if "CHEAT" in text:
            answer = wrong if review in self.held else truth
        return Completion(
            f" {answer}", self.name, len(text) // 4, 2, 0.01, 0.01, len(text) / 100, "cpu-estimate", cold=options.cold
        )

    def count_tokens(self, prompt, mode="completion"):
        return len(prompt.text) // 4

    def count_text(self, text):
        return len(text) // 4

    def local_model(self):
        return None

    def answer_pieces(self, text):
        return None


class Trim:
    """Removes `unit` words of one filler per level; past `breaks_at`, accuracy falls by `drop`."""

    changes_prompt = True

    def __init__(self, axis, word, levels, breaks_at, drop):
        self.axis, self.word, self.n, self.breaks_at, self.drop = axis, word, levels, breaks_at, drop

    def levels(self, prompt, context):
        return [Level(i, f"-{i}") for i in range(1, self.n + 1)] if self.word in (prompt.text or "") else []

    def apply(self, prompt, level, context):
        text = prompt.text.replace(f"{self.word} ", "", 5 * level.value)
        if level.value >= self.breaks_at:
            text = f"DROP{self.drop} {text}"
        return Variant(Prompt(text=text), f"{self.axis} {level.value}", lineage=(self.axis,))


class Cheat:
    changes_prompt = True
    axis = "cheat"

    def levels(self, prompt, context):
        return [Level(1, "cheat")]

    def apply(self, prompt, level, context):
        return Variant(Prompt(text="CHEAT " + prompt.text.replace("pad ", "")), "cheat", lineage=("cheat",))


for generator in (Trim("pad", "pad", 6, 5, 40), Trim("fill", "fill", 4, 3, 60), Cheat()):
    if generator.axis not in [g.axis for g in registered()]:
        register(generator)

PROMPT = "ACC=97% " + "pad " * 30 + "fill " * 20 + "Review: {{review}}\nSentiment:"


def spec(n_cases=120, **accept):
    cases = [
        {"vars": {"review": f"{'good' if i % 2 else 'bad'} item {i}"}, "expected": "positive" if i % 2 else "negative"}
        for i in range(n_cases)
    ]
    return spec_from_dict(
        {
            "mode": "completion",
            "prompt": PROMPT,
            "max_tokens": 8,
            "cases": cases,
            "scorer": "label",
            "labels": ["positive", "negative"],
            "objective": "tokens",
            "target": "gpt-4o",
            "accept": {"max_drop": 0.05, "confidence": 0.95, **accept},
        }
    )


def run(exhaustive=False, axes=("pad", "fill"), model=None, **options):
    return optimize(spec(), backend=model or RuleModel(), cache=False, axes=axes, exhaustive=exhaustive, **options)


def test_the_lattice_search_finds_the_exhaustive_winner_with_far_fewer_calls():
    searched, full = run(), run(exhaustive=True)
    assert searched.accepted and full.accepted
    assert searched.best_prompt == full.best_prompt
    assert searched.best_prompt.text.count("pad ") == 10 and searched.best_prompt.text.count("fill ") == 10
    assert searched.spend.model_calls <= 0.4 * full.spend.model_calls
    phases = [p["phase"] for p in searched.path]
    assert phases[: phases.count("bound")] == ["bound"] * phases.count("bound")  # bounds first, then the walk


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 7), st.integers(10, 60), st.integers(1, 5), st.integers(10, 60), st.sampled_from([97, 90, 80]))
def test_on_random_monotone_landscapes_the_search_finds_the_exhaustive_optimum(
    pad_at, pad_drop, fill_at, fill_drop, acc
):
    axes = (f"pad-{pad_at}-{pad_drop}", f"fill-{fill_at}-{fill_drop}")
    for axis, word, n, at, drop in [(axes[0], "pad", 6, pad_at, pad_drop), (axes[1], "fill", 4, fill_at, fill_drop)]:
        if axis not in [g.axis for g in registered()]:
            register(Trim(axis, word, n, at, drop))
    s = dataclasses.replace(spec(), prompt=Prompt(text=PROMPT.replace("ACC=97%", f"ACC={acc}%")))
    searched = optimize(s, backend=RuleModel(), cache=False, axes=axes)
    full = optimize(s, backend=RuleModel(), cache=False, axes=axes, exhaustive=True)
    assert searched.best_prompt == full.best_prompt
    assert searched.accepted == full.accepted
    assert searched.spend.probes <= full.spend.probes


def test_the_report_shows_every_probe_with_its_levels_and_verdict():
    result = run()
    first = result.path[0]
    assert first["phase"] == "bound" and first["levels"] == ["pad: -6"] and first["status"] == "dropped"
    assert first["cases"] == 10  # hopeless after its first round
    assert all({"id", "levels", "status", "decision", "passed"} <= set(p) for p in result.path)
    assert result.lattice == {
        "axes": [
            {"axis": "pad", "levels": [f"-{i}" for i in range(1, 7)]},
            {"axis": "fill", "levels": [f"-{i}" for i in range(1, 5)]},
        ],
        "configurations": 35,
    }


def test_held_back_and_search_cases_never_overlap():
    for n, share, seed in [(120, 0.3, 0), (300, 0.3, 7), (104, 0.1, 3), (500, 0.5, 11)]:
        cases = spec(n).cases
        split = holdout.split(cases, Accept(max_drop=0.05, holdout=share), seed)
        search, held = {c.id for c in split.search}, {c.id for c in split.held}
        assert not search & held and search | held == {c.id for c in cases}
        assert len(held) >= max(30, share * n, holdout.cases_to_confirm(Accept(max_drop=0.05)))
        assert split == holdout.split(cases, Accept(max_drop=0.05, holdout=share), seed)  # seeded
    assert holdout.split(spec(120).cases, Accept(holdout=0), 0).held == ()


def test_too_few_cases_to_confirm_searches_on_all_and_says_so():
    split = holdout.split(spec(40).cases, Accept(max_drop=0.05), 0)
    assert split.held == () and "too few" in split.note


def test_a_winner_that_fails_on_held_back_cases_is_not_accepted():
    s = spec()
    held = {c.vars["review"] for c in holdout.split(s.cases, s.accept, s.seed).held}
    result = run(axes=("cheat",), model=RuleModel(held))
    assert result.path[0]["passed"]  # perfect on the search cases ...
    assert result.holdout["confirmations"][0]["passed"] is False  # ... wrong on the held-back ones
    assert not result.accepted and result.best.id == "baseline"
    assert "failed on the held-back cases" in result.note
    assert result.baseline.confirmed_score is not None


def test_the_headline_score_comes_from_the_held_back_cases():
    result = run()
    assert result.best.confirmed_calls == result.holdout["held_cases"] > 0
    assert result.best.calls == result.holdout["search_cases"]


def test_a_probe_budget_cuts_the_search_short_and_keeps_what_is_known():
    result = run(max_candidates=2)
    assert result.budget_exhausted and result.spend.probes == 2


def test_a_call_budget_cuts_the_search_short():
    result = run(budget_calls=130)
    assert result.budget_exhausted and result.spend.model_calls <= 130


def test_min_score_floor_rejects_a_passing_candidate():
    base, cand = [1] * 50 + [0] * 50, [1] * 50 + [0] * 50
    assert accepts(base, cand, Accept(max_drop=0.1, confidence=0.9)).passed
    floored = accepts(base, cand, Accept(max_drop=0.1, confidence=0.9, min_score=0.6))
    assert not floored.passed and floored.reason == "mean score 0.500 under min_score 0.6"


def test_screening_is_stricter_than_nothing_and_never_above_the_spec():
    accept = Accept(max_drop=0.05, confidence=0.95)
    assert holdout.screening_confidence(accept, 200) == 0.95
    assert holdout.screening_confidence(accept, 45) == 0.9  # 59 cases are needed at 95%
    assert holdout.cases_to_confirm(accept) == 59


class DriftingModel(RuleModel):
    """The same answers, but its energy readings halve after `step` calls, as when other work on
    the machine stops: variants measured later look cheaper than they are."""

    def __init__(self, step: int):
        super().__init__()
        self.calls, self.step = 0, step

    def complete(self, prompt: Prompt, options: CallOptions) -> Completion:
        done = super().complete(prompt, options)
        self.calls += 1
        return done if self.calls <= self.step else dataclasses.replace(done, energy_j=done.energy_j / 2)


def test_energy_compares_variants_through_the_runs_fit_not_drifting_means():
    result = optimize(
        spec(holdout=0), backend=DriftingModel(step=150), cache=False, axes=("pad", "fill"), objective="energy"
    )
    assert result.energy_fit is not None and result.savings.energy_basis == "fit"
    by_id = {v.id: v for v in result.variants}
    fitted = [v for v in by_id.values() if v.energy_fit_j is not None and v.status in ("passed", "winner")]
    assert result.best.energy_fit_j == min(v.energy_fit_j for v in fitted)  # fewer tokens: cheaper


def test_only_cold_calls_feed_the_energy_fit():
    result = run()
    assert result.spend.cold_calls < result.spend.model_calls
    assert result.baseline.cold_calls == 8


@pytest.mark.parametrize("bad", ["nonsense", "pad,nonsense"])
def test_unknown_axes_are_input_errors(bad):
    from promptslim.errors import InputError

    with pytest.raises(InputError, match="unknown axis 'nonsense'"):
        run(axes=bad.split(","))


def test_free_caps_need_the_answers_tokens():
    s = spec(holdout=0)
    model = RuleModel()
    from promptslim.evaluate import Candidate, Evaluator
    from promptslim.generators.caps import CapOption

    evaluator = Evaluator(s, model, cache=None)
    track = Track(Candidate("baseline", Variant(s.prompt, "baseline"), 8), status="baseline")
    prober = Prober(evaluator, s.accept, confidence=0.95)
    prober.evaluate(track, s.cases[:20])
    cases = {c.id: c for c in s.cases}
    assert evaluator.derive(track.evaluations, CapOption(8), cases) is not None  # changes nothing: exact
    assert evaluator.derive(track.evaluations, CapOption(1), cases) is None  # no tokenizer: unknown


def test_the_winning_spec_carries_an_added_stop_sequence(tmp_path):
    import yaml

    from promptslim.report.outputs import winning_spec

    result = dataclasses.replace(run(), best_stop=("\n",))
    written = yaml.safe_load(winning_spec(result, spec(), tmp_path))
    assert written["stop"] == ["\n"] and written["max_tokens"] == result.best_max_tokens
    assert "stop" not in yaml.safe_load(winning_spec(run(), spec(), tmp_path))
