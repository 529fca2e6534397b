"""Energy meters. Every figure names its method; an estimate is never called a measurement.

Order of preference: hardware counters (Linux RAPL package domains, NVIDIA NVML), then an
estimate from this process's CPU seconds. Remote endpoints, whose hardware we cannot see,
get a per-token estimate (see `TokenEstimateMeter`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from . import hardware

if TYPE_CHECKING:
    from .energy_fit import LinearEnergy

POWERCAP_ROOT = Path("/sys/class/powercap")
J_PER_WH = 3600.0
J_PER_KWH = 1000 * J_PER_WH


@dataclass(frozen=True)
class CallStats:
    """What the meter may use besides its own counters."""

    wall_s: float
    cpu_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Energy:
    joules: float
    method: str  # rapl | nvml | rapl+nvml | cpu-estimate | token-estimate


class Meter(Protocol):
    method: str

    def snapshot(self) -> object:
        """A cheap reading taken before and after the call."""

    def energy(self, before: object, after: object, stats: CallStats) -> Energy:
        """Joules spent between two snapshots."""


@dataclass(frozen=True)
class RaplDomain:
    energy_file: Path
    max_range_uj: int


class RaplMeter:
    """Sums the package domains of Linux RAPL (whole-socket energy, all processes)."""

    method = "rapl"

    def __init__(self, domains: list[RaplDomain]):
        self.domains = domains

    @classmethod
    def discover(cls, root: Path = POWERCAP_ROOT) -> RaplMeter | None:
        domains = []
        for zone in sorted(root.glob("*-rapl:*")):
            if zone.name.count(":") != 1:  # sub-domains (core, uncore, dram) are inside packages
                continue
            try:
                if not (zone / "name").read_text().strip().startswith("package"):
                    continue
                max_range = int((zone / "max_energy_range_uj").read_text())
                int((zone / "energy_uj").read_text())  # readable by this user?
            except (OSError, ValueError):
                continue
            domains.append(RaplDomain(zone / "energy_uj", max_range))
        return cls(domains) if domains else None

    def snapshot(self) -> list[int]:
        return [int(d.energy_file.read_text()) for d in self.domains]

    def energy(self, before: list[int], after: list[int], stats: CallStats) -> Energy:
        total_uj = 0
        for domain, start, end in zip(self.domains, before, after):
            delta = end - start
            if delta < 0:  # the counter wrapped around once
                delta += domain.max_range_uj
            total_uj += delta
        return Energy(total_uj / 1e6, self.method)


class NvmlMeter:
    """NVIDIA's cumulative energy counter (millijoules) over all visible GPUs."""

    method = "nvml"

    def __init__(self, nvml, handles):
        self.nvml, self.handles = nvml, handles

    @classmethod
    def discover(cls) -> NvmlMeter | None:
        try:
            import pynvml as nvml

            nvml.nvmlInit()
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]
            for handle in handles:
                nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
        except Exception:  # no library, no driver, no GPU or no energy counter
            return None
        return cls(nvml, handles) if handles else None

    def snapshot(self) -> list[int]:
        return [self.nvml.nvmlDeviceGetTotalEnergyConsumption(h) for h in self.handles]

    def energy(self, before: list[int], after: list[int], stats: CallStats) -> Energy:
        return Energy(sum(b - a for a, b in zip(before, after)) / 1e3, self.method)


class CombinedMeter:
    """Adds meters that see different hardware (CPU package + GPUs)."""

    def __init__(self, meters: list[Meter]):
        self.meters = meters
        self.method = "+".join(m.method for m in meters)

    def snapshot(self) -> list[object]:
        return [m.snapshot() for m in self.meters]

    def energy(self, before: list, after: list, stats: CallStats) -> Energy:
        joules = sum(m.energy(b, a, stats).joules for m, b, a in zip(self.meters, before, after))
        return Energy(joules, self.method)


class CpuEstimateMeter:
    """Estimate: this process's CPU seconds x power per hardware thread, plus a RAM term.

    Power per thread is the CPU's TDP from codecarbon's CPU table divided by its hardware
    threads (codecarbon's 4 W per thread when the CPU is unknown). The RAM term charges the
    process's resident memory for the call's wall time at the machine's RAM power per GB
    (codecarbon's 5 W per DIMM model).
    """

    method = "cpu-estimate"

    def __init__(self, watts_per_thread: float | None = None, ram_watts_per_gb: float | None = None):
        self.watts_per_thread = watts_per_thread or hardware.cpu_watts_per_thread()
        self.ram_watts_per_gb = ram_watts_per_gb or hardware.ram_watts_per_gb()

    def snapshot(self) -> None:
        return None

    def energy(self, before: None, after: None, stats: CallStats) -> Energy:
        ram_gb = hardware.process_rss_bytes() / 1e9
        joules = stats.cpu_s * self.watts_per_thread + ram_gb * self.ram_watts_per_gb * stats.wall_s
        return Energy(joules, self.method)


class TokenEstimateMeter:
    """Estimate for hardware we cannot see: an energy model of the call's tokens."""

    method = "token-estimate"

    def __init__(self, model: LinearEnergy):
        self.model = model

    def snapshot(self) -> None:
        return None

    def energy(self, before: None, after: None, stats: CallStats) -> Energy:
        return Energy(self.model.joules(stats.prompt_tokens, stats.completion_tokens), self.method)


_hardware_meter: Meter | None | bool = False


def hardware_meter() -> Meter | None:
    """RAPL and/or NVML where their counters are readable, else None (discovered once)."""
    global _hardware_meter
    if _hardware_meter is False:
        found = [m for m in (RaplMeter.discover(), NvmlMeter.discover()) if m is not None]
        _hardware_meter = found[0] if len(found) == 1 else (CombinedMeter(found) if found else None)
    return _hardware_meter


def local_meter() -> Meter:
    """The best meter for work done on this machine."""
    return hardware_meter() or CpuEstimateMeter()


@dataclass
class Stopwatch:
    """Wall and process CPU time plus meter snapshots around one call."""

    meter: Meter

    def __enter__(self) -> Stopwatch:
        self._before = self.meter.snapshot()
        self._wall0, self._cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall_s = time.perf_counter() - self._wall0
        self.cpu_s = time.process_time() - self._cpu0
        self._after = self.meter.snapshot()

    def energy(self, prompt_tokens: int = 0, completion_tokens: int = 0) -> Energy:
        stats = CallStats(self.wall_s, self.cpu_s, prompt_tokens, completion_tokens)
        return self.meter.energy(self._before, self._after, stats)


def physical_cores() -> int:
    """Physical cores (not hyper-threads), the right thread count for llama.cpp."""
    try:
        pairs, physical, core = set(), None, None
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "physical id":
                physical = value.strip()
            elif key == "core id":
                core = value.strip()
                pairs.add((physical, core))
        if pairs:
            return len(pairs)
    except OSError:
        pass
    return max(1, (os.cpu_count() or 2) // 2)
