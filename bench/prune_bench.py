"""LM-guided pruning on ~400- and ~2,000-token prompts against one plain forward pass of the same
prompt on the same model (target: prune wall time <= 1.3 x the forward pass at both sizes; peak
RSS <= model file + 250 MB at 2,000 tokens).

    python bench/prune_bench.py

Both timings run in one process on the same loaded model; the RSS is measured in a fresh
child process that only prunes, so nothing else inflates it.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (400, 2000)  # gpt-4o tokens, about
RUNS = 5
PARAGRAPH = (
    "Our support team receives messages about orders, payments, deliveries and accounts. Each message is "
    "read by a person who decides which team should handle it, what the customer wants, and how urgent it is. "
    "Messages about charges, refunds and invoices go to billing; late, lost or damaged parcels go to shipping; "
    "problems with logging in, the app or the checkout go to the technical team; and changes to personal "
    "details or closing an account go to the account team. When a message mentions several problems, the "
    "main one decides. Customers often write long messages with details that do not matter for routing, "
    "such as the weather on the day of delivery or the name of the neighbour who took the parcel in. "
)


def prompt_of(tokens: int, count) -> str:
    text = ""
    while count(text) < tokens:
        text += PARAGRAPH
    return text + "\nCustomer message: {{ticket}}\nTeam:"


def child() -> None:
    """Prune once and print peak RSS (MB)."""
    from promptslim.compress import compress

    text = Path(sys.argv[2]).read_text()
    compress(text, method="prune", rate=0.5)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def time_against_forward(text: str, model, count) -> None:
    """Median prune time over the median time of one fresh forward pass of the same prompt."""
    from promptslim.generators.prune import prune_text

    llm = model.llm
    tokens = llm.tokenize(text.encode(), add_bos=True)
    forward, pruning = [], []
    for _ in range(RUNS):
        llm.reset()
        model.clear()
        started = time.perf_counter()
        llm.eval(tokens)
        forward.append(time.perf_counter() - started)
        started = time.perf_counter()
        out = prune_text(text, model, count, 0.5)
        pruning.append(time.perf_counter() - started)
    f, p = statistics.median(forward), statistics.median(pruning)
    print(
        f"{count(text)} gpt-4o tokens ({len(tokens)} model tokens): forward pass {f:.3f} s, prune at rate 0.5 "
        f"{p:.3f} s -> {p / f:.2f} x (target <= 1.3; median of {RUNS}); kept {count(out) / count(text):.1%}"
    )


def main() -> None:
    from promptslim.compress import prune_llm
    from promptslim.runtime.llama import resolve_model_path
    from promptslim.tokens import text_counter

    count = text_counter("gpt-4o")
    model = prune_llm()
    llm = model.llm
    for size in SIZES:
        text = prompt_of(size, lambda t: len(llm.tokenize(t.encode(), add_bos=True)) + 40)  # fits the context
        time_against_forward(text, model, count)

    path = Path(os.environ.get("TMPDIR", "/tmp")) / "promptslim-prune-bench.txt"
    path.write_text(text)
    rss = float(
        subprocess.run(
            [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True
        ).stdout.split()[-1]
    )
    model_mb = resolve_model_path(None).stat().st_size / 2**20
    print(
        f"peak RSS of a prune-only process: {rss:.0f} MB; model file {model_mb:.0f} MB; "
        f"budget {model_mb + 250:.0f} MB -> {'ok' if rss <= model_mb + 250 else 'over'}"
    )


if __name__ == "__main__":
    child() if sys.argv[1:2] == ["--child"] else main()
