"""Is a candidate prompt not worse than the baseline? Paired non-inferiority statistics.

Both prompts are scored on the same cases. The candidate passes when H0: mean(cand) - mean(base)
<= -margin is rejected at level 1 - confidence. Every Decision keeps two identities exact:
passed == (lower > -margin) == (p_value < 1 - confidence).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from .errors import InputError

GRID = 48  # nuisance-parameter grid of the exact unconditional test ...
ZOOM = (7,) * 7  # ... then finer grids around its maximum, each a third as wide
TOLERANCE = 1e-6  # resolution of `lower`
# the exact test walks an O(n^2) table of outcomes: about 0.5 s at 200 cases, growing as n^3;
# beyond that the asymptotic score test it is built on is accurate
EXACT_MAX_CASES = 200


@dataclass(frozen=True)
class Decision:
    passed: bool
    diff: float  # mean(cand) - mean(base)
    lower: float  # one-sided lower confidence bound on diff
    p_value: float  # for H0: diff <= -margin
    method: str  # "mcnemar-exact" | "tango-score" (0/1 scores, many cases) | "paired-bootstrap"
    reason: str = ""  # why a variant that passed the test still failed (the min_score floor)


def noninferiority(
    base: Sequence[float],
    cand: Sequence[float],
    *,
    margin: float,
    confidence: float,
    seed: int = 0,
    resamples: int = 2000,
) -> Decision:
    """Test that cand is at most `margin` worse than base on the same cases, in the same order.

    0/1 scores (method "mcnemar-exact"), with b = cases only base gets right, c = cases only
    cand gets right, n = all cases:
    - margin 0: the exact conditional McNemar test, p = P(X >= c) for X ~ Binomial(b + c, 1/2).
      `lower` is (b+c)/n * (2*theta_L - 1), theta_L the Clopper-Pearson lower bound on c's share
      of the discordant pairs: its sign is exactly the test's verdict, its size uses the observed
      discordance. With b = c = 0 nothing is learnt: p = 1, lower = 0, not passed.
    - margin > 0: the exact unconditional test of Hsueh, Liu & Chen (2001, Biometrics 57:478):
      outcomes are ranked by Tango's (1998) score statistic for this margin, and p is the largest
      tail probability over the nuisance parameter (the discordance rate) on the null boundary,
      found on a grid that is refined around its maximum. `lower` inverts the same test over all
      differences (ranking anew at each). Identical scores (b = c = 0) pass only with enough cases, about when
      (1 - margin) ** n < 1 - confidence: 59 cases for margin 0.05 at 95%.
      Above EXACT_MAX_CASES cases, Tango's asymptotic score test and its inverted bound
      (method "tango-score").
    Graded scores (method "paired-bootstrap"): `resamples` seeded resamples of the per-case
    differences; `lower` is the percentile bound and p the share of resampled means <= -margin.
    The bootstrap is approximate and optimistic with few cases.
    """
    _check_level(margin, confidence)
    base_arr, cand_arr = _paired(base, cand)
    alpha = 1 - confidence
    if is_binary(base_arr) and is_binary(cand_arr):
        b = int(np.count_nonzero((base_arr == 1) & (cand_arr == 0)))
        c = int(np.count_nonzero((base_arr == 0) & (cand_arr == 1)))
        p_value, lower, method = _paired_binary(b, c, len(base_arr), float(margin), alpha)
        return Decision(p_value < alpha, (c - b) / len(base_arr), lower, p_value, method)
    return _bootstrap_decision(cand_arr - base_arr, float(margin), alpha, seed, resamples)


def mean_ci(scores: Sequence[float], confidence: float, seed: int = 0, resamples: int = 2000) -> tuple[float, float]:
    """Two-sided CI for a mean score: Wilson for 0/1 scores, a seeded percentile bootstrap otherwise."""
    _check_level(0.0, confidence)
    values = _scores(scores)
    alpha = 1 - confidence
    if is_binary(values):
        return _wilson(int(values.sum()), len(values), alpha)
    means = _bootstrap_means(values, seed, resamples)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def is_binary(scores: Sequence[float]) -> bool:
    values = np.asarray(scores, dtype=float)
    return bool(np.all((values == 0) | (values == 1)))


def optimistic_completion(base_full: Sequence[float], cand_partial: Sequence[float]) -> list[float]:
    """The candidate's scores if it got every case not yet run right."""
    return _complete(base_full, cand_partial, 1.0)


def pessimistic_completion(base_full: Sequence[float], cand_partial: Sequence[float]) -> list[float]:
    """The candidate's scores if it got every case not yet run wrong."""
    return _complete(base_full, cand_partial, 0.0)


def _complete(base_full: Sequence[float], cand_partial: Sequence[float], fill: float) -> list[float]:
    if len(cand_partial) > len(base_full):
        raise ValueError(f"{len(cand_partial)} candidate scores for {len(base_full)} cases")
    return [float(s) for s in cand_partial] + [fill] * (len(base_full) - len(cand_partial))


# --- checks -----------------------------------------------------------------------------------


def _check_level(margin: float, confidence: float) -> None:
    if not 0 <= margin < 1:
        raise InputError(
            f"max_drop must be in [0, 1), got {margin!r}: give the tolerated drop as a fraction, e.g. 0.02"
        )
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence!r}: use e.g. 0.95")


def _scores(scores: Sequence[float]) -> np.ndarray:
    values = np.asarray(scores, dtype=float)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError("need a non-empty list of scores")
    if not np.all(np.isfinite(values)):
        raise ValueError("scores must be finite numbers")
    return values


def _paired(base: Sequence[float], cand: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    base_arr, cand_arr = _scores(base), _scores(cand)
    if len(base_arr) != len(cand_arr):
        raise ValueError(f"paired scores differ in length: {len(base_arr)} baseline, {len(cand_arr)} candidate")
    return base_arr, cand_arr


def _sup_below(f: Callable[[float], float], lo: float, hi: float, alpha: float) -> float:
    """sup{x in [lo, hi]: f(x) < alpha} for a continuous non-decreasing f with f(lo) < alpha <= f(hi).

    The Illinois variant of false position: few evaluations of f, the bracket always kept.
    """
    start, g_lo, g_hi, kept = lo, f(lo) - alpha, f(hi) - alpha, 0
    for step in range(200):
        if hi - lo <= TOLERANCE:
            break
        x = (lo * g_hi - hi * g_lo) / (g_hi - g_lo) if g_hi > g_lo else lo
        x = x if lo < x < hi and step % 4 != 3 else (lo + hi) / 2  # bisect now and then: f may be flat
        g = f(x) - alpha
        if g < 0:
            lo, g_lo = x, g
            g_hi, kept = (g_hi / 2 if kept == 1 else g_hi), 1
        else:
            hi, g_hi = x, g
            g_lo, kept = (g_lo / 2 if kept == -1 else g_lo), -1
    # f is continuous, so the supremum lies strictly above a point where f < alpha
    return max(lo, math.nextafter(start, hi))


# --- 0/1 scores --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)  # racing asks about the same tallies again and again
def _paired_binary(b: int, c: int, n: int, margin: float, alpha: float) -> tuple[float, float, str]:
    """(p_value, lower, method) for b base-only and c cand-only successes among n pairs."""
    if margin == 0:
        return (*_conditional(b, c, n, alpha), "mcnemar-exact")
    if n > EXACT_MAX_CASES:
        tail = lambda diff: NormalDist().cdf(-float(_score_z(b, c, n, diff)))  # noqa: E731
        return (*_invert(tail, margin, alpha), "tango-score")
    tail = lambda diff: _sup_prob(_region(b, c, n, diff), diff)  # noqa: E731
    return (*_invert(tail, margin, alpha), "mcnemar-exact")


def _binomial_upper_tail(k: int, n: int, theta: float) -> float:
    """P(X >= k) for X ~ Binomial(n, theta), summed in logs so large n does not underflow."""
    if k <= 0:
        return 1.0
    if theta <= 0 or k > n:
        return 0.0
    if theta >= 1:
        return 1.0
    j = np.arange(k, n + 1)
    log_terms = _log_comb(n)[j] + j * math.log(theta) + (n - j) * math.log1p(-theta)
    return float(min(1.0, np.exp(log_terms).sum()))


def _conditional(b: int, c: int, n: int, alpha: float) -> tuple[float, float]:
    discordant = b + c
    p_value = sum(math.comb(discordant, j) for j in range(c, discordant + 1)) / 2**discordant
    if discordant == 0:
        return p_value, 0.0
    passed = p_value < alpha
    tail = lambda theta: _binomial_upper_tail(c, discordant, theta)  # noqa: E731
    # bracket at 1/2, where the test itself decided, so the bound's sign is the verdict
    if passed:
        theta_low = _sup_below(tail, 0.5, 1.0, alpha)
    else:
        theta_low = 0.0 if c == 0 else min(0.5, _sup_below(tail, 0.0, 0.5, alpha))
    return p_value, discordant / n * (2 * theta_low - 1)


@lru_cache(maxsize=64)
def _log_factorials(n: int) -> np.ndarray:
    """log j! for j = 0..n."""
    return np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, n + 1)))))


def _log_comb(n: int) -> np.ndarray:
    """log C(n, j) for j = 0..n."""
    log_fact = _log_factorials(n)
    return log_fact[n] - log_fact - log_fact[::-1]


def _tango_z(b: np.ndarray, c: np.ndarray, n: int, margin: float) -> np.ndarray:
    """Tango's score statistic for H0: p_c - p_b = -margin, 0 <= margin <= 1 (large favours cand)."""
    b, c = np.asarray(b, dtype=float), np.asarray(c, dtype=float)
    linear = b + c - (2 * n - b + c) * margin
    # restricted MLE of p_c, the positive root of Tango's quadratic
    p_c = (linear + np.sqrt(np.maximum(0.0, linear**2 + 8 * n * c * margin * (1 - margin)))) / (4 * n)
    top, bottom = c - b + n * margin, np.sqrt(np.maximum(0.0, n * (2 * p_c + margin * (1 - margin))))  # rounding
    with np.errstate(divide="ignore", invalid="ignore"):
        # a zero variance (no discordant pairs at margin 0, or margin 1) leaves only the sign
        return np.where(bottom > 0, top / bottom, np.where(top > 0, np.inf, 0.0))


def _score_z(b: int, c: int, n: int, diff: float) -> np.ndarray:
    """Tango's statistic for H0: p_c - p_b = diff, for either sign of diff."""
    return -_tango_z(c, b, n, diff) if diff > 0 else _tango_z(b, c, n, -diff)


def _region(b_obs: int, c_obs: int, n: int, diff: float) -> np.ndarray:
    """The outcomes (b, c) at least as extreme as the observed one for H0: p_c - p_b = diff, as rows
    (log multinomial coefficient, b, c, n - b - c): a dot product with (1, log p_b, log p_c,
    log p_rest) is the outcome's log probability."""
    b, c = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    feasible = b + c <= n
    z = np.where(feasible, _score_z(b, c, n, diff), -np.inf)
    inside = z >= z[b_obs, c_obs] - 1e-9
    # close upwards (fewer b, more c): then the null's worst case lies on its boundary
    inside = np.maximum.accumulate(inside, axis=1)
    inside = np.maximum.accumulate(inside[::-1], axis=0)[::-1] & feasible
    b, c = b[inside], c[inside]
    log_fact = _log_factorials(n)
    log_weight = log_fact[n] - log_fact[b] - log_fact[c] - log_fact[n - b - c]
    return np.column_stack([log_weight, b, c, n - b - c])


def _region_prob(region: np.ndarray, diff: float, t: np.ndarray) -> np.ndarray:
    """P(outcome in region) where p_c - p_b = diff and the smaller of the two is t."""
    p_c, p_b = t + max(diff, 0.0), t + max(-diff, 0.0)
    cells = np.stack([p_b, p_c, 1 - p_b - p_c])
    # a floor, not log(0): 0 * -inf would be NaN, and 1e-300 ** count is as good as 0
    log_p = region @ np.vstack([np.ones_like(t), np.log(np.maximum(cells, 1e-300))])
    return np.exp(log_p, out=log_p).sum(axis=0)


def _sup_prob(region: np.ndarray, diff: float) -> float:
    """Largest region probability over the nuisance parameter at this difference."""
    lo, hi, best = 0.0, (1 - abs(diff)) / 2, 0.0
    for points in (GRID, *ZOOM):
        t = np.linspace(lo, hi, points)
        probs = _region_prob(region, diff, t)
        i = int(np.argmax(probs))
        best = max(best, float(probs[i]))
        lo, hi = t[max(i - 1, 0)], t[min(i + 1, points - 1)]
    return min(1.0, best)


def _invert(tail: Callable[[float], float], margin: float, alpha: float) -> tuple[float, float]:
    """(p_value, lower) from tail(diff), the p-value for H0: p_c - p_b <= diff."""
    p_value = tail(-margin)
    # bracket at -margin, where the test itself decided, so lower > -margin iff passed
    if p_value < alpha:
        return p_value, _sup_below(tail, -margin, 1.0, alpha)
    if tail(-1.0) >= alpha:
        return p_value, -1.0  # even "cand always wrong where base is right" is not ruled out
    return p_value, min(-margin, _sup_below(tail, -1.0, -margin, alpha))


def _wilson(successes: int, n: int, alpha: float) -> tuple[float, float]:
    z = NormalDist().inv_cdf(1 - alpha / 2)
    share = successes / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


# --- graded scores ------------------------------------------------------------------------------


def _bootstrap_means(values: np.ndarray, seed: int, resamples: int) -> np.ndarray:
    """Means of `resamples` seeded resamples with replacement, drawn in one array."""
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 1:
        raise InputError(f"resamples must be a positive whole number, got {resamples!r}: use e.g. 2000")
    rng = np.random.default_rng(seed)
    return values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)


def _bootstrap_decision(diffs: np.ndarray, margin: float, alpha: float, seed: int, resamples: int) -> Decision:
    means = np.sort(_bootstrap_means(diffs, seed, resamples))
    p_value = int(np.count_nonzero(means <= -margin)) / resamples
    # the largest rank k with k / resamples < alpha: then means[k] > -margin iff p_value < alpha
    k = max(0, math.ceil(alpha * resamples) - 1)
    while (k + 1) / resamples < alpha:
        k += 1
    while k > 0 and k / resamples >= alpha:
        k -= 1
    return Decision(p_value < alpha, float(diffs.mean()), float(means[k]), p_value, "paired-bootstrap")
