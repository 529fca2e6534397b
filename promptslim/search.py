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
from dataclasses import dataclass, field, replace
from typing import Sequence

from .evaluate import Candidate, Evaluation, Evaluator
from .spec import Accept, Case
from .stats import Decision, noninferiority, optimistic_completion

ROUND_CASES = 10
DECODE_TO_PREFILL = 20.0  # output tokens cost this many input tokens, for ordering only


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

    def cost(self, objective: str, cases: int | None = None) -> float:
        """Mean cost per call under the objective (over the first `cases` cases if given)."""
        evaluations = self.evaluations[:cases] if cases is not None else self.evaluations
        return mean_cost(evaluations, objective)

    def energy_method(self) -> str:
        methods = Counter(e.energy_method for e in self.evaluations if e.energy_method != "none")
        return methods.most_common(1)[0][0] if methods else "none"


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


@dataclass
class SearchResult:
    baseline: Track
    tracks: list[Track]
    winner: Track  # the baseline when nothing passed
    budget_exhausted: bool
    case_order: list[Case]


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

    def run(self, baseline: Candidate, candidates: Sequence[Candidate], cases: Sequence[Case], *,
            prompt_tokens: dict[str, float], output_weight: float, seed: int, exhaustive: bool = False) -> SearchResult:
        order = case_order(cases, seed)
        base = Track(baseline, status="baseline")
        self._evaluate(base, order)
        self.evaluator.references = {e.case_id: e.text for e in base.evaluations}
        if len(base.evaluations) < len(order):
            return SearchResult(base, [Track(c) for c in candidates], base, True, order)
        estimates = self._estimates(base, baseline, candidates, prompt_tokens, output_weight)
        tracks = [Track(c) for c in sorted(candidates, key=lambda c: estimates[c.id])]
        base_scores = base.scores()
        best: Track | None = None
        for track in tracks:
            if self.exhausted:
                break
            if not exhaustive and best is not None and estimates[track.candidate.id] >= best.cost(self.objective):
                continue  # cannot be cheaper than the candidate that already passed
            self._race(track, order, base_scores, best, exhaustive)
            if track.status == "passed" and (best is None or track.cost(self.objective) < best.cost(self.objective)):
                best = track
        winner = best if best is not None and best.cost(self.objective) < base.cost(self.objective) else base
        if winner is not base:
            winner.status = "winner"
        return SearchResult(base, tracks, winner, self.exhausted, order)

    def _estimates(self, base: Track, baseline: Candidate, candidates, prompt_tokens, output_weight) -> dict[str, float]:
        """Estimated cost per call in the objective's units, scaled by the measured baseline."""
        output = base.mean("completion_tokens") or 0.0
        proxy = {c.id: weighted_tokens(prompt_tokens[c.id], min(c.max_tokens, output), output_weight) for c in candidates}
        base_proxy = weighted_tokens(prompt_tokens[baseline.id], output, output_weight)
        scale = base.cost(self.objective) / base_proxy if base_proxy else 1.0
        return {cid: value * scale for cid, value in proxy.items()}

    def _race(self, track: Track, order: list[Case], base_scores: list[float], best: Track | None, exhaustive: bool) -> None:
        track.status = "racing"
        for start in range(0, len(order), ROUND_CASES):
            if not self._evaluate(track, order[start : start + ROUND_CASES]):
                track.status = "not run" if not track.evaluations else "dropped"
                return
            if exhaustive:
                continue
            done = len(track.evaluations)
            if best is not None and track.cost(self.objective) > best.cost(self.objective, done):  # paired cases
                track.status = "dominated"
                return
            hopeful = optimistic_completion(base_scores, track.scores())
            if not accepts(base_scores, hopeful, self.accept).passed:
                track.decision = accepts(base_scores[: len(track.scores())], track.scores(), self.accept)
                track.status = "dropped"
                return
        track.decision = accepts(base_scores, track.scores(), self.accept)
        track.status = "passed" if track.decision.passed else "failed"


def pareto_front(tracks: Sequence[Track], objective: str) -> list[Track]:
    """Fully evaluated tracks that no other beats on both cost (lower) and score (higher)."""
    points = [(t.cost(objective), -(t.mean("score") or 0.0), t) for t in tracks]
    points.sort(key=lambda p: (p[0], p[1]))
    front, best_score = [], float("inf")
    for cost, neg_score, track in points:
        if neg_score < best_score:
            front.append(track)
            best_score = neg_score
    return front
