"""optimize throughput on one local llama.cpp server against a pool of two, at --concurrency 2 each.

    python bench/pool_bench.py [--spec SPEC] [--max-candidates N]

Both servers run the embedded model with one thread each (the test suite's settings); both
runs search the same spec without the call cache (rules, shots and brevity: pruning would run
the model in this process too), so every call is a real call. A pool can only beat one server
by the cores it adds: on a 2-core machine shared with other work the gain is bounded by the
load, printed beside the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import serve_model  # noqa: E402  (the tests' way to start a server)

from promptslim.optimize import optimize  # noqa: E402
from promptslim.runtime import open_backend  # noqa: E402
from promptslim.runtime.llama import embedded_model_path  # noqa: E402

AXES = ("rules", "shots", "brevity")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def measure(spec: str, urls: list[str], concurrency: int, max_candidates: int) -> dict:
    backend = open_backend("smollm2", base_url=urls, concurrency=concurrency)
    started = time.perf_counter()
    result = optimize(
        spec, backend=backend, concurrency=concurrency, cache=False, axes=AXES, max_candidates=max_candidates
    )
    wall = time.perf_counter() - started
    calls = result.spend.model_calls
    return {
        "wall_s": wall,
        "calls": calls,
        "calls_per_s": calls / wall,
        "decision": (result.best.id, result.best.score, [v.score for v in result.variants]),
        "endpoints": result.endpoints or (),
        "load": load(),
    }


def show(label: str, run: dict) -> None:
    print(f"{label}: {run['calls']} calls in {run['wall_s']:.1f} s = {run['calls_per_s']:.2f} calls/s ({run['load']})")
    for e in run["endpoints"]:
        print(f"    {e.url}: {e.calls} calls, {e.calls_per_s:.2f} calls/s, {e.tokens_per_s:.2f} output tokens/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="prompts/review-sentiment.yaml")
    parser.add_argument("--max-candidates", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    os.environ["PROMPTSLIM_MODEL"] = "/nonexistent/no-local-model.gguf"  # no model loaded in this process
    model, folder = embedded_model_path(), Path(tempfile.mkdtemp(prefix="pool-bench-"))
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(serve_model(model, folder / f"server{i}.log")).url for i in range(2)]
        print(f"{args.spec}, --max-candidates {args.max_candidates}, --concurrency {args.concurrency}; {load()}")
        one = measure(args.spec, urls[:1], args.concurrency, args.max_candidates)
        show("1 server ", one)
        two = measure(args.spec, urls, args.concurrency, args.max_candidates)
        show("2 servers", two)
    same = "the same decision" if one["decision"] == two["decision"] else "DIFFERENT decisions"
    gain, faster = two["calls_per_s"] / one["calls_per_s"], one["wall_s"] / two["wall_s"]
    print(f"speed-up {gain:.2f}x in calls/s, {faster:.2f}x in wall; {same}")


if __name__ == "__main__":
    main()
