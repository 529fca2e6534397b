"""Racing against exhaustive search on one spec (target: racing uses at most 40% of the calls
and picks the same winner, or one no more expensive that passes the same acceptance test).

    python bench/optimize_bench.py [SPEC] [--max-candidates N]

Both runs start without a cache, so every call is a real model call.
"""

from __future__ import annotations

import argparse
import time

from promptslim.optimize import optimize
from promptslim.spec import load_spec


def run(spec, exhaustive: bool, max_candidates: int):
    started = time.perf_counter()
    result = optimize(spec, exhaustive=exhaustive, cache=False, max_candidates=max_candidates)
    return result, time.perf_counter() - started


def describe(label: str, result, wall: float) -> None:
    best, spend, save = result.best, result.spend, result.savings
    print(
        f"{label:<10} calls {spend.model_calls:>5}  energy {spend.energy_j:8.1f} J  wall {wall:7.1f} s  "
        f"winner {best.id} score {best.score:.3f}  ({best.description})"
    )
    print(
        f"{'':<10} savings: prompt tokens {save.prompt_tokens_pct or 0:.1f}%, output tokens "
        f"{save.completion_tokens_pct or 0:.1f}%, energy {save.energy_pct or 0:.1f}%, cost {save.cost_pct or 0:.1f}%"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec", nargs="?", default="prompts/review-sentiment.yaml")
    parser.add_argument("--max-candidates", type=int, default=10)
    args = parser.parse_args()
    spec = load_spec(args.spec)
    print(f"spec {spec.name}: {len(spec.cases)} cases, objective {spec.objective}")
    racing, racing_wall = run(spec, False, args.max_candidates)
    full, full_wall = run(spec, True, args.max_candidates)
    print(f"candidates: {len(full.variants) - 1}")
    describe("racing", racing, racing_wall)
    describe("exhaustive", full, full_wall)
    share = racing.spend.model_calls / full.spend.model_calls
    print(f"racing used {share:.1%} of the exhaustive calls (target <= 40%)")
    by_id = {v.id: v for v in full.variants}
    same = racing.best.id == full.best.id
    twin = by_id.get(racing.best.id)

    def cost(v):
        return {
            "tokens": (v.prompt_tokens or 0) + (v.completion_tokens or 0),
            "energy": v.energy_j,
            "cost": v.cost_usd,
            "co2": v.co2_g,
        }[spec.objective]

    ok = same or (twin is not None and twin.status in ("passed", "winner") and cost(twin) <= cost(full.best))
    print(f"same winner: {same}; racing winner passes in the exhaustive run and is no more expensive: {ok}")


if __name__ == "__main__":
    main()
