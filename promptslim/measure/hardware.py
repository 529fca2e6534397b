"""Facts about this machine for the energy estimate, read from codecarbon's bundled data.

codecarbon's data files are read directly (no import of codecarbon itself): that keeps
startup fast and guarantees no network call and no file written.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
from functools import cache, lru_cache
from pathlib import Path

# codecarbon's own defaults, used where the CPU or the memory layout is unknown
DEFAULT_WATTS_PER_THREAD = 4.0  # codecarbon.core.cpu.DEFAULT_POWER_PER_CORE
RAM_WATTS_PER_DIMM = 5.0  # codecarbon.external.ram.RAM_SLOT_POWER_X86
DIMM_GB = 8.0  # a typical module size, to turn the per-DIMM figure into watts per GB


def codecarbon_data(*parts: str) -> Path:
    """A file under codecarbon's package data."""
    spec = importlib.util.find_spec("codecarbon")
    if spec is None or not spec.submodule_search_locations:
        from ..errors import RuntimeFailure

        raise RuntimeFailure("codecarbon is not installed: pip install codecarbon")
    return Path(list(spec.submodule_search_locations)[0], "data", *parts)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return ""


def _normalise(name: str) -> str:
    name = re.sub(r"\((R|TM)\)", "", name, flags=re.I)
    name = re.sub(r"\s+CPU\b.*$|\s+@.*$|\s+\d+-Core Processor$", "", name)
    return re.sub(r"\s+", " ", name).strip().lower()


@lru_cache(maxsize=1)
def _tdp_table() -> dict[str, float]:
    table = {}
    with open(codecarbon_data("hardware", "cpu_power.csv"), newline="") as f:
        for row in csv.DictReader(f):
            try:
                table[_normalise(row["Name"])] = float(row["TDP"])
            except (TypeError, ValueError):  # a few rows in the table are malformed
                continue
    return table


@cache
def cpu_tdp_watts(model: str | None = None) -> float | None:
    """TDP of the CPU from codecarbon's table, or None when the model is not listed."""
    wanted = _normalise(model if model is not None else cpu_model())
    if not wanted:
        return None
    table = _tdp_table()
    if wanted in table:
        return table[wanted]
    # codecarbon lists names without the vendor prefix ("Xeon Gold 6148")
    for name, tdp in table.items():
        if len(name) > 6 and wanted.endswith(name):
            return tdp
    return None


@cache
def cpu_watts_per_thread() -> float:
    tdp = cpu_tdp_watts()
    threads = os.cpu_count() or 1
    return tdp / threads if tdp else DEFAULT_WATTS_PER_THREAD


@cache
def ram_watts_per_gb() -> float:
    return RAM_WATTS_PER_DIMM / DIMM_GB


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def process_rss_bytes() -> int:
    """Resident memory of this process (cheap: one small /proc read)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
