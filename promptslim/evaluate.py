"""Run one variant on test cases through the backend and the cache; score and cost each call."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .cache import CallCache, call_key
from .errors import PromptslimError
from .generators.base import Variant
from .measure.costing import Costing
from .prompt import Prompt
from .runtime import Backend, CallOptions
from .spec import Case, Spec
from .tokens import LOCAL, count_text, count_tokens


@dataclass(frozen=True)
class Candidate:
    id: str
    variant: Variant
    max_tokens: int

    @property
    def prompt(self) -> Prompt:
        return self.variant.prompt

    @property
    def description(self) -> str:
        return self.variant.description


@dataclass(frozen=True)
class Evaluation:
    case_id: str
    text: str
    score: float
    prompt_tokens: int  # in the target's tokens (the model's own for target `local`)
    completion_tokens: int
    energy_j: float
    energy_method: str
    co2_g: float
    cost_usd: float | None
    wall_s: float
    cached: bool
    error: str | None = None


class Evaluator:
    """Evaluates (candidate, case) pairs; counts new calls, cached calls and new energy."""

    def __init__(
        self,
        spec: Spec,
        backend: Backend,
        cache: CallCache | None,
        *,
        concurrency: int = 1,
        on_call: Callable[[Evaluation], None] | None = None,
    ):
        self.spec, self.backend, self.cache = spec, backend, cache
        self.costing = Costing(target=spec.target, region=spec.region)
        self.concurrency = max(1, concurrency)
        self.on_call = on_call or (lambda evaluation: None)
        self.references: dict[str, str] = {}  # baseline outputs, for the fidelity scorer
        self.model_calls = self.cached_calls = 0
        self.new_energy_j = 0.0
        self._lock = threading.Lock()  # calls finish on several threads with --concurrency

    def run(self, candidate: Candidate, cases: Sequence[Case]) -> list[Evaluation]:
        if self.concurrency == 1 or len(cases) == 1:
            return [self.one(candidate, case) for case in cases]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda case: self.one(candidate, case), cases))

    def one(self, candidate: Candidate, case: Case) -> Evaluation:
        spec = self.spec
        rendered = candidate.prompt.render(case.vars)
        options = CallOptions(mode=spec.mode, max_tokens=candidate.max_tokens, stop=spec.stop, seed=spec.seed)
        key = call_key(self.backend.identity, rendered, options) if self.cache else None
        completion = self.cache.get(key) if self.cache else None
        cached = completion is not None
        error = None
        if completion is None:
            try:
                completion = self.backend.complete(rendered, options)
            except PromptslimError as exc:  # one failed case scores 0; the run goes on
                error = str(exc)
            else:
                if self.cache:
                    self.cache.put(key, self.backend.identity, rendered, options, completion)
        evaluation = self._evaluation(candidate, case, rendered, completion, cached, error)
        self._account(evaluation)
        return evaluation

    def _evaluation(self, candidate, case, rendered, completion, cached, error) -> Evaluation:
        if completion is None:
            return Evaluation(case.id, "", 0.0, 0, 0, 0.0, "none", 0.0, None, 0.0, False, error)
        text = completion.text
        score = self.spec.scorer.score(text, case.expected, self.references.get(case.id))
        if self.spec.target == LOCAL:
            prompt_tokens, output_tokens = completion.prompt_tokens, completion.completion_tokens
        else:
            prompt_tokens = count_tokens(rendered, self.spec.target, mode=self.spec.mode)
            output_tokens = count_text(text, self.spec.target) if text else 0
        return Evaluation(
            case_id=case.id,
            text=text,
            score=score,
            prompt_tokens=prompt_tokens,
            completion_tokens=output_tokens,
            energy_j=completion.energy_j,
            energy_method=completion.energy_method,
            co2_g=self.costing.co2_g(completion.energy_j),
            cost_usd=self.costing.cost_usd(rendered, self.spec.mode, text),
            wall_s=completion.wall_s,
            cached=cached,
        )

    def _account(self, evaluation: Evaluation) -> None:
        with self._lock:
            self._count(evaluation)
            self.on_call(evaluation)

    def _count(self, evaluation: Evaluation) -> None:
        if evaluation.cached:
            self.cached_calls += 1
        else:
            self.model_calls += 1
            self.new_energy_j += evaluation.energy_j
