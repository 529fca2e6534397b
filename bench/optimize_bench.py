"""The lattice search against exhaustive evaluation of the same lattice, on each example spec.

    python bench/optimize_bench.py [SPEC ...]

The lattice is restricted so that exhaustive evaluation can finish: rules (safe), the
instruction dropped, three shots levels and the brevity instruction, registered here as
coarse axes (the same generators, fewer levels); caps are priced for free in both runs.
Neither run uses the call cache, so every call is a real model call. Target: a winner at
least as cheap as exhaustive's, with at most 40% of its calls.
"""

from __future__ import annotations

import argparse
import time

from promptslim.generators.base import register, registered
from promptslim.optimize import optimize
from promptslim.search import DECODE_TO_PREFILL
from promptslim.spec import load_spec

SPECS = ("prompts/review-sentiment.yaml", "prompts/ticket-triage.yaml", "prompts/amount-extraction.yaml")
COARSE = {"rules": None, "instruction": 1, "shots": 3, "brevity": None}  # axis -> levels kept (None: all)


class Coarse:
    """A built-in generator with fewer levels: the most aggressive, and others evenly spread."""

    changes_prompt = True

    def __init__(self, inner, keep):
        self.inner, self.keep, self.axis = inner, keep, inner.axis + "~"

    def levels(self, prompt, context):
        levels = list(self.inner.levels(prompt, context))
        if self.keep is None or len(levels) <= self.keep:
            return levels
        step = (len(levels) - 1) / max(1, self.keep - 1)
        return [levels[round(len(levels) - 1 - i * step)] for i in reversed(range(self.keep))]

    def apply(self, prompt, level, context):
        return self.inner.apply(prompt, level, context)


def coarse_axes() -> list[str]:
    known = {g.axis: g for g in registered()}
    for axis, keep in COARSE.items():
        if axis + "~" not in known:
            register(Coarse(known[axis], keep))
    return [axis + "~" for axis in COARSE]


def proxy(variant) -> float:
    """What a call costs the model, in prompt-token equivalents: the order the search walks in."""
    return (variant.model_prompt_tokens or 0) + DECODE_TO_PREFILL * (variant.generated_tokens or 0)


def run(spec, exhaustive: bool, axes):
    started = time.perf_counter()
    result = optimize(spec, exhaustive=exhaustive, cache=False, axes=axes, max_candidates=10_000)
    return result, time.perf_counter() - started


def describe(label: str, result, wall: float) -> None:
    best, spend, save = result.best, result.spend, result.savings
    print(
        f"  {label:<10} calls {spend.model_calls:>5}  probes {spend.probes:>3}  wall {wall:7.1f} s  "
        f"winner {best.id}: {best.description}"
    )
    print(
        f"  {'':<10} prompt tokens {save.prompt_tokens_pct or 0:.1f}% fewer, output tokens "
        f"{save.completion_tokens_pct or 0:.1f}% fewer, accepted {result.accepted}, cost proxy {proxy(best):.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("specs", nargs="*", default=list(SPECS))
    args = parser.parse_args()
    axes = coarse_axes()
    for path in args.specs:
        spec = load_spec(path)
        searched, searched_wall = run(spec, False, axes)
        full, full_wall = run(spec, True, axes)
        print(f"{spec.name}: {len(spec.cases)} cases, lattice of {full.spend.probes} prompt configurations")
        describe("search", searched, searched_wall)
        describe("exhaustive", full, full_wall)
        share = searched.spend.model_calls / full.spend.model_calls
        cheap = proxy(searched.best) <= proxy(full.best) + 1e-9
        print(
            f"  search used {share:.1%} of the exhaustive calls (target <= 40%); winner as cheap: {cheap}", flush=True
        )


if __name__ == "__main__":
    main()
