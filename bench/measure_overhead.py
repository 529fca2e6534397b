"""Per-call measurement overhead as a share of the call's own time (target: under 3%).

A ~100-token prompt and 8 output tokens on the embedded model. The overhead is everything
the measurement adds to a call: meter snapshots, the two clocks, the energy arithmetic and
the CO2/cost bookkeeping. It is timed on its own over many repetitions and compared with
the median time of the bare llama.cpp call.

    python bench/measure_overhead.py
"""

from __future__ import annotations

import statistics
import time

from promptslim.measure.costing import Costing
from promptslim.measure.energy import Stopwatch
from promptslim.prompt import Prompt
from promptslim.runtime import CallOptions
from promptslim.runtime.llama import LlamaBackend

PROMPT = (
    "You are a support assistant for an online bookshop. Read the customer's message and reply with "
    "the department that should handle it: billing, shipping, returns or technical. Customer message: "
    "I ordered three paperbacks last Tuesday and the tracking page still says the parcel has not left "
    "the warehouse, although I paid for express delivery. Can you check what is going on? Department:"
)


def main(calls: int = 30, overhead_reps: int = 2000) -> None:
    backend = LlamaBackend()
    prompt = Prompt(PROMPT)
    options = CallOptions(max_tokens=8, temperature=0.0)
    tokens = backend.prompt_tokens(prompt, "completion")
    llm = backend.llm
    costing = Costing(target="gpt-4o", region="world")

    bare = []
    for _ in range(calls):
        llm.reset()
        t0 = time.perf_counter()
        out = llm.create_completion(tokens, max_tokens=8, temperature=0.0, seed=0)
        bare.append(time.perf_counter() - t0)
    usage = out["usage"]

    t0 = time.perf_counter()
    for _ in range(overhead_reps):
        with Stopwatch(backend.meter) as watch:
            pass
        energy = watch.energy(usage["prompt_tokens"], usage["completion_tokens"])
        costing.co2_g(energy.joules)
    overhead = (time.perf_counter() - t0) / overhead_reps
    costing.cost_usd(prompt, "completion", "warm-up")  # loads the tiktoken encoding once
    cost_t0 = time.perf_counter()
    for _ in range(50):
        costing.cost_usd(prompt, "completion", out["choices"][0]["text"])
    cost_overhead = (time.perf_counter() - cost_t0) / 50

    measured = [backend.complete(prompt, options).wall_s for _ in range(calls)]
    call = statistics.median(bare)
    print(f"prompt tokens: {usage['prompt_tokens']}, output tokens: {usage['completion_tokens']}")
    print(f"energy method: {backend.meter.method}")
    print(f"bare llama.cpp call (median of {calls}): {call * 1000:.2f} ms")
    print(f"measured call wall_s (median of {calls}): {statistics.median(measured) * 1000:.2f} ms")
    print(f"meter + clocks + energy + CO2 per call: {overhead * 1e6:.1f} us")
    print(f"target-model cost (2 tiktoken counts) per call: {cost_overhead * 1e6:.1f} us")
    share = (overhead + cost_overhead) / call * 100
    print(f"overhead share of the call: {share:.3f}%  (target < 3%)")


if __name__ == "__main__":
    main()
