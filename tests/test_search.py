"""Racing selection against exhaustive evaluation, on a deterministic rule-based backend.

The backend is a real `Backend`: it answers from the prompt by fixed rules, so the search's
logic can be checked exactly and fast; the end-to-end tests use the real model.
"""

import dataclasses
import random

from promptslim.evaluate import Candidate, Evaluator
from promptslim.generators.base import Variant
from promptslim.prompt import Prompt
from promptslim.runtime import CallOptions, Completion
from promptslim.search import Race
from promptslim.spec import Accept, spec_from_dict


class RuleModel:
    """Answers the review's true label with the accuracy the prompt's ACC=<n>% marker says."""

    name = identity = "rule-model"

    def complete(self, prompt: Prompt, options: CallOptions) -> Completion:
        text = prompt.text
        accuracy = int(text.split("ACC=")[1].split("%")[0]) / 100
        review = text.rsplit("Review:", 1)[1]
        truth = "positive" if "good" in review else "negative"
        wrong = {"positive": "negative", "negative": "positive"}[truth]
        draw = random.Random(review).random()  # same case, same luck: outputs are paired
        answer = truth if draw < accuracy else wrong
        return Completion(f" {answer}", self.name, len(text) // 4, 2, 0.01, 0.01, len(text) / 100, "cpu-estimate")

    def count_tokens(self, prompt, mode="completion"):
        return len(prompt.text) // 4


def spec(n_cases=100):
    cases = [
        {"vars": {"review": f"{'good' if i % 2 else 'bad'} item {i}"}, "expected": "positive" if i % 2 else "negative"}
        for i in range(n_cases)
    ]
    return spec_from_dict(
        {
            "mode": "completion",
            "prompt": "ACC=96% " + "padding " * 60 + "Review: {{review}}\nSentiment:",
            "max_tokens": 8,
            "cases": cases,
            "scorer": "label",
            "labels": ["positive", "negative"],
            "objective": "tokens",
            "target": "gpt-4o",
            "accept": {"max_drop": 0.05, "confidence": 0.95},
        }
    )


def candidates():
    # (accuracy, padding words): cheaper candidates are worse, until one is both cheap and good
    shapes = [(40, 0), (60, 5), (70, 10), (80, 15), (95, 20), (96, 30), (96, 40), (97, 50), (96, 55)]
    return [
        Candidate(
            f"v{i}",
            Variant(
                Prompt(text=f"ACC={a}% " + "padding " * p + "Review: {{review}}\nSentiment:"),
                f"acc {a} pad {p}",
                lineage=("test",),
            ),
            8,
        )
        for i, (a, p) in enumerate(shapes)
    ]


def race(exhaustive, budget=None, n_cases=100):
    s = spec(n_cases)
    evaluator = Evaluator(s, RuleModel(), cache=None)
    baseline = Candidate("baseline", Variant(s.prompt, "baseline"), 8)
    all_candidates = candidates()
    tokens = {c.id: len(c.prompt.text) / 4 for c in [baseline, *all_candidates]}
    result = Race(evaluator, s.accept, "tokens", budget_calls=budget).run(
        baseline, all_candidates, s.cases, prompt_tokens=tokens, output_weight=1.0, seed=0, exhaustive=exhaustive
    )
    return result, evaluator


def test_racing_picks_the_exhaustive_winner_with_far_fewer_calls():
    raced, racing_eval = race(exhaustive=False)
    full, full_eval = race(exhaustive=True)
    assert full.winner.candidate.id == raced.winner.candidate.id == "v4"
    assert racing_eval.model_calls <= 0.4 * full_eval.model_calls
    statuses = {t.candidate.id: t.status for t in raced.tracks}
    assert statuses["v0"] == "dropped"  # hopeless: dropped after its first round
    assert len(next(t for t in raced.tracks if t.candidate.id == "v0").evaluations) == 10
    assert statuses["v4"] == "winner"


def test_nothing_passes_keeps_the_baseline():
    s = spec(40)
    evaluator = Evaluator(s, RuleModel(), cache=None)
    baseline = Candidate("baseline", Variant(s.prompt, "baseline"), 8)
    bad = [c for c in candidates() if "acc 4" in c.description or "acc 6" in c.description]
    result = Race(evaluator, s.accept, "tokens").run(
        baseline, bad, s.cases, prompt_tokens={c.id: 1 for c in [baseline, *bad]}, output_weight=1.0, seed=0
    )
    assert result.winner is result.baseline


def test_budget_cuts_the_search_short():
    result, evaluator = race(exhaustive=False, budget=130)
    assert result.budget_exhausted and evaluator.model_calls == 130
    assert result.winner is result.baseline  # no candidate finished its cases


def test_min_score_floor_rejects_a_passing_candidate():
    from promptslim.search import accepts

    base, cand = [1] * 50 + [0] * 50, [1] * 50 + [0] * 50
    assert accepts(base, cand, Accept(max_drop=0.1, confidence=0.9)).passed
    floored = accepts(base, cand, Accept(max_drop=0.1, confidence=0.9, min_score=0.6))
    assert not floored.passed and floored.reason == "mean score 0.500 under min_score 0.6"


class DriftingModel(RuleModel):
    """The same answers, but its energy readings halve after `step` calls, as when other work on
    the machine stops: variants measured later look cheaper than they are."""

    def __init__(self, step: int):
        self.calls, self.step = 0, step

    def complete(self, prompt: Prompt, options: CallOptions) -> Completion:
        done = super().complete(prompt, options)
        self.calls += 1
        return done if self.calls <= self.step else dataclasses.replace(done, energy_j=done.energy_j / 2)


def test_energy_compares_variants_through_the_runs_fit_not_drifting_means():
    s = spec()
    baseline = Candidate("baseline", Variant(s.prompt, "baseline"), 8)
    tokens = {c.id: len(c.prompt.text) / 4 for c in [baseline, *candidates()]}
    evaluator = Evaluator(s, DriftingModel(step=600), cache=None)  # v4 runs before the step, v5 after
    result = Race(evaluator, s.accept, "energy").run(
        baseline, candidates(), s.cases, prompt_tokens=tokens, output_weight=1.0, seed=0, exhaustive=True
    )
    by_id = {t.candidate.id: t for t in result.tracks}
    assert by_id["v5"].mean("energy_j") < by_id["v4"].mean("energy_j")  # what the means alone would pick
    assert result.fit is not None and result.fit.calls == 1000
    assert result.winner.candidate.id == "v4"  # fewer tokens: cheaper on the same machine
