"""The energy model J = a*prompt_tokens + b*output_tokens + c, and its fit to measured calls.

Every per-call energy model is this one: a machine's calibration, an optimisation run's fit,
the per-token estimate for API models (c = 0), coefficients the user gives. The fit serves a
machine's calibration (a fixed workload) and every optimisation run (all the calls the run
made). Per-call figures drift with whatever else the machine is doing, so a variant's mean over
its own calls carries the drift of the minutes in which it ran; a fit over all of a run's calls
shares that noise between the variants, and comparing them follows their tokens. The
coefficients are non-negative: no token and no call gives energy back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from ..errors import InputError


@dataclass(frozen=True)
class LinearEnergy:
    """Joules of one call: J = a*prompt_tokens + b*output_tokens + c."""

    j_per_input_token: float  # a
    j_per_output_token: float  # b
    j_per_call: float  # c

    def joules(self, prompt_tokens: float, output_tokens: float) -> float:
        return self.j_per_input_token * prompt_tokens + self.j_per_output_token * output_tokens + self.j_per_call


@dataclass(frozen=True)
class Fit(LinearEnergy):
    """The model fitted to measured calls, with how well it fits them."""

    r2: float
    calls: int = 0


def fit(prompt_tokens: Sequence[float], output_tokens: Sequence[float], joules: Sequence[float]) -> Fit:
    """Non-negative least squares of J on (prompt tokens, output tokens, 1). Where the calls do not
    tell the terms apart (every call with the same output length, say), one of the possible
    fits is returned: they agree on every mix of tokens the calls had."""
    import numpy as np

    x = np.column_stack([np.asarray(prompt_tokens, float), np.asarray(output_tokens, float), np.ones(len(joules))])
    y = np.asarray(joules, dtype=float)
    if not len(y):
        raise InputError("an energy fit needs at least one measured call")
    coef, residual = _nonnegative_least_squares(x, y)
    total = float(((y - y.mean()) ** 2).sum())
    return Fit(float(coef[0]), float(coef[1]), float(coef[2]), 1.0 - residual / total if total > 0 else 1.0, len(y))


def _nonnegative_least_squares(x, y):
    """With three unknowns the exact solution is the best of the least-squares fits on each
    subset of the columns whose coefficients all come out non-negative."""
    import numpy as np

    best = (np.zeros(x.shape[1]), float((y**2).sum()))  # all zero: always feasible
    for size in range(1, x.shape[1] + 1):
        for columns in combinations(range(x.shape[1]), size):
            sub, *_ = np.linalg.lstsq(x[:, columns], y, rcond=None)
            if (sub < 0).any():
                continue
            coef = np.zeros(x.shape[1])
            coef[list(columns)] = sub
            residual = float(((y - x @ coef) ** 2).sum())
            if residual < best[1]:
                best = (coef, residual)
    return best
