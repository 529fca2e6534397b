"""The optimizer's search on one spec: baseline, lattice probes with free caps, confirmation.

cases -> search / held-back split -> the baseline on the search cases, and its cheapest cap
(free) -> the lattice of prompt axes (`lattice`), each probe a race on the search cases whose
answers then price every cap for free (`search`) -> the cheapest passing configuration,
confirmed by real calls on the held-back cases; when it fails there, the next one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from .evaluate import Candidate, Evaluator
from .generate import build
from .generators.base import Context, Generator, Level, Variant
from .generators.caps import CapOption, detect_format, token_levels
from .holdout import Split
from .lattice import Config, LatticeSearch
from .measure.energy import Stopwatch, local_meter
from .search import Prober, Track, accepts, case_order, weighted_tokens
from .spec import Spec
from .stats import Decision

COLD_CALLS = 8  # per candidate: a seeded sample of the search cases runs cold
MAX_CONFIRMATIONS = 3  # candidates tried on the held-back cases before the baseline stays
DEFAULT_AXES = ("rules", "instruction", "shots", "prune", "brevity")  # "rewrite" on request: it calls the model
PROBE_CAP_FLOOR = 16  # probes run at max(this, twice the baseline's longest answer) output tokens
FREE_CAP_STEPS = 32  # every cap up to this many tokens is priced, then the answers' own lengths


@dataclass
class ProbeRecord:
    id: str
    config: Config
    phase: str  # bound | search | every
    levels: tuple[str, ...]  # "axis: level" for each axis that is on
    track: Track | None  # None where the configuration could not be built
    best: Track | None  # its cheapest passing cap (derived), else the track itself


@dataclass
class Confirmation:
    candidate_id: str
    baseline: Track  # on the held-back cases
    track: Track
    decision: Decision


@dataclass
class Exploration:
    split: Split
    screen_confidence: float
    order: list  # the search cases in their seeded order
    baseline: Track
    baseline_best: Track  # the baseline's prompt with its cheapest passing cap
    axes: list[tuple[str, list[str]]]  # each axis and its level labels
    probes: list[ProbeRecord] = field(default_factory=list)
    confirmations: list[Confirmation] = field(default_factory=list)
    winner: Track | None = None  # None: the baseline stays
    budget_exhausted: bool = False
    lattice_size: int = 1  # prompt configurations, the baseline's included
    generation_j: float = 0.0  # energy spent making the variants

    @property
    def confirmed(self) -> Confirmation | None:
        return next((c for c in self.confirmations if c.decision.passed), None)


class Explorer:
    def __init__(
        self,
        spec: Spec,
        evaluator: Evaluator,
        prober: Prober,
        context: Context,
        generators: Sequence[Generator],
        split: Split,
        *,
        output_weight: float,
        probe_budget: int | None,
        exhaustive: bool = False,
        on_probe: Callable[[ProbeRecord], None] | None = None,
    ):
        self.spec, self.evaluator, self.prober, self.context = spec, evaluator, prober, context
        self.generators = list(generators)
        self.levels: list[list[Level]] = [g.levels(spec.prompt, context) for g in self.generators]
        self.split, self.output_weight = split, output_weight
        self.probe_budget, self.exhaustive = probe_budget, exhaustive
        self.on_probe = on_probe or (lambda record: None)
        self.cases = {c.id: c for c in spec.cases}
        self._variants: dict[Config, Variant | None] = {}
        self.meter, self.generation_j = local_meter(), 0.0  # what making the variants cost
        self._records: dict[Config, ProbeRecord] = {}

    def run(self) -> Exploration:
        order = case_order(self.split.search, self.spec.seed)
        base = Track(
            Candidate("baseline", Variant(self.spec.prompt, "baseline: the spec's prompt"), self.spec.max_tokens)
        )
        base.status = "baseline"
        done = self.prober.evaluate(base, order)
        self.evaluator.references = {e.case_id: e.text for e in base.evaluations}
        found = Exploration(self.split, self.prober.confidence, order, base, base, self._axes())
        found.lattice_size = _size(self.levels)
        if not done:
            found.budget_exhausted = True
            return found
        self.base, self.order = base, order
        self.options = self._cap_options(base)
        found.baseline_best = self.prober.cheapest_cap(base, base, self.options, self.cases)
        if found.baseline_best is not base:  # the baseline's prompt with a cap: a variant of its own
            found.baseline_best.candidate = replace(found.baseline_best.candidate, id="caps")
        self.base_output = found.baseline_best.mean("completion_tokens") or 0.0
        self.probe_cap = min(self.spec.max_tokens, max(PROBE_CAP_FLOOR, 2 * _longest(base)))
        self._choose(found)
        found.probes = list(self._records.values())
        found.generation_j = self.generation_j
        found.budget_exhausted = found.budget_exhausted or self.prober.exhausted
        return found

    # --- the lattice ------------------------------------------------------------------------

    def _choose(self, found: Exploration) -> None:
        """Walk the passing configurations cheapest first; confirm each until one holds."""
        search = LatticeSearch(
            [len(levels) for levels in self.levels],
            self._probe,
            self._cost,
            estimate=self._estimate,
            budget=None if self.exhaustive else self.probe_budget,
        )
        self.lattice = search
        walk = search.every() if self.exhaustive else search.passing()
        for config in walk:
            candidate = found.baseline_best if config == search.origin else self._records[config].best
            if candidate is self.base or self.prober.exhausted:
                break  # nothing cheaper passed: the baseline stays
            if not self.split.held:
                found.winner = candidate
                break
            if self._confirm(candidate, found):
                found.winner = candidate
                break
            if len(found.confirmations) >= MAX_CONFIRMATIONS or self.prober.exhausted:
                break
        found.budget_exhausted = search.exhausted
        for probe in search.probes:
            self._records[probe.config].phase = probe.phase

    def _probe(self, config: Config) -> bool | None:
        variant = self._variant(config)
        record_id = f"p{len(self._records) + 1}"
        if variant is None:
            self._records[config] = ProbeRecord(record_id, config, "", self._labels(config), None, None)
            return None
        track = Track(Candidate(record_id, variant, self.probe_cap))
        self.prober.race(track, self.order, self.base, early_stop=not self.exhaustive)
        best = self.prober.cheapest_cap(track, self.base, self.options, self.cases)
        record = ProbeRecord(record_id, config, "", self._labels(config), track, best)
        self._records[config] = record
        self.on_probe(record)
        if self.prober.exhausted:
            self.lattice.exhausted = True
        return best.status == "passed"

    def _variant(self, config: Config) -> Variant | None:
        if config not in self._variants:
            chosen = {g.axis: levels[i - 1] for g, levels, i in zip(self.generators, self.levels, config) if i}
            with Stopwatch(self.meter) as watch:  # pruning runs the local model
                self._variants[config] = build(self.spec.prompt, chosen, self.context, self.generators)
            self.generation_j += watch.energy().joules
        return self._variants[config]

    def _cost(self, config: Config) -> float:
        prompt = self.spec.prompt  # the origin's: the spec's own prompt
        if any(config):
            variant = self._variant(config)
            if variant is None:
                return self._estimate(config)
            prompt = variant.prompt
        return weighted_tokens(self._tokens(prompt), self._output_estimate(), self.output_weight)

    def _estimate(self, config: Config) -> float:
        """Without pruning's model pass: the other axes' exact tokens times the kept rate."""
        prune = next((i for i, g in enumerate(self.generators) if g.axis == "prune"), None)
        if prune is None or not config[prune]:
            return self._cost(config)
        rate = self.levels[prune][config[prune] - 1].value
        rest = config[:prune] + (0,) + config[prune + 1 :]
        variant = self._variant(rest) if any(rest) else Variant(self.spec.prompt, "original")
        tokens = self._tokens((variant or Variant(self.spec.prompt, "")).prompt) * rate
        return weighted_tokens(tokens, self._output_estimate(), self.output_weight)

    def _tokens(self, prompt) -> int:
        return sum(self.context.count(part) for part in prompt.parts())

    def _output_estimate(self) -> float:
        """Output tokens after free caps, as on the baseline: what ordering can know before a probe."""
        return self.base_output

    # --- confirmation -----------------------------------------------------------------------

    def _confirm(self, candidate: Track, found: Exploration) -> bool:
        """Run the candidate, with its cap, for real on the held-back cases, and test it there."""
        held = case_order(self.split.held, self.spec.seed)
        if not found.confirmations:
            self._held_base = Track(self.base.candidate, status="baseline")
            if not self.prober.evaluate(self._held_base, held):
                return False
            self.evaluator.references.update({e.case_id: e.text for e in self._held_base.evaluations})
        track = Track(candidate.candidate)
        if not self.prober.evaluate(track, held):
            return False
        decision = accepts(self._held_base.scores(), track.scores(), self.spec.accept)
        track.decision, track.status = decision, "confirmed" if decision.passed else "not confirmed"
        found.confirmations.append(Confirmation(candidate.candidate.id, self._held_base, track, decision))
        return decision.passed

    # --- caps and labels --------------------------------------------------------------------

    def _cap_options(self, base: Track) -> list[CapOption]:
        """Caps below the spec's, and a newline stop where answers run past their first line."""
        longest = _longest(base)
        fmt = detect_format("\n".join(self.spec.prompt.parts()), self.spec.labels)
        sizes = set(range(1, min(longest, FREE_CAP_STEPS) + 1))
        sizes |= {e.generated_tokens for e in base.evaluations} | set(token_levels(fmt, self.spec.max_tokens))
        caps = sorted(n for n in sizes if 1 <= n < self.spec.max_tokens)
        options = [CapOption(n) for n in caps]
        if "\n" not in self.spec.stop and any("\n" in e.text.strip() for e in base.evaluations):
            options += [CapOption(n, ("\n",)) for n in [*caps, self.spec.max_tokens]]
        return options

    def _labels(self, config: Config) -> tuple[str, ...]:
        return tuple(
            f"{g.axis}: {levels[i - 1].label}" for g, levels, i in zip(self.generators, self.levels, config) if i
        )

    def _axes(self) -> list[tuple[str, list[str]]]:
        return [(g.axis, [level.label for level in levels]) for g, levels in zip(self.generators, self.levels)]


def cold_sample(cases: Sequence, seed: int) -> set[str]:
    """The search cases whose calls run cold (the KV cache reset first), the same for every
    candidate: spread over the seeded order, so a probe dropped early pays for few of them."""
    ids = sorted(c.id for c in cases)
    return set(random.Random(f"cold:{seed}").sample(ids, min(COLD_CALLS, len(ids))))


def _longest(track: Track) -> int:
    return max((e.generated_tokens for e in track.evaluations), default=1)


def _size(levels: Sequence[Sequence[Level]]) -> int:
    return math.prod(len(ls) + 1 for ls in levels)
