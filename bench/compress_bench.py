"""`compress --method rules` at both levels on the seeded benchmark corpus: token savings,
throughput (target: >= 2 MB of input per second per core, token counting included) and
span survival (target: 100%: every placeholder, code block, quote, number and URL, in order).

    python bench/compress_bench.py [--prompts 1800] [--seed 7]

The corpus comes from bench/make_corpus.py: at least 1,000 prompts of many kinds (roles,
instructions, few-shot, code, JSON, recipes, stories, Chinese) with every template style.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

MIN_PROMPTS = 1000


def style(slot: str) -> str:
    """A placeholder's template style, for the corpus line."""
    for prefix, name in (
        ("{%", "jinja"),
        ("{#", "jinja"),
        ("{{", "{{x}}"),
        ("${", "${x}"),
        ("{", "{x}"),
        ("[[", "[[X]]"),
        ("[", "[X]"),
        ("<<", "<<x>>"),
        ("<", "<x>"),
        ("__", "__X__"),
        ("%", "%(x)s"),
        ("$", "$x"),
    ):
        if slot.startswith(prefix):
            return name
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=1800)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from make_corpus import corpus_texts

    from promptslim.compress import compress
    from promptslim.generators import rules
    from promptslim.prompt import drop_final_newline
    from promptslim.protect import placeholders, preserved, protect

    texts = [drop_final_newline(t) for t in corpus_texts(max(args.prompts, MIN_PROMPTS), args.seed)]
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    slots = Counter(style(s) for t in texts for s in placeholders(t))
    compress("warm up", method="rules")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine           {cores} cores, load average {os.getloadavg()[0]:.1f}")
    crlf = sum("\r\n" in t for t in texts)
    print(f"corpus            {len(texts):,} prompts, {megabytes:.2f} MB, {crlf} with CRLF")
    print(f"placeholders      {sum(slots.values()):,}: " + ", ".join(f"{k} {v:,}" for k, v in slots.most_common()))
    for level in rules.LEVELS:
        rules._compress.cache_clear()
        started = time.process_time()
        results = [compress(t, method="rules", level=level) for t in texts]
        seconds = time.process_time() - started
        before = sum(r.original_tokens for r in results)
        after = sum(r.compressed_tokens for r in results)
        per_prompt = [100 * (1 - r.compressed_tokens / r.original_tokens) for r in results if r.original_tokens]
        survived = sum(
            placeholders(r.prompt) == placeholders(t)
            and preserved(protect(t), r.prompt)
            and ("\r\n" not in t or r.prompt.count("\r\n") == r.prompt.count("\n"))
            for t, r in zip(texts, results)
        )
        reverted = sum(r.note is not None and "protected spans" in r.note for r in results)
        rules._compress.cache_clear()
        started = time.process_time()
        for t in texts:
            rules._compress(t, (), level)
        engine = time.process_time() - started
        print(
            f"{level:<17} saves {100 * (before - after) / before:.1f}% of {before:,} gpt-4o tokens "
            f"(a prompt: mean {statistics.mean(per_prompt):.1f}%, median {statistics.median(per_prompt):.1f}%); "
            f"{megabytes / seconds:.2f} MB/s per core "
            f"through compress() with token counts (target >= 2), engine alone {megabytes / engine:.2f} MB/s; "
            f"spans survive in {survived}/{len(texts)} prompts ({100 * survived / len(texts):.1f}%), "
            f"{reverted} returned unchanged by the final check"
        )


if __name__ == "__main__":
    main()
