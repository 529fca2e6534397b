"""Scoring throughput with a reused prompt prefix (warm calls) against cold calls.

    python bench/prefix_bench.py [SPEC] [--cases N]

Runs the spec's prompt (by default review-sentiment: ~400 model tokens, 8 demonstrations) on
N cases twice through the evaluator, without the call cache: every call cold (the KV cache
reset first), then every call warm (the prefix the cases share is reused). Target: warm
scores at least 5x more cases per second. Answers must be identical.
"""

from __future__ import annotations

import argparse
import time

from promptslim.evaluate import Candidate, Evaluator
from promptslim.generators.base import Variant
from promptslim.runtime.llama import LlamaBackend
from promptslim.spec import load_spec


def timed(spec, backend, cases, cold_cases):
    evaluator = Evaluator(spec, backend, cache=None, cold_cases=cold_cases)
    candidate = Candidate("bench", Variant(spec.prompt, "bench"), spec.max_tokens)
    started = time.perf_counter()
    done = evaluator.run(candidate, cases)
    return done, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec", nargs="?", default="prompts/review-sentiment.yaml")
    parser.add_argument("--cases", type=int, default=40)
    args = parser.parse_args()
    spec = load_spec(args.spec)
    backend = LlamaBackend()
    cases = spec.cases[: args.cases]
    prompt_tokens = backend.count_tokens(spec.prompt.render(cases[0].vars), spec.mode)
    timed(spec, backend, cases[:2], None)  # load the model before timing
    cold, cold_s = timed(spec, backend, cases, None)
    warm, warm_s = timed(spec, backend, cases, set())
    print(f"{spec.name}: {len(cases)} cases, ~{prompt_tokens} prompt tokens each (model tokens)")
    print(f"cold: {len(cases) / cold_s:6.2f} cases/s  ({cold_s / len(cases) * 1000:.0f} ms a case)")
    print(f"warm: {len(cases) / warm_s:6.2f} cases/s  ({warm_s / len(cases) * 1000:.0f} ms a case)")
    print(f"warm/cold throughput: {cold_s / warm_s:.1f}x (target >= 5x)")
    same = [a.text for a in cold] == [b.text for b in warm]
    print(f"identical answers warm and cold: {same}")


if __name__ == "__main__":
    main()
