"""`optimize`: find the cheapest prompt variant that scores well enough, and prove it.

spec -> variants -> race (evaluate through the cache) -> selection -> OptimizeResult.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .cache import CallCache
from .errors import InputError
from .evaluate import Candidate, Evaluation, Evaluator
from .generate import variants
from .generators.base import Variant
from .measure.energy import Stopwatch, local_meter
from .measure.energy_fit import Fit
from .measure.price import price_for
from .prompt import Prompt
from .runtime import Backend, open_backend
from .search import DECODE_TO_PREFILL, Race, SearchResult, Track, fit_calls, pareto_front, weighted_tokens
from .spec import OBJECTIVES, Spec, load_spec
from .stats import mean_ci
from .tokens import LOCAL, count_text

MAX_CANDIDATES = 16
EXAMPLE_CASES = 20


@dataclass(frozen=True)
class Progress:
    """What the optimisation has done so far, for a progress display."""

    phase: str  # "variants" while generating, then "evaluating"
    calls: int  # evaluations done (new and cached)
    cached: int
    upper_bound: int  # evaluations an exhaustive run would need; racing needs fewer


@dataclass(frozen=True)
class VariantResult:
    id: str
    description: str
    prompt: str | list[dict]
    max_tokens: int
    score: float | None
    score_ci: tuple[float, float] | None
    prompt_tokens: float | None
    completion_tokens: float | None
    energy_j: float | None  # the mean of its measured calls
    energy_method: str
    co2_g: float | None
    cost_usd: float | None
    calls: int
    status: str
    decision: dict | None
    energy_fit_j: float | None = None  # the run's energy fit at its mean tokens (see Savings.energy_basis)


@dataclass(frozen=True)
class Spend:
    model_calls: int
    cached_calls: int
    energy_j: float  # new calls only; cached calls are not new spend
    exhaustive_calls: int  # what evaluating every candidate on every case takes
    wall_s: float
    generation_energy_j: float  # making the variants (pruning runs the local model)
    evaluation_energy_j: float  # every call used, cached ones at their original measurement


@dataclass(frozen=True)
class Savings:
    prompt_tokens_pct: float | None
    completion_tokens_pct: float | None
    energy_pct: float | None
    cost_pct: float | None
    co2_pct: float | None
    breakeven_calls: float | None  # optimisation energy / energy saved per call
    energy_basis: str = "measured"  # "fit" when energy and CO2 compare the run's fit, not the means


@dataclass(frozen=True)
class OptimizeResult:
    name: str
    objective: str
    target: str
    model: str
    region: str | None
    accepted: bool
    note: str
    budget_exhausted: bool
    acceptance: dict
    baseline: VariantResult
    best: VariantResult
    frontier: tuple[VariantResult, ...]
    variants: tuple[VariantResult, ...]
    spend: Spend
    savings: Savings
    cases: tuple[dict, ...]
    best_prompt: Prompt
    best_max_tokens: int
    energy_fit: Fit | None = None  # J = a*prompt + b*output + c over the run's calls

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["best_prompt"], data["best_max_tokens"]
        return data


def optimize(
    spec_or_path: Spec | str | Path,
    *,
    backend: Backend | None = None,
    objective: str | None = None,
    budget_calls: int | None = None,
    exhaustive: bool = False,
    concurrency: int = 1,
    cache: CallCache | str | Path | bool | None = None,
    max_candidates: int = MAX_CANDIDATES,
    on_progress: Callable[[Progress], None] | None = None,
) -> OptimizeResult:
    """Optimise a task spec's prompt; returns the baseline, the winner and the evidence."""
    spec = spec_or_path if isinstance(spec_or_path, Spec) else load_spec(spec_or_path)
    objective = objective or spec.objective
    _check(spec, objective, budget_calls, max_candidates)
    backend = backend or open_backend()
    cache = _open_cache(cache)
    started = time.perf_counter()
    count = _counter(spec.target, backend)
    notify = on_progress or (lambda progress: None)
    notify(Progress("variants", 0, 0, 0))
    with Stopwatch(local_meter()) as watch:
        candidates = make_candidates(spec, count, backend, max_candidates)
    generation_j = watch.energy().joules
    upper_bound = (1 + len(candidates)) * len(spec.cases)
    done = {"calls": 0, "cached": 0}

    def on_call(evaluation: Evaluation) -> None:
        done["calls"] += 1
        done["cached"] += evaluation.cached
        notify(Progress("evaluating", done["calls"], done["cached"], upper_bound))

    baseline = Candidate("baseline", Variant(spec.prompt, "baseline: the spec's prompt"), spec.max_tokens)
    prompt_tokens = {c.id: float(sum(count(p) for p in c.prompt.parts())) for c in [baseline, *candidates]}
    evaluator = Evaluator(spec, backend, cache, concurrency=concurrency, on_call=on_call)
    race = Race(evaluator, spec.accept, objective, budget_calls=budget_calls)
    search = race.run(
        baseline,
        candidates,
        spec.cases,
        prompt_tokens=prompt_tokens,
        output_weight=_output_weight(objective, spec.target),
        seed=spec.seed,
        exhaustive=exhaustive,
    )
    spend = Spend(
        model_calls=evaluator.model_calls,
        cached_calls=evaluator.cached_calls,
        energy_j=evaluator.new_energy_j,
        exhaustive_calls=upper_bound,
        wall_s=time.perf_counter() - started,
        generation_energy_j=generation_j,
        evaluation_energy_j=sum(e.energy_j for t in [search.baseline, *search.tracks] for e in t.evaluations),
    )
    return _result(spec, objective, backend, search, spend)


def _check(spec: Spec, objective: str, budget_calls: int | None, max_candidates: int) -> None:
    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective '{objective}': use one of {', '.join(OBJECTIVES)}")
    if objective == "cost" and (spec.target == LOCAL or price_for(spec.target) is None):
        raise InputError(
            f"objective cost needs a target with a known price, not '{spec.target}': set target: gpt-4o or add a price"
        )
    if budget_calls is not None and budget_calls < 1:
        raise InputError(f"--budget-calls {budget_calls}: must be at least 1")
    if max_candidates < 1:
        raise InputError(f"--max-candidates {max_candidates}: must be at least 1")


def _open_cache(cache) -> CallCache | None:
    if cache is False:
        return None
    if isinstance(cache, CallCache):
        return cache
    return CallCache(cache if cache not in (None, True) else None)


def _counter(target: str, backend) -> Callable[[str], int]:
    if target == LOCAL and hasattr(backend, "tokenize"):
        return lambda s: len(backend.tokenize(s, add_bos=False)) if s else 0
    return lambda s: count_text(s, target if target != LOCAL else "gpt-4o") if s else 0


def _output_weight(objective: str, target: str) -> float:
    if objective == "tokens":
        return 1.0
    if objective == "cost":
        price = price_for(target)
        return price.output_per_m / price.input_per_m if price and price.input_per_m else 4.0
    return DECODE_TO_PREFILL


def make_candidates(spec: Spec, count, backend, limit: int) -> list[Candidate]:
    """The generators' variants, spread over the range of estimated cost when there are many."""
    prune_llm = _prune_llm(backend)
    found = list(
        variants(spec.prompt, max_tokens=spec.max_tokens, labels=spec.labels, count=count, prune_llm=prune_llm)
    )
    caps = {id(v): v.max_tokens or spec.max_tokens for v in found}
    weight = DECODE_TO_PREFILL
    found.sort(key=lambda v: weighted_tokens(sum(count(p) for p in v.prompt.parts()), caps[id(v)], weight))
    if len(found) > limit:
        picks = sorted({round(i * (len(found) - 1) / max(1, limit - 1)) for i in range(limit)})
        found = [found[i] for i in picks]
    return [Candidate(f"v{i + 1}", v, caps[id(v)]) for i, v in enumerate(found)]


def _prune_llm(backend):
    """Pruning needs a local GGUF model: the backend's own, else the embedded default."""
    from .compress import prune_llm

    try:
        return prune_llm(getattr(backend, "path", None))
    except Exception:  # no local model available: the other generators still run
        return None


def _variant_result(track: Track, confidence: float, energy: Fit | None) -> VariantResult:
    scores = track.scores()
    return VariantResult(
        id=track.candidate.id,
        description=track.candidate.description,
        prompt=track.candidate.prompt.to_json(),
        max_tokens=track.candidate.max_tokens,
        score=sum(scores) / len(scores) if scores else None,
        score_ci=mean_ci(scores, confidence) if scores else None,
        prompt_tokens=track.mean("prompt_tokens"),
        completion_tokens=track.mean("completion_tokens"),
        energy_j=track.mean("energy_j"),
        energy_method=track.energy_method(),
        co2_g=track.mean("co2_g"),
        cost_usd=track.mean("cost_usd"),
        calls=len(track.evaluations),
        status=track.status,
        decision=asdict(track.decision) if track.decision else None,
        energy_fit_j=track.cost("energy", fit=energy) if energy and track.evaluations else None,
    )


def _pct(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before == 0:
        return None
    return (before - after) / before * 100


def _result(spec: Spec, objective: str, backend, search: SearchResult, spend: Spend) -> OptimizeResult:
    confidence = spec.accept.confidence
    tracks = [search.baseline, *search.tracks]
    energy = fit_calls([e for t in tracks for e in t.evaluations], "energy_j")
    base = _variant_result(search.baseline, confidence, energy)
    best = _variant_result(search.winner, confidence, energy) if search.winner is not search.baseline else base
    everything = [base] + [_variant_result(t, confidence, energy) for t in search.tracks]
    complete = [search.baseline] + [t for t in search.tracks if len(t.evaluations) == len(search.case_order)]
    frontier_ids = {t.candidate.id for t in pareto_front(complete, objective, search.fit)}
    accepted = search.winner is not search.baseline
    # energy and CO2 (proportional to it) compare the fit when there is one: the means carry drift
    before_j, after_j = (base.energy_fit_j, best.energy_fit_j) if energy else (base.energy_j, best.energy_j)
    saved_j = (before_j or 0) - (after_j or 0)
    savings = Savings(
        prompt_tokens_pct=_pct(base.prompt_tokens, best.prompt_tokens),
        completion_tokens_pct=_pct(base.completion_tokens, best.completion_tokens),
        energy_pct=_pct(before_j, after_j),
        cost_pct=_pct(base.cost_usd, best.cost_usd),
        co2_pct=_pct(before_j, after_j) if energy else _pct(base.co2_g, best.co2_g),
        breakeven_calls=(spend.evaluation_energy_j + spend.generation_energy_j) / saved_j
        if accepted and saved_j > 0
        else None,
        energy_basis="fit" if energy else "measured",
    )
    return OptimizeResult(
        name=spec.name,
        objective=objective,
        target=spec.target,
        model=backend.name,
        region=spec.region,
        accepted=accepted,
        note=_note(search, best, objective),
        budget_exhausted=search.budget_exhausted,
        acceptance={
            "max_drop": spec.accept.max_drop,
            "min_score": spec.accept.min_score,
            "confidence": spec.accept.confidence,
            "method": _method(search),
        },
        baseline=base,
        best=best,
        frontier=tuple(v for v in everything if v.id in frontier_ids),
        variants=tuple(everything),
        spend=spend,
        savings=savings,
        cases=_examples(search),
        best_prompt=search.winner.candidate.prompt,
        best_max_tokens=search.winner.candidate.max_tokens,
        energy_fit=energy,
    )


def _method(search: SearchResult) -> str:
    decided = [t.decision for t in search.tracks if t.decision]
    return decided[0].method if decided else "n/a"


def _note(search: SearchResult, best: VariantResult, objective: str) -> str:
    if search.winner is search.baseline:
        why = " (the call budget ran out first)" if search.budget_exhausted else ""
        return f"No variant was cheaper and passed the acceptance test{why}; keeping the baseline."
    return f"{best.id} ({best.description}) passed the acceptance test and is the cheapest by {objective}."


def _examples(search: SearchResult) -> tuple[dict, ...]:
    best = {e.case_id: e for e in search.winner.evaluations}
    out = []
    for case, base in zip(search.case_order, search.baseline.evaluations):
        out.append(
            {
                "id": case.id,
                "vars": dict(case.vars),
                "expected": case.expected,
                "baseline_output": base.text,
                "best_output": best[case.id].text if case.id in best else None,
            }
        )
        if len(out) == EXAMPLE_CASES:
            break
    return tuple(out)
