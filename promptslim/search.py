"""Probing one candidate against the baseline: a race on the search cases, and free caps.

A probe runs the candidate on the search cases in one fixed, seeded order, a round at a time,
and stops as soon as even perfect answers on its remaining cases could not pass the screening
test. Its answers then give every tighter output cap and added stop sequence for free
(`Evaluator.derive`): the cheapest of those that still passes is the probe's result.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .evaluate import Candidate, Evaluation, Evaluator
from .generators.caps import CapOption
from .measure.energy_fit import Fit, fit
from .spec import Accept, Case
from .stats import Decision, noninferiority, optimistic_completion

ROUND_CASES = 10
DECODE_TO_PREFILL = 20.0  # output tokens cost this many input tokens, for ordering only
FIT_MIN_CALLS = 30  # measured calls before a run's energy fit replaces per-variant means
FITTED = {"energy": "energy_j", "co2": "co2_g"}  # objectives compared through the run's fit


@dataclass
class Track:
    """One candidate's evaluations and verdict."""

    candidate: Candidate
    evaluations: list[Evaluation] = field(default_factory=list)
    status: str = "not run"  # baseline | passed | failed | dropped | not run | winner | confirmed ...
    decision: Decision | None = None
    option: CapOption | None = None  # for a track derived from another's answers
    source: Track | None = None  # the track whose answers it was derived from

    def scores(self) -> list[float]:
        return [e.score for e in self.evaluations]

    def mean(self, attribute: str) -> float | None:
        return mean_of(self.evaluations, attribute)

    def calls(self) -> list[Evaluation]:
        """The model calls behind this track (its source's, when derived)."""
        return self.source.calls() if self.source is not None else self.evaluations

    def cost(self, objective: str, fit: Fit | None = None) -> float:
        """Cost per call under the objective: the mean of its calls, or for energy and CO2 the
        run's fit of that measure at its mean tokens (the model's own) when there is one."""
        if fit is not None and objective in FITTED and self.evaluations:
            return fit.joules(self.mean("model_prompt_tokens"), self.mean("generated_tokens"))
        if self.source is not None and objective in FITTED:
            return self.source.cost(objective)  # derived answers were never measured: at most their source's
        return mean_cost(self.evaluations, objective)

    def energy_method(self) -> str:
        methods = Counter(e.energy_method for e in self.calls() if e.energy_method != "none")
        return methods.most_common(1)[0][0] if methods else "none"

    def measured_energy(self) -> float | None:
        """Mean energy of its cold calls: what one call costs on its own."""
        return mean_of([e for e in self.calls() if e.measured], "energy_j") if not self.source else None


def mean_of(evaluations: Sequence[Evaluation], attribute: str) -> float | None:
    values = [getattr(e, attribute) for e in evaluations]
    if not values or any(v is None for v in values):
        return None
    return sum(values) / len(values)


def mean_cost(evaluations: Sequence[Evaluation], objective: str) -> float:
    if objective == "tokens":
        return (mean_of(evaluations, "prompt_tokens") or 0) + (mean_of(evaluations, "completion_tokens") or 0)
    value = mean_of(evaluations, {"energy": "energy_j", "cost": "cost_usd", "co2": "co2_g"}[objective])
    return float("inf") if value is None else value


def fit_calls(evaluations: Sequence[Evaluation], attribute: str = "energy_j") -> Fit | None:
    """A run's cold calls fitted as `attribute` = a*prompt + b*output + c in the model's own tokens
    (what its machine works through: stop tokens included); see measure.energy_fit. None while
    there are too few. Warm and derived evaluations, failed calls, and calls measured another
    way than most (cached from another machine, say) are left out."""
    measured = [e for e in evaluations if e.measured and getattr(e, attribute) is not None]
    methods = Counter(e.energy_method for e in measured)
    if len(measured) < FIT_MIN_CALLS or not methods:
        return None
    main = methods.most_common(1)[0][0]
    measured = [e for e in measured if e.energy_method == main]
    return fit(
        [e.model_prompt_tokens for e in measured],
        [e.generated_tokens for e in measured],
        [getattr(e, attribute) for e in measured],
    )


def case_order(cases: Sequence[Case], seed: int) -> list[Case]:
    order = list(cases)
    random.Random(seed).shuffle(order)
    return order


def accepts(base: Sequence[float], cand: Sequence[float], accept: Accept, confidence: float | None = None) -> Decision:
    """Paired non-inferiority at `confidence` (default the spec's), then the min_score floor."""
    decision = noninferiority(base, cand, margin=accept.max_drop, confidence=confidence or accept.confidence)
    mean = sum(cand) / len(cand)
    if decision.passed and mean < accept.min_score:
        return replace(decision, passed=False, reason=f"mean score {mean:.3f} under min_score {accept.min_score:g}")
    return decision


def weighted_tokens(prompt_tokens: float, output_tokens: float, output_weight: float) -> float:
    """A cost proxy before anything is measured: input tokens plus weighted output tokens."""
    return prompt_tokens + output_weight * output_tokens


class Prober:
    """Runs candidates within the call budget and screens them against the baseline."""

    def __init__(self, evaluator: Evaluator, accept: Accept, *, confidence: float, budget_calls: int | None = None):
        self.evaluator, self.accept, self.confidence = evaluator, accept, confidence
        self.budget = budget_calls
        self.exhausted = False  # the call budget ran out

    def evaluate(self, track: Track, cases: Sequence[Case]) -> bool:
        """Run cases for a track within the call budget; False once the budget is spent."""
        if self.budget is not None:
            room = max(0, self.budget - self.evaluator.model_calls)
            if room < len(cases):
                cases = cases[:room]  # cached calls cost nothing, but the budget cannot know ahead
                self.exhausted = True
        track.evaluations += self.evaluator.run(track.candidate, cases)
        return not self.exhausted

    def race(self, track: Track, order: Sequence[Case], base: Track, *, early_stop: bool = True) -> None:
        """Evaluate a round at a time; stop once even perfect remaining answers could not pass."""
        base_scores = base.scores()
        track.status = "racing"
        for start in range(0, len(order), ROUND_CASES):
            if not self.evaluate(track, order[start : start + ROUND_CASES]):
                track.status = "dropped" if track.evaluations else "not run"
                return
            hopeful = optimistic_completion(base_scores, track.scores())
            if early_stop and not self.screen(base_scores, hopeful).passed:
                track.decision = self.screen(base_scores[: len(track.evaluations)], track.scores())
                track.status = "dropped"
                return
        track.decision = self.screen(base_scores, track.scores())
        track.status = "passed" if track.decision.passed else "failed"

    def screen(self, base: Sequence[float], cand: Sequence[float]) -> Decision:
        return accepts(base, cand, self.accept, self.confidence)

    def cheapest_cap(self, track: Track, base: Track, options: Sequence[CapOption], cases: dict[str, Case]) -> Track:
        """The cheapest of the track's answers under each cap option that still passes; the
        track itself when none is cheaper (or the track did not finish its cases)."""
        best = track
        if track.status not in ("passed", "failed", "baseline"):
            return best
        base_scores = base.scores()
        for option in options:
            derived = self.evaluator.derive(track.evaluations, option, cases)
            if derived is None:
                continue
            stop = tuple(self.evaluator.spec.stop) + option.stop if option.stop else None
            capped = Candidate(track.candidate.id, track.candidate.variant, option.max_tokens, stop)
            decision = self.screen(base_scores, [e.score for e in derived])
            if decision.passed and _shorter(derived, best.evaluations, best.status == "failed"):
                best = Track(capped, derived, "passed", decision, option, track)
        return best


def _shorter(evaluations: Sequence[Evaluation], than: Sequence[Evaluation], than_failed: bool) -> bool:
    """Fewer output tokens (target's, then the model's own); anything passing beats a failure."""
    mine = (mean_of(evaluations, "completion_tokens"), mean_of(evaluations, "generated_tokens"))
    theirs = (mean_of(than, "completion_tokens"), mean_of(than, "generated_tokens"))
    return than_failed or mine < theirs


def pareto_front(tracks: Sequence[Track], objective: str, fit: Fit | None = None) -> list[Track]:
    """Tracks that no other beats on both cost (lower) and score (higher)."""
    points = [(t.cost(objective, fit), -(t.mean("score") or 0.0), t) for t in tracks]
    points.sort(key=lambda p: (p[0], p[1]))
    front, best_score = [], float("inf")
    for _cost, neg_score, track in points:
        if neg_score < best_score:
            front.append(track)
            best_score = neg_score
    return front
