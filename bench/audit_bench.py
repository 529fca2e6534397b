"""The corpus audit against tiktoken alone (target: audit <= 5 x encoding the corpus twice),
its peak memory with its workers (target: <= 400 MB), and rules-mode compression throughput
(target: >= 2 MB of input per second per core).

    python bench/audit_bench.py [--prompts 1800] [--seed 7] [--workers N]

The corpus comes from bench/make_corpus.py (at least 1,500 prompts and 3 MB), one file per
prompt in a temporary folder. tiktoken's figure excludes loading the encoding; the audit
is the whole `python -m promptslim audit DIR --format json`, start-up included.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

MIN_PROMPTS, MIN_BYTES = 1500, 3_000_000


def make_corpus(folder: Path, prompts: int, seed: int) -> list[str]:
    """Write at least MIN_PROMPTS prompt files and MIN_BYTES into `folder`; their texts."""
    from make_corpus import corpus_texts, write_corpus

    prompts = max(prompts, MIN_PROMPTS)
    while True:
        count, total = write_corpus(folder, prompts, seed)
        if total >= MIN_BYTES:
            return corpus_texts(count, seed)
        prompts = int(prompts * 1.5)


def tiktoken_twice(texts: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds to encode every text twice (the best of three tries: other work on
    the machine only ever adds time)."""
    import tiktoken

    encoding = tiktoken.get_encoding("o200k_base")
    encoding.encode_ordinary("warm up")
    wall = cpu = float("inf")
    for _ in range(3):
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(2):
            for text in texts:
                encoding.encode_ordinary(text)
        wall, cpu = min(wall, time.perf_counter() - started), min(cpu, time.process_time() - started_cpu)
    return wall, cpu


def audit_run(folder: Path, workers: int | None) -> tuple[float, float, float, float]:
    """Wall seconds, CPU seconds with the workers, and peak MB of the process tree: RSS summed
    (pages the forked workers share with the parent count once per process) and PSS summed."""
    command = [sys.executable, "-m", "promptslim", "audit", str(folder), "--format", "json"]
    command += ["--jobs", str(workers)] if workers else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE)
        rss, pss = _poll_tree_memory(proc)
        _, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"audit failed ({proc.returncode}): {err.decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    largest = after.ru_maxrss / 1024  # KB on Linux: the largest single process, a floor when psutil is missing
    return wall, cpu, max(rss, largest), pss


def _poll_tree_memory(proc: subprocess.Popen) -> tuple[float, float]:
    """The largest sums of RSS and of PSS over the process and its workers, sampled every 50 ms."""
    try:
        import psutil
    except ImportError:
        proc.wait()
        return 0.0, 0.0
    root, rss, pss = psutil.Process(proc.pid), 0.0, 0.0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            memory = [p.memory_full_info() for p in tree]
            rss = max(rss, sum(m.rss for m in memory) / 1e6)
            pss = max(pss, sum(getattr(m, "pss", m.rss) for m in memory) / 1e6)
        except psutil.Error:
            pass
        time.sleep(0.05)
    return rss, pss


def rules_throughput(texts: list[str]) -> tuple[float, float]:
    """MB/s on one core: `compress --method rules` as the library runs it, and the rules engine alone."""
    from promptslim.compress import compress
    from promptslim.generators import rules

    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    compress("warm up", method="rules")
    started = time.process_time()
    for text in texts:
        compress(text, method="rules")
    full = time.process_time() - started
    started = time.process_time()
    for text in texts:
        rules._compress.__wrapped__(text, (), "safe")  # uncached: the engine's own work
    engine = time.process_time() - started
    return megabytes / full, megabytes / engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=1800)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=None, help="audit --jobs (default: all cores)")
    parser.add_argument("--runs", type=int, default=2, help="audit runs; the fastest counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        texts = make_corpus(Path(folder), args.prompts, args.seed)
        encode, encode_cpu = tiktoken_twice(texts)
        wall, cpu, rss, pss = min(audit_run(Path(folder), args.workers) for _ in range(max(1, args.runs)))
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    full, engine = rules_throughput(texts)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine           {cores} cores, load average {os.getloadavg()[0]:.1f} at the end")
    print(f"prompts           {len(texts):,}")
    print(f"corpus            {megabytes:.2f} MB")
    print(f"tiktoken x2       {encode:.2f} s ({encode_cpu:.2f} s CPU)")
    print(f"audit             {wall:.2f} s wall, {cpu:.2f} s CPU with its workers")
    print(f"ratio             {wall / encode:.1f} x tiktoken x2 (target <= 5)")
    print(f"CPU ratio         {cpu / encode_cpu:.1f} x: CPU seconds of the audit and its workers / of tiktoken x2")
    print(f"peak RSS          {rss:.0f} MB summed over the audit and its workers (target <= 400); PSS {pss:.0f} MB")
    print(
        f"rules mode        {full:.2f} MB/s per core, compress --method rules (target >= 2); "
        f"rules engine alone {engine:.2f} MB/s"
    )


if __name__ == "__main__":
    main()
