"""Log audit throughput and peak memory: a seeded log (bench/make_logs.py, 5 templates x random
fills) as JSONL and as Parquet, audited by the whole CLI with one process, the process pool, and
`--dask local:N`. Targets: >= 50,000 records/s per core for grouping and counting from `usage`,
peak RSS <= 500 MB whatever the log's size. Per core is records per CPU-second of the whole
process tree (start-up, learning, reading and merging included), so a shared machine's other
load does not count against it.

    python bench/logs_bench.py [--records 1000000] [--workers 2] [--seed 7] [--keep DIR]

Peak RSS is sampled every 50 ms over the whole process tree: the largest single process, and
the sum (the CLI, its pool workers, or the Dask scheduler, nanny and workers).
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

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_logs import TEMPLATES, log_records, write_jsonl, write_parquet  # noqa: E402


def run(args: list[str]) -> tuple[float, float, float, float]:
    """Seconds, CPU seconds of the whole tree, peak RSS of the largest process and of the tree (MB)."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "promptslim", *args], stdout=subprocess.DEVNULL)
    root, single, total = psutil.Process(proc.pid), 0, 0
    while proc.poll() is None:
        sizes = []
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = []
        for process in tree:
            try:
                sizes.append(process.memory_info().rss)
            except psutil.Error:
                continue
        single, total = max([single, *sizes]), max(total, sum(sizes))
        time.sleep(0.05)
    if proc.returncode:
        raise SystemExit(f"promptslim {' '.join(args)} exited {proc.returncode}")
    return time.perf_counter() - started, _children_cpu() - cpu_before, single / 1e6, total / 1e6


def _children_cpu() -> float:
    """User and system seconds of every finished descendant (the pool's and Dask's processes too)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", help="write the logs here and keep them (default: a temporary folder)")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="promptslim-logs-"))
    folder.mkdir(parents=True, exist_ok=True)
    fills = args.records // len(TEMPLATES)
    jsonl, parquet = folder / "calls.jsonl", folder / "calls.parquet"
    if not jsonl.exists():
        write_jsonl(jsonl, log_records(fills=fills, seed=args.seed))
    if not parquet.exists():
        write_parquet(parquet, log_records(fills=fills, seed=args.seed))
    records = fills * len(TEMPLATES)
    sizes = f"JSONL {jsonl.stat().st_size / 1e6:,.0f} MB, Parquet {parquet.stat().st_size / 1e6:,.0f} MB"
    print(f"{records:,} records: {sizes}")
    print(f"{'input':8} {'run':14} {'seconds':>8} {'records/s':>10} {'rec/CPU-s':>10} {'max RSS':>8} {'tree RSS':>9}")
    w = str(args.workers)
    for path in (jsonl, parquet):
        for label, extra in (
            ("1 process", ["-j", "1"]),
            (f"pool -j {w}", ["-j", w]),
            (f"dask local:{w}", ["--dask", f"local:{w}"]),
        ):
            seconds, cpu, single, total = run(["audit", str(path), "--format", "json", "-o", os.devnull, *extra])
            print(
                f"{path.suffix[1:]:8} {label:14} {seconds:8.1f} {records / seconds:10,.0f} {records / cpu:10,.0f} "
                f"{single:6,.0f}MB {total:7,.0f}MB"
            )


if __name__ == "__main__":
    main()
