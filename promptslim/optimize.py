"""`optimize`: find the cheapest prompt variant that scores well enough, and prove it.

spec -> held-back split -> search over the variant lattice (`explore`) -> confirmation on the
held-back cases -> OptimizeResult, with the path the search took.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from . import holdout
from .cache import CallCache
from .compress import prune_llm
from .errors import InputError, PromptslimError
from .evaluate import Evaluation, Evaluator
from .explore import DEFAULT_AXES, Exploration, Explorer, ProbeRecord, cold_sample
from .generators.base import Context, registered
from .measure.costing import Costing
from .measure.energy_fit import Fit
from .measure.price import price_for
from .prompt import Prompt
from .runtime import Backend, open_backend
from .runtime.pool import EndpointPool, EndpointStats, parallel_calls
from .search import DECODE_TO_PREFILL, FITTED, Prober, Track, fit_calls, mean_of, pareto_front
from .spec import OBJECTIVES, Spec, load_spec
from .stats import mean_ci
from .tokens import LOCAL, text_counter

MAX_CANDIDATES = 24  # probes: prompt configurations raced on the search cases
EXAMPLE_CASES = 20


@dataclass(frozen=True)
class Progress:
    """What the optimisation has done so far, for a progress display."""

    phase: str  # "variants" while generating, then "evaluating"
    calls: int  # evaluations done (new and cached)
    cached: int
    upper_bound: int  # evaluations an exhaustive run would need; the search needs fewer
    probes: int = 0  # prompt configurations raced so far


@dataclass(frozen=True)
class VariantResult:
    id: str
    description: str
    prompt: str | list[dict]
    max_tokens: int
    score: float | None
    score_ci: tuple[float, float] | None
    prompt_tokens: float | None  # in the target's tokens
    completion_tokens: float | None
    energy_j: float | None  # the mean of its measured calls
    energy_method: str
    co2_g: float | None
    cost_usd: float | None
    calls: int
    status: str
    decision: dict | None
    energy_fit_j: float | None = None  # the run's energy fit at its mean tokens (see Savings.energy_basis)
    cold_calls: int = 0  # calls measured without a reused prompt prefix; energy_j is their mean
    model_prompt_tokens: float | None = None  # the model's own, which the energy fit counts
    generated_tokens: float | None = None  # the model's own output tokens, stop tokens included
    stop: tuple[str, ...] | None = None  # stop sequences, where they differ from the spec's
    confirmed_score: float | None = None  # on the held-back cases (baseline and winner)
    confirmed_score_ci: tuple[float, float] | None = None
    confirmed_calls: int = 0


@dataclass(frozen=True)
class Spend:
    model_calls: int
    cached_calls: int
    energy_j: float  # new calls only; cached calls are not new spend
    exhaustive_calls: int  # what evaluating every prompt configuration on every case takes
    wall_s: float
    generation_energy_j: float  # making the variants (pruning runs the local model)
    evaluation_energy_j: float  # every call used, cached ones at their original measurement
    probes: int = 0  # prompt configurations raced
    cold_calls: int = 0  # calls measured on their own (the rest reused a cached prompt prefix)


@dataclass(frozen=True)
class Savings:
    prompt_tokens_pct: float | None
    completion_tokens_pct: float | None
    energy_pct: float | None
    cost_pct: float | None
    co2_pct: float | None
    breakeven_calls: float | None  # optimisation energy / energy saved per call
    energy_basis: str = "measured"  # "fit" when energy and CO2 compare the run's fit, not the means
    generated_tokens_pct: float | None = None  # the model's own output tokens, stop tokens included


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
    energy_fit: Fit | None = None  # J = a*prompt + b*output + c over the run's cold calls
    best_stop: tuple[str, ...] | None = None  # None: the spec's stop sequences
    path: tuple[dict, ...] = ()  # every probe of the search, in order: levels, phase, verdict
    holdout: dict | None = None  # the held-back cases and what was confirmed on them
    lattice: dict | None = None  # the axes searched, their levels, and how many configurations
    endpoints: tuple[EndpointStats, ...] | None = None  # what each endpoint of a pool did; None: one backend

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["best_prompt"], data["best_max_tokens"], data["best_stop"]
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
    axes: Sequence[str] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> OptimizeResult:
    """Optimise a task spec's prompt; returns the baseline, the winner and the evidence.

    `max_candidates` caps the probes (prompt configurations raced); `axes` names the
    generators to search over (default: rules, shots, prune and brevity; caps always).
    `concurrency` is the calls in flight, on each endpoint when the backend is an EndpointPool
    (which also holds each of its endpoints to its own `concurrency`).
    """
    spec = spec_or_path if isinstance(spec_or_path, Spec) else load_spec(spec_or_path)
    objective = objective or spec.objective
    axes = tuple(axes) if axes is not None else DEFAULT_AXES
    _check(spec, objective, budget_calls, max_candidates, axes)
    backend = backend or open_backend()
    started = time.perf_counter()
    notify = on_progress or (lambda progress: None)
    notify(Progress("variants", 0, 0, 0))
    with _open_cache(cache) as calls_cache:
        explorer, evaluator = _explorer(
            spec, objective, backend, calls_cache, concurrency, budget_calls, max_candidates, axes, exhaustive, notify
        )
        found = explorer.run()
    spend = _spend(found, evaluator, started)
    return _result(spec, objective, backend, found, spend)


def _explorer(
    spec, objective, backend, calls_cache, concurrency, budget_calls, max_candidates, axes, exhaustive, notify
):
    cases = holdout.split(spec.cases, spec.accept, spec.seed)
    cold = cold_sample(cases.search, spec.seed)
    done = {"calls": 0, "cached": 0, "probes": 0}
    upper = (1 + max_candidates) * len(cases.search) + 2 * len(cases.held)

    def on_call(evaluation: Evaluation) -> None:
        done["calls"] += 1
        done["cached"] += evaluation.cached
        notify(Progress("evaluating", done["calls"], done["cached"], upper, done["probes"]))

    def on_probe(record: ProbeRecord) -> None:
        done["probes"] += 1

    evaluator = Evaluator(
        spec, backend, calls_cache, concurrency=parallel_calls(backend, concurrency), on_call=on_call, cold_cases=cold
    )
    confidence = (
        spec.accept.confidence if not cases.held else holdout.screening_confidence(spec.accept, len(cases.search))
    )
    prober = Prober(evaluator, spec.accept, confidence=confidence, budget_calls=budget_calls)
    context = Context(
        count=text_counter(spec.target, backend),
        max_tokens=spec.max_tokens,
        labels=spec.labels,
        prune_llm=_prune_llm(backend) if {"prune", "instruction"} & set(axes) else None,
        rewriter=backend if "rewrite" in axes else None,
    )
    generators = [g for g in registered(axes) if g.changes_prompt]
    explorer = Explorer(
        spec,
        evaluator,
        prober,
        context,
        generators,
        cases,
        output_weight=_output_weight(objective, spec.target),
        probe_budget=max_candidates,
        exhaustive=exhaustive,
        on_probe=on_probe,
    )
    return explorer, evaluator


def _spend(found: Exploration, evaluator: Evaluator, started: float) -> Spend:
    calls = _calls(found)
    return Spend(
        model_calls=evaluator.model_calls,
        cached_calls=evaluator.cached_calls,
        energy_j=evaluator.new_energy_j,
        exhaustive_calls=found.lattice_size * len(found.split.search) + 2 * len(found.split.held),
        wall_s=time.perf_counter() - started,
        generation_energy_j=found.generation_j,
        evaluation_energy_j=sum(e.energy_j for e in calls),
        probes=len(found.probes),
        cold_calls=sum(1 for e in calls if e.cold and e.error is None),
    )


def _calls(found: Exploration) -> list[Evaluation]:
    """Every model call of the run (cached ones included), once each."""
    tracks = [found.baseline, *(p.track for p in found.probes if p.track)]
    tracks += [t for c in found.confirmations for t in (c.track,)]
    if found.confirmations:
        tracks.append(found.confirmations[0].baseline)
    return [e for t in tracks for e in t.evaluations]


def _check(spec: Spec, objective: str, budget_calls: int | None, max_candidates: int, axes: Sequence[str]) -> None:
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
    known = [g.axis for g in registered()]
    unknown = [a for a in axes if a not in known]
    if unknown:
        raise InputError(f"--axes: unknown axis '{unknown[0]}': use some of {', '.join(known)}")


@contextmanager
def _open_cache(cache) -> Iterator[CallCache | None]:
    """The call cache to use, closed afterwards when it was opened here."""
    if cache is False:
        yield None
    elif isinstance(cache, CallCache):
        yield cache
    else:
        opened = CallCache(cache if cache not in (None, True) else None)
        try:
            yield opened
        finally:
            opened.close()


def _output_weight(objective: str, target: str) -> float:
    if objective == "tokens":
        return 1.0
    if objective == "cost":
        price = price_for(target)
        return price.output_per_m / price.input_per_m if price and price.input_per_m else 4.0
    return DECODE_TO_PREFILL


def _prune_llm(backend):
    """Pruning needs a local GGUF model: the backend's own, else the embedded default."""
    try:
        return prune_llm(backend.local_model())
    except PromptslimError:  # no local model available: the other generators still run
        return None


# --- the result ----------------------------------------------------------------------------


def _result(spec: Spec, objective: str, backend, found: Exploration, spend: Spend) -> OptimizeResult:
    energy = fit_calls(_calls(found), "energy_j")
    fit = fit_calls(_calls(found), FITTED[objective]) if objective in FITTED else None
    winner = found.winner or found.baseline
    if winner.cost(objective, fit) > found.baseline.cost(objective, fit):
        winner = found.baseline  # confirmed, but dearer once every call is in (fewer tokens at equal cost stay)
    accepted = winner is not found.baseline
    tracks = _tracks(found)
    variants = {id(t): _variant_result(t, spec, energy) for t in tracks}
    base, best = _confirmed(found, variants[id(found.baseline)], variants[id(winner)], spec, accepted)
    variants[id(found.baseline)], variants[id(winner)] = base, best
    complete = [t for t in tracks if len(t.evaluations) == len(found.order)]
    frontier_ids = {t.candidate.id for t in pareto_front(complete, objective, fit)}
    everything = [variants[id(t)] for t in tracks]
    return OptimizeResult(
        name=spec.name,
        objective=objective,
        target=spec.target,
        model=backend.name,
        region=spec.region,
        accepted=accepted,
        note=_note(found, best, objective, accepted),
        budget_exhausted=found.budget_exhausted,
        acceptance=_acceptance(spec, found),
        baseline=base,
        best=best,
        frontier=tuple(v for v in everything if v.id in frontier_ids),
        variants=tuple(everything),
        spend=spend,
        savings=_savings(base, best, energy, spend, accepted),
        cases=_examples(found, winner),
        best_prompt=winner.candidate.prompt,
        best_max_tokens=winner.candidate.max_tokens,
        best_stop=winner.candidate.stop,
        energy_fit=energy,
        path=tuple(_probe_entry(p, spec) for p in found.probes),
        holdout=_holdout(found, spec),
        lattice={
            "axes": [{"axis": axis, "levels": levels} for axis, levels in found.axes],
            "configurations": found.lattice_size,
        },
        endpoints=backend.stats() if isinstance(backend, EndpointPool) else None,
    )


def _tracks(found: Exploration) -> list[Track]:
    """The baseline, then each probe's result (its cheapest passing cap), in probe order."""
    tracks = [found.baseline]
    if found.baseline_best is not found.baseline:
        tracks.append(found.baseline_best)
    return tracks + [p.best for p in found.probes if p.best is not None]


def _complete(track: Track, found: Exploration) -> bool:
    return len(track.evaluations) == len(found.order)


def _variant_result(track: Track, spec: Spec, energy: Fit | None) -> VariantResult:
    scores = track.scores()
    measured = [e for e in track.calls() if e.measured]
    fitted = track.cost("energy", fit=energy) if energy and track.evaluations else None
    # answers derived under a cap were never measured: their CO2 is the fitted energy's
    co2 = Costing(region=spec.region).co2_g(fitted) if track.source and fitted else mean_of(measured, "co2_g")
    return VariantResult(
        id=track.candidate.id,
        description=_describe(track, spec),
        prompt=track.candidate.prompt.to_json(),
        max_tokens=track.candidate.max_tokens,
        score=sum(scores) / len(scores) if scores else None,
        score_ci=mean_ci(scores, spec.accept.confidence) if scores else None,
        prompt_tokens=track.mean("prompt_tokens"),
        completion_tokens=track.mean("completion_tokens"),
        energy_j=track.measured_energy(),
        energy_method=track.energy_method(),
        co2_g=co2,
        cost_usd=track.mean("cost_usd"),
        calls=len(track.calls()),
        status=track.status,
        decision=asdict(track.decision) if track.decision else None,
        energy_fit_j=fitted,
        cold_calls=len(measured),
        model_prompt_tokens=track.mean("model_prompt_tokens"),
        generated_tokens=track.mean("generated_tokens"),
        stop=track.candidate.stop,
    )


def _describe(track: Track, spec: Spec) -> str:
    if track.option is None:
        return track.candidate.description
    cap = track.option.describe(spec.max_tokens)
    return (
        cap
        if track.source is not None and track.source.status == "baseline"
        else f"{track.candidate.description}; {cap}"
    )


def _confirmed(
    found: Exploration, base: VariantResult, best: VariantResult, spec: Spec, accepted: bool
) -> tuple[VariantResult, VariantResult]:
    """The winner marked, and the baseline's and winner's scores on the held-back cases."""
    if accepted:
        best = replace(best, status="winner")
    if not found.confirmations:
        return base, best if accepted else base
    base = replace(base, **_held_scores(found.confirmations[0].baseline, spec))
    if accepted and found.confirmed is not None:
        best = replace(best, **_held_scores(found.confirmed.track, spec))
    return base, best if accepted else base


def _held_scores(track: Track, spec: Spec) -> dict:
    scores = track.scores()
    return {
        "confirmed_score": sum(scores) / len(scores) if scores else None,
        "confirmed_score_ci": mean_ci(scores, spec.accept.confidence) if scores else None,
        "confirmed_calls": len(scores),
    }


def _savings(base: VariantResult, best: VariantResult, energy: Fit | None, spend: Spend, accepted: bool) -> Savings:
    # energy and CO2 (proportional to it) compare the fit when there is one: the means carry drift
    before_j, after_j = (base.energy_fit_j, best.energy_fit_j) if energy else (base.energy_j, best.energy_j)
    saved_j = (before_j or 0) - (after_j or 0)
    spent = spend.evaluation_energy_j + spend.generation_energy_j
    return Savings(
        prompt_tokens_pct=_pct(base.prompt_tokens, best.prompt_tokens),
        completion_tokens_pct=_pct(base.completion_tokens, best.completion_tokens),
        energy_pct=_pct(before_j, after_j),
        cost_pct=_pct(base.cost_usd, best.cost_usd),
        co2_pct=_pct(before_j, after_j) if energy else _pct(base.co2_g, best.co2_g),
        breakeven_calls=spent / saved_j if accepted and saved_j > 0 else None,
        energy_basis="fit" if energy else "measured",
        generated_tokens_pct=_pct(base.generated_tokens, best.generated_tokens),
    )


def _pct(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before == 0:
        return None
    return (before - after) / before * 100


def _acceptance(spec: Spec, found: Exploration) -> dict:
    decided = [c.decision for c in found.confirmations] + [
        p.best.decision for p in found.probes if p.best is not None and p.best.decision
    ]
    return {
        "max_drop": spec.accept.max_drop,
        "min_score": spec.accept.min_score,
        "confidence": spec.accept.confidence,
        "screening_confidence": found.screen_confidence,
        "method": decided[0].method if decided else "n/a",
    }


def _note(found: Exploration, best: VariantResult, objective: str, accepted: bool) -> str:
    if accepted:
        where = " on the held-back cases" if found.confirmed else ""
        return f"{best.id} ({best.description}) passed the acceptance test{where} and is the cheapest by {objective}."
    if found.confirmations:
        tried = ", ".join(c.candidate_id for c in found.confirmations)
        return f"The cheapest passing variants ({tried}) failed on the held-back cases; keeping the baseline."
    why = " (the budget ran out first)" if found.budget_exhausted else ""
    return f"No variant was cheaper and passed the acceptance test{why}; keeping the baseline."


def _probe_entry(record: ProbeRecord, spec: Spec) -> dict:
    best = record.best
    return {
        "id": record.id,
        "phase": record.phase,
        "levels": list(record.levels) or ["baseline prompt"],
        "status": "not built" if record.track is None else record.track.status,
        "cases": len(record.track.evaluations) if record.track else 0,
        "score": record.track.mean("score") if record.track else None,
        "decision": asdict(record.track.decision) if record.track and record.track.decision else None,
        "best_cap": best.option.describe(spec.max_tokens) if best is not None and best.option else None,
        "passed": best is not None and best.status == "passed",
    }


def _holdout(found: Exploration, spec: Spec) -> dict:
    return {
        "search_cases": len(found.split.search),
        "held_cases": len(found.split.held),
        "note": found.split.note,
        "confirmations": [
            {
                "id": c.candidate_id,
                "baseline_score": c.baseline.mean("score"),
                "score": c.track.mean("score"),
                "passed": c.decision.passed,
                "decision": asdict(c.decision),
            }
            for c in found.confirmations
        ],
    }


def _examples(found: Exploration, winner: Track) -> tuple[dict, ...]:
    best = {e.case_id: e for e in winner.evaluations}
    out = []
    for case, base in zip(found.order, found.baseline.evaluations):
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
