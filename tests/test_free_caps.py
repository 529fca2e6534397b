"""On the embedded model: answers derived under a tighter cap or an added stop equal real calls,
and warm calls (a reused prompt prefix) answer exactly as cold ones."""

import pytest

from promptslim.evaluate import Candidate, Evaluator
from promptslim.generators.base import Variant
from promptslim.generators.caps import CapOption
from promptslim.spec import spec_from_dict

pytestmark = pytest.mark.slow

TOPICS = ["a lighthouse", "a lost key", "the first snow", "a tired robot"]


def story_spec(max_tokens=24, stop=()):
    return spec_from_dict(
        {
            "mode": "completion",
            "prompt": "Write two short lines about {{topic}}.\nLines:",
            "max_tokens": max_tokens,
            "stop": list(stop),
            "cases": [{"vars": {"topic": t}, "expected": t} for t in TOPICS],
            "scorer": "rouge_l",
            "target": "local",
        }
    )


def evaluations(spec, backend, max_tokens, stop=None, cold=None):
    evaluator = Evaluator(spec, backend, cache=None, cold_cases=cold)
    candidate = Candidate("c", Variant(spec.prompt, "c"), max_tokens, stop)
    return evaluator, evaluator.run(candidate, spec.cases)


def test_capped_answers_derived_from_uncapped_ones_equal_real_capped_calls(local_backend):
    spec = story_spec()
    evaluator, full = evaluations(spec, local_backend, 24)
    cases = {c.id: c for c in spec.cases}
    for cap in (1, 2, 3, 5, 8, 13):
        derived = evaluator.derive(full, CapOption(cap), cases)
        _, real = evaluations(spec, local_backend, cap)
        assert derived is not None
        assert [(d.text, d.generated_tokens, d.score) for d in derived] == [
            (r.text, r.generated_tokens, r.score) for r in real
        ], cap


def test_an_added_newline_stop_derived_equals_real_calls_with_it(local_backend):
    spec = story_spec()
    evaluator, full = evaluations(spec, local_backend, 24)
    assert any("\n" in e.text.strip() for e in full)  # the answers run past their first line
    cases = {c.id: c for c in spec.cases}
    for cap in (24, 4):
        derived = evaluator.derive(full, CapOption(cap, ("\n",)), cases)
        _, real = evaluations(spec, local_backend, cap, stop=("\n",))
        assert [(d.text, d.generated_tokens) for d in derived] == [(r.text, r.generated_tokens) for r in real], cap


def test_warm_calls_answer_exactly_as_cold_ones(local_backend):
    spec = story_spec(max_tokens=12)
    _, cold = evaluations(spec, local_backend, 12, cold=None)  # every call resets the KV cache
    _, warm = evaluations(spec, local_backend, 12, cold=set())  # every call reuses the shared prefix
    assert [e.text for e in warm] == [e.text for e in cold]
    assert all(e.cold for e in cold) and not any(e.cold for e in warm)
