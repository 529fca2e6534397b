"""Which configurations to try: the cheapest passing point of a lattice of ordered levels.

A configuration picks a level on every axis (0 = off; higher = more aggressive and cheaper).
The search assumes what holds for prompt edits: when a configuration fails, every more
aggressive one (at least as high on every axis) fails too. Under that assumption it finds the
cheapest passing configuration exactly, with far fewer probes than trying them all:

1. **Bounds.** On each axis alone, the most aggressive passing level, by binary search over
   the levels (the most aggressive level is probed first: a harmless axis costs one probe).
2. **Cheapest first.** The configurations inside those bounds, in order of estimated cost:
   one ruled out by a known failure is skipped, any other is probed, and the first that
   passes is the cheapest. Asked for the next one (when a confirmation fails), the walk goes on.

`probe` answers True (passes), False (fails) or None (cannot be built: a failure that rules
out nothing else). The cost may be estimated lazily: `estimate` orders the walk, and each
configuration's exact `cost` is taken when it comes up; an estimate that is never above the
exact cost keeps the order exact.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import product

Config = tuple[int, ...]


@dataclass(frozen=True)
class Probe:
    config: Config
    passed: bool | None
    phase: str  # "bound" or "search"


class LatticeSearch:
    def __init__(
        self,
        sizes: Sequence[int],
        probe: Callable[[Config], bool | None],
        cost: Callable[[Config], float],
        *,
        estimate: Callable[[Config], float] | None = None,
        budget: int | None = None,
    ):
        self.sizes = tuple(sizes)
        self._probe, self.cost, self.estimate = probe, cost, estimate or cost
        self.budget = budget
        self.probes: list[Probe] = []
        self.known: dict[Config, bool | None] = {self.origin: True}  # the baseline passes by definition
        self.exhausted = False  # the probe budget ran out

    @property
    def origin(self) -> Config:
        return (0,) * len(self.sizes)

    def passing(self) -> Iterator[Config]:
        """Passing configurations, cheapest first; the origin (which passes by definition) in its
        place, so nothing dearer than it is ever offered."""
        bounds = self.bounds()
        box = list(product(*[range(b + 1) for b in bounds]))
        queue = [(self.estimate(c), False, c) for c in box]
        heapq.heapify(queue)
        while queue:
            _, exact, config = heapq.heappop(queue)
            if self.exhausted and config not in self.known:
                continue  # no probes left: only what is already known can still pass
            if not exact and config != self.origin:
                cost = self.cost(config)
                if queue and cost > queue[0][0]:
                    heapq.heappush(queue, (cost, True, config))  # another may now come first
                    continue
            if self._ruled_out(config):
                continue
            if self._ask(config, "search"):
                yield config
                if config == self.origin:
                    return  # anything after it costs more than changing nothing

    def every(self) -> Iterator[Config]:
        """Probe every configuration (no bounds, no inference), then yield the passing ones
        cheapest first, the origin among them: what the search is measured against."""
        configs = list(product(*[range(n + 1) for n in self.sizes]))
        for config in configs:
            self._ask(config, "every")
        for config in sorted((c for c in configs if self.known.get(c)), key=lambda c: (self.cost(c), c)):
            yield config
            if config == self.origin:
                return

    def bounds(self) -> list[int]:
        """Per axis, the most aggressive level that passes with every other axis off."""
        return [self._bound(axis, size) for axis, size in enumerate(self.sizes)]

    def _bound(self, axis: int, size: int) -> int:
        lo, hi = 0, size + 1  # lo passes; hi fails (size + 1 is past the last level)
        guess = size
        while hi - lo > 1 and not self.exhausted:
            config = tuple(guess if i == axis else 0 for i in range(len(self.sizes)))
            if self._ask(config, "bound"):
                lo = guess
            else:
                hi = guess
            guess = (lo + hi) // 2
        return lo

    def _ask(self, config: Config, phase: str) -> bool:
        if config not in self.known:
            if self.budget is not None and len(self.probes) >= self.budget:
                self.exhausted = True
                return False
            self.known[config] = self._probe(config)
            self.probes.append(Probe(config, self.known[config], phase))
        return bool(self.known[config])

    def _ruled_out(self, config: Config) -> bool:
        return any(
            passed is False and all(a >= b for a, b in zip(config, failed)) for failed, passed in self.known.items()
        )
