"""Selection: the cheapest candidate that is not meaningfully worse than the baseline.

Racing: the baseline runs on every case; candidates run in order of estimated cost, on the
cases in one fixed seeded order, a round at a time. A candidate is dropped as soon as even a
perfect score on its remaining cases could not pass the acceptance rule, or as soon as it
costs more per call than a candidate that already passed. The first candidates to pass are
therefore the cheapest, and later ones only run while they might still be cheaper.
`exhaustive` runs every candidate on every case instead.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .evaluate import Candidate, Evaluation, Evaluator
from .measure.energy_fit import Fit, fit
from .spec import Accept, Case
from .stats import Decision, noninferiority, optimistic_completion

ROUND_CASES = 10
DECODE_TO_PREFILL = 20.0  # output tokens cost this many input tokens, for ordering only
FIT_MIN_CALLS = 30  # calls before a run's energy fit replaces per-variant means
FITTED = {"energy": "energy_j", "co2": "co2_g"}  # objectives compared through the run's fit


@dataclass
class Track:
    """One candidate's progress through the race."""

    candidate: Candidate
    evaluations: list[Evaluation] = field(default_factory=list)
    status: str = "not run"  # baseline | passed | failed | dropped | dominated | not run | winner
    decision: Decision | None = None

    def scores(self) -> list[float]:
        return [e.score for e in self.evaluations]

    def mean(self, attribute: str) -> float | None:
        return mean_of(self.evaluations, attribute)

    def cost(self, objective: str, cases: int | None = None, fit: Fit | None = None) -> float:
        """Cost per call under the objective (over the first `cases` cases if given): the mean of
        its calls, or for energy and CO2 the run's fit at its mean tokens when there is one."""
        evaluations = self.evaluations[:cases] if cases is not None else self.evaluations
        if fit is not None and objective in FITTED and evaluations:
            return fit.joules(mean_of(evaluations, "prompt_tokens"), mean_of(evaluations, "completion_tokens"))
        return mean_cost(evaluations, objective)

    def energy_method(self) -> str:
        methods = Counter(e.energy_method for e in self.evaluations if e.energy_method != "none")
        return methods.most_common(1)[0][0] if methods else "none"


def mean_of(evaluations: Sequence[Evaluation], attribute: str) -> float | None:
    values = [getattr(e, attribute) for e in evaluations]
    if not values or any(v is None for v in values):
        return None
    return sum(values) / len(values)


def fit_calls(evaluations: Sequence[Evaluation], attribute: str = "energy_j") -> Fit | None:
    """A run's calls fitted as `attribute` = a*prompt + b*output + c (see measure.energy_fit);
    None while there are too few calls. Failed calls, and calls measured another way than
    most (cached from another machine, say), are left out."""
    measured = [e for e in evaluations if e.error is None and getattr(e, attribute) is not None]
    methods = Counter(e.energy_method for e in measured)
    if len(measured) < FIT_MIN_CALLS or not methods:
        return None
    main = methods.most_common(1)[0][0]
    measured = [e for e in measured if e.energy_method == main]
    return fit(
        [e.prompt_tokens for e in measured],
        [e.completion_tokens for e in measured],
        [getattr(e, attribute) for e in measured],
    )


def mean_cost(evaluations: Sequence[Evaluation], objective: str) -> float:
    if objective == "tokens":
        return (mean_of(evaluations, "prompt_tokens") or 0) + (mean_of(evaluations, "completion_tokens") or 0)
    value = mean_of(evaluations, {"energy": "energy_j", "cost": "cost_usd", "co2": "co2_g"}[objective])
    return float("inf") if value is None else value


@dataclass
class SearchResult:
    baseline: Track
    tracks: list[Track]
    winner: Track  # the baseline when nothing passed
    budget_exhausted: bool
    case_order: list[Case]
    fit: Fit | None = None  # the objective's fit over the run's calls (energy and CO2)


def case_order(cases: Sequence[Case], seed: int) -> list[Case]:
    order = list(cases)
    random.Random(seed).shuffle(order)
    return order


def accepts(base: Sequence[float], cand: Sequence[float], accept: Accept) -> Decision:
    decision = noninferiority(base, cand, margin=accept.max_drop, confidence=accept.confidence)
    mean = sum(cand) / len(cand)
    if decision.passed and mean < accept.min_score:
        return replace(decision, passed=False, reason=f"mean score {mean:.3f} under min_score {accept.min_score:g}")
    return decision


def weighted_tokens(prompt_tokens: float, output_tokens: float, output_weight: float) -> float:
    """A cost proxy before anything is measured: input tokens plus weighted output tokens."""
    return prompt_tokens + output_weight * output_tokens


class Race:
    def __init__(self, evaluator: Evaluator, accept: Accept, objective: str, *, budget_calls: int | None = None):
        self.evaluator, self.accept, self.objective = evaluator, accept, objective
        self.budget = budget_calls
        self.exhausted = False
        self.tracks: list[Track] = []  # the baseline's and every candidate's, for the fit
        self._fitted: tuple[int, Fit | None] = (-1, None)

    def _room(self) -> int | None:
        if self.budget is None:
            return None
        return max(0, self.budget - self.evaluator.model_calls)

    def _evaluate(self, track: Track, cases: Sequence[Case]) -> bool:
        """Run cases for a track within the call budget; False once the budget is spent."""
        room = self._room()
        if room is not None and room < len(cases):
            cases = cases[:room]  # cached calls cost nothing, but the budget cannot know ahead
            self.exhausted = True
        track.evaluations += self.evaluator.run(track.candidate, cases)
        return not self.exhausted

    def run(
        self,
        baseline: Candidate,
        candidates: Sequence[Candidate],
        cases: Sequence[Case],
        *,
        prompt_tokens: dict[str, float],
        output_weight: float,
        seed: int,
        exhaustive: bool = False,
    ) -> SearchResult:
        order = case_order(cases, seed)
        base = Track(baseline, status="baseline")
        self._evaluate(base, order)
        self.evaluator.references = {e.case_id: e.text for e in base.evaluations}
        if len(base.evaluations) < len(order):
            return SearchResult(base, [Track(c) for c in candidates], base, True, order)
        self.tracks = [base]
        estimates = self._estimates(base, baseline, candidates, prompt_tokens, output_weight)
        tracks = [Track(c) for c in sorted(candidates, key=lambda c: estimates[c.id])]
        self.tracks += tracks
        base_scores = base.scores()
        best: Track | None = None
        for track in tracks:
            if self.exhausted:
                break
            if not exhaustive and best is not None and estimates[track.candidate.id] >= self.cost(best):
                continue  # cannot be cheaper than the candidate that already passed
            self._race(track, order, base_scores, best, exhaustive)
            if track.status == "passed" and (best is None or self.cost(track) < self.cost(best)):
                best = track
        # the cheapest under the final fit, which has seen every call
        best = min((t for t in tracks if t.status == "passed"), key=self.cost, default=None)
        winner = best if best is not None and self.cost(best) < self.cost(base) else base
        if winner is not base:
            winner.status = "winner"
        return SearchResult(base, tracks, winner, self.exhausted, order, self.fit())

    def fit(self) -> Fit | None:
        """The objective fitted over every call so far (energy and CO2 only), refitted as calls come in."""
        if self.objective not in FITTED:
            return None
        calls = sum(len(t.evaluations) for t in self.tracks)
        if self._fitted[0] != calls:
            self._fitted = (calls, fit_calls([e for t in self.tracks for e in t.evaluations], FITTED[self.objective]))
        return self._fitted[1]

    def cost(self, track: Track, cases: int | None = None) -> float:
        return track.cost(self.objective, cases, self.fit())

    def _estimates(
        self, base: Track, baseline: Candidate, candidates, prompt_tokens, output_weight
    ) -> dict[str, float]:
        """Estimated cost per call in the objective's units, scaled by the measured baseline."""
        output = base.mean("completion_tokens") or 0.0
        proxy = {
            c.id: weighted_tokens(prompt_tokens[c.id], min(c.max_tokens, output), output_weight) for c in candidates
        }
        base_proxy = weighted_tokens(prompt_tokens[baseline.id], output, output_weight)
        scale = self.cost(base) / base_proxy if base_proxy else 1.0
        return {cid: value * scale for cid, value in proxy.items()}

    def _race(
        self, track: Track, order: list[Case], base_scores: list[float], best: Track | None, exhaustive: bool
    ) -> None:
        track.status = "racing"
        for start in range(0, len(order), ROUND_CASES):
            if not self._evaluate(track, order[start : start + ROUND_CASES]):
                track.status = "not run" if not track.evaluations else "dropped"
                return
            if exhaustive:
                continue
            done = len(track.evaluations)
            if best is not None and self.cost(track) > self.cost(best, done):  # paired cases
                track.status = "dominated"
                return
            hopeful = optimistic_completion(base_scores, track.scores())
            if not accepts(base_scores, hopeful, self.accept).passed:
                track.decision = accepts(base_scores[: len(track.scores())], track.scores(), self.accept)
                track.status = "dropped"
                return
        track.decision = accepts(base_scores, track.scores(), self.accept)
        track.status = "passed" if track.decision.passed else "failed"


def pareto_front(tracks: Sequence[Track], objective: str, fit: Fit | None = None) -> list[Track]:
    """Fully evaluated tracks that no other beats on both cost (lower) and score (higher)."""
    points = [(t.cost(objective, fit=fit), -(t.mean("score") or 0.0), t) for t in tracks]
    points.sort(key=lambda p: (p[0], p[1]))
    front, best_score = [], float("inf")
    for _cost, neg_score, track in points:
        if neg_score < best_score:
            front.append(track)
            best_score = neg_score
    return front
