"""Run one candidate on test cases through the backend and the cache; score and cost each call.

Calls for the cases in `cold_cases` reset the model's KV cache first and are what energy is
measured on; the others reuse the prefix they share with the previous call (warm), which
changes the cost of a call, never its answer. A candidate that differs from an evaluated
one only in its output cap or an added stop sequence is not run: its answers are derived
from the evaluated ones (`derive`), exactly, where the backend gives the answers' tokens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from .cache import CallCache, call_key
from .errors import PromptslimError
from .generators.base import Variant
from .generators.caps import CapOption, under_option
from .measure.costing import Costing
from .prompt import Prompt
from .runtime import Backend, CallOptions, Completion
from .spec import Case, Spec
from .tokens import LOCAL, count_text, count_tokens


@dataclass(frozen=True)
class Candidate:
    id: str
    variant: Variant
    max_tokens: int
    stop: tuple[str, ...] | None = None  # None: the spec's stop sequences

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
    generated_tokens: int = 0  # the model's own output tokens, stop sequences included
    model_prompt_tokens: int = 0  # the model's own prompt tokens
    finish_reason: str = "stop"
    cold: bool = True  # measured without a reused KV prefix
    derived: bool = False  # not a call: derived from another candidate's answer

    @property
    def measured(self) -> bool:
        """A cold, successful call: what energy comparisons are made of."""
        return self.cold and not self.derived and self.error is None


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
        cold_cases: Collection[str] | None = None,
    ):
        self.spec, self.backend, self.cache = spec, backend, cache
        self.costing = Costing(target=spec.target, region=spec.region)
        self.concurrency = max(1, concurrency)
        self.on_call = on_call or (lambda evaluation: None)
        self.cold_cases = set(cold_cases) if cold_cases is not None else None  # None: every call cold
        self.references: dict[str, str] = {}  # baseline outputs, for the fidelity scorer
        self.model_calls = self.cached_calls = 0
        self.new_energy_j = 0.0
        self._pieces: dict[str, list[bytes] | None] = {}
        self._lock = threading.Lock()  # calls finish on several threads with --concurrency

    def run(self, candidate: Candidate, cases: Sequence[Case]) -> list[Evaluation]:
        if self.concurrency == 1 or len(cases) == 1:
            return [self.one(candidate, case) for case in cases]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda case: self.one(candidate, case), cases))

    def one(self, candidate: Candidate, case: Case) -> Evaluation:
        rendered = candidate.prompt.render(case.vars)
        cold = self.cold_cases is None or case.id in self.cold_cases
        options = self._options(candidate, cold)
        key = call_key(self.backend.identity, rendered, options) if self.cache else None
        completion = self.cache.get(key) if self.cache else None
        if completion is not None and cold and not completion.cold:
            completion = None  # a cold measurement is wanted; the cached one was warm
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
        evaluation = self._evaluation(case, rendered, completion, cached, error)
        self._account(evaluation)
        return evaluation

    def derive(self, evaluations: Sequence[Evaluation], option: CapOption, cases: dict[str, Case]) -> list | None:
        """The evaluations under a tighter cap or an added stop, from answers without them;
        None where any answer cannot be derived exactly."""
        derived = []
        for evaluation in evaluations:
            if evaluation.error is not None:
                derived.append(replace(evaluation, derived=True))
                continue
            answer = under_option(
                evaluation.text,
                evaluation.generated_tokens,
                evaluation.finish_reason,
                self._answer_pieces(evaluation.text),
                option,
            )
            if answer is None:
                return None
            text, generated = answer
            derived.append(self._derived(evaluation, cases[evaluation.case_id], text, generated))
        return derived

    def _options(self, candidate: Candidate, cold: bool) -> CallOptions:
        stop = self.spec.stop if candidate.stop is None else candidate.stop
        return CallOptions(
            mode=self.spec.mode, max_tokens=candidate.max_tokens, stop=stop, seed=self.spec.seed, cold=cold
        )

    def _answer_pieces(self, text: str) -> list[bytes] | None:
        if text not in self._pieces:
            self._pieces[text] = self.backend.answer_pieces(text)
        return self._pieces[text]

    def _evaluation(
        self, case: Case, rendered: Prompt, completion: Completion | None, cached: bool, error: str | None
    ) -> Evaluation:
        if completion is None:
            return Evaluation(case.id, "", 0.0, 0, 0, 0.0, "none", 0.0, None, 0.0, False, error)
        text = completion.text
        return Evaluation(
            case_id=case.id,
            text=text,
            score=self._score(case, text),
            prompt_tokens=self._prompt_tokens(rendered, completion),
            completion_tokens=self._output_tokens(text, completion.completion_tokens),
            energy_j=completion.energy_j,
            energy_method=completion.energy_method,
            co2_g=self.costing.co2_g(completion.energy_j),
            cost_usd=self.costing.cost_usd(rendered, self.spec.mode, text),
            wall_s=completion.wall_s,
            cached=cached,
            generated_tokens=completion.completion_tokens,
            model_prompt_tokens=completion.prompt_tokens,
            finish_reason=completion.finish_reason,
            cold=completion.cold,
        )

    def _derived(self, source: Evaluation, case: Case, text: str, generated: int) -> Evaluation:
        cost = None if source.cost_usd is None else self._cost_with_output(source, text)
        return replace(
            source,
            text=text,
            score=self._score(case, text),
            completion_tokens=self._output_tokens(text, generated),
            generated_tokens=generated,
            energy_j=0.0,
            energy_method="derived",
            co2_g=0.0,
            cost_usd=cost,
            wall_s=0.0,
            finish_reason="length" if generated < source.generated_tokens else source.finish_reason,
            derived=True,
        )

    def _cost_with_output(self, source: Evaluation, text: str) -> float | None:
        from .measure.price import cost_usd

        return cost_usd(self.spec.target, source.prompt_tokens, count_text(text, self.spec.target) if text else 0)

    def _score(self, case: Case, text: str) -> float:
        return self.spec.scorer.score(text, case.expected, self.references.get(case.id))

    def _prompt_tokens(self, rendered: Prompt, completion: Completion) -> int:
        if self.spec.target == LOCAL:
            return completion.prompt_tokens
        return count_tokens(rendered, self.spec.target, mode=self.spec.mode)

    def _output_tokens(self, text: str, generated: int) -> int:
        if self.spec.target == LOCAL:
            return generated
        return count_text(text, self.spec.target) if text else 0

    def _account(self, evaluation: Evaluation) -> None:
        with self._lock:
            if evaluation.cached:
                self.cached_calls += 1
            else:
                self.model_calls += 1
                self.new_energy_j += evaluation.energy_j
            self.on_call(evaluation)
