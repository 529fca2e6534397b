import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptslim.errors import InputError
from promptslim.stats import (
    is_binary,
    mean_ci,
    noninferiority,
    optimistic_completion,
    pessimistic_completion,
)


def tally(n, b, c):
    """0/1 scores on n cases: b cases only base gets right, c only cand, the rest both."""
    base = [1.0] * b + [0.0] * c + [1.0] * (n - b - c)
    cand = [0.0] * b + [1.0] * c + [1.0] * (n - b - c)
    return base, cand


# --- 0/1 scores, margin 0: the exact conditional McNemar test ------------------------------------


def test_mcnemar_one_sided_p_is_half_the_known_two_sided_value():
    # b=2, c=8: two-sided exact p = 0.109375; cand is better, so p = P(X >= 8 | 10, 1/2) = 56/1024
    decision = noninferiority(*tally(10, 2, 8), margin=0.0, confidence=0.95)
    assert decision.p_value == 0.109375 / 2 == 56 / 1024
    assert decision.method == "mcnemar-exact" and decision.diff == pytest.approx(0.6)
    assert not decision.passed  # 0.0547 >= 0.05
    assert noninferiority(*tally(10, 2, 8), margin=0.0, confidence=0.90).passed


def test_mcnemar_right_tail_when_cand_is_worse():
    decision = noninferiority(*tally(10, 8, 2), margin=0.0, confidence=0.95)
    assert decision.p_value == 1 - 11 / 1024  # P(X >= 2 | 10, 1/2)
    assert not decision.passed and decision.lower < 0


def test_mcnemar_bound_is_clopper_pearson_on_the_discordant_pairs():
    decision = noninferiority(*tally(10, 2, 8), margin=0.0, confidence=0.90)
    theta = (decision.lower / 1.0 + 1) / 2  # all 10 pairs are discordant
    tail = sum(math.comb(10, j) * theta**j * (1 - theta) ** (10 - j) for j in range(8, 11))
    assert tail == pytest.approx(0.10, abs=1e-5)  # P(X >= 8; theta_L) = 1 - confidence
    assert decision.lower > 0


def test_identical_scores_prove_nothing_at_margin_zero():
    decision = noninferiority([1, 0, 1, 1], [1, 0, 1, 1], margin=0.0, confidence=0.95)
    assert (decision.passed, decision.diff, decision.lower, decision.p_value) == (False, 0.0, 0.0, 1.0)


# --- 0/1 scores, margin > 0: exact unconditional test ---------------------------------------------


@pytest.mark.parametrize("n, passed", [(58, False), (59, True)])
def test_identical_scores_pass_once_there_are_enough_cases(n, passed):
    # worst case under H0: base alone right on 5% of cases; P(no such case among n) = 0.95 ** n
    decision = noninferiority([1.0] * n, [1.0] * n, margin=0.05, confidence=0.95)
    assert decision.p_value == pytest.approx(0.95**n, rel=1e-6)
    assert decision.passed is passed
    assert decision.lower == pytest.approx(-(1 - 0.05 ** (1 / n)), abs=1e-5)


@pytest.mark.parametrize(
    "n, b, c, margin, passed",
    [
        (100, 1, 1, 0.05, True),  # one loss, one win in 100: clearly within 5 points
        (100, 10, 0, 0.05, False),  # ten losses: 10 points worse
        (100, 3, 0, 0.05, False),  # 3 points worse: cannot rule out 5
        (30, 0, 0, 0.10, True),  # 0.9 ** 30 = 0.042
    ],
)
def test_noninferiority_verdicts(n, b, c, margin, passed):
    decision = noninferiority(*tally(n, b, c), margin=margin, confidence=0.95)
    assert decision.passed is passed and decision.method == "mcnemar-exact"
    assert decision.diff == pytest.approx((c - b) / n)


def test_exact_test_never_rejects_more_often_than_alpha():
    n, margin, alpha = 15, 0.1, 0.05
    rejects = [
        (b, c)
        for b in range(n + 1)
        for c in range(n + 1 - b)
        if noninferiority(*tally(n, b, c), margin=margin, confidence=1 - alpha).passed
    ]
    assert rejects
    for t in np.linspace(0, (1 - margin) / 2, 101):  # the null boundary p_b - p_c = margin
        p_b, p_c = t + margin, t
        size = sum(
            math.comb(n, b) * math.comb(n - b, c) * p_b**b * p_c**c * (1 - p_b - p_c) ** (n - b - c) for b, c in rejects
        )
        assert size <= alpha + 1e-9


def test_many_cases_use_the_score_test():
    n, margin = 300, 0.05
    decision = noninferiority([1.0] * n, [1.0] * n, margin=margin, confidence=0.95)
    assert decision.method == "tango-score" and decision.passed
    # Tango's statistic with no discordant pairs: sqrt(n * margin / (1 - margin))
    assert decision.p_value == pytest.approx(NormalDist().cdf(-math.sqrt(n * margin / (1 - margin))))


# --- graded scores: paired bootstrap -----------------------------------------------------------------

BASE = [0.5, 0.75, 1.0, 0.25, 0.5, 0.75, 0.5, 1.0]


@pytest.mark.parametrize("margin, passed", [(0.3, True), (0.2, False)])
def test_bootstrap_constant_drop(margin, passed):
    cand = [s - 0.25 for s in BASE]  # every case exactly 0.25 worse: every resample says -0.25
    decision = noninferiority(BASE, cand, margin=margin, confidence=0.95)
    assert decision.method == "paired-bootstrap"
    assert decision.diff == decision.lower == -0.25
    assert decision.passed is passed and decision.p_value == (0.0 if passed else 1.0)


def test_bootstrap_is_seeded_and_its_bound_is_the_percentile():
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 1.0, 40)
    cand = np.clip(base + rng.normal(-0.01, 0.1, 40), 0, 1)
    first = noninferiority(base, cand, margin=0.1, confidence=0.95, seed=7)
    assert first == noninferiority(base, cand, margin=0.1, confidence=0.95, seed=7)
    assert first != noninferiority(base, cand, margin=0.1, confidence=0.95, seed=8)
    assert first.passed  # about one point worse, with 40 cases, against a 10-point margin
    # at 75% the bound is the 500th smallest of 2000 resampled mean differences
    draws = np.random.default_rng(7).integers(0, 40, size=(2000, 40))
    means = np.sort((cand - base)[draws].mean(axis=1))
    assert noninferiority(base, cand, margin=0.1, confidence=0.75, seed=7).lower == means[499]


def test_bootstrap_fails_a_clearly_worse_candidate():
    rng = np.random.default_rng(2)
    base = rng.uniform(0.5, 1.0, 30)
    decision = noninferiority(base, base - rng.uniform(0.1, 0.3, 30), margin=0.05, confidence=0.95)
    assert not decision.passed and decision.p_value == 1.0


# --- invariants ---------------------------------------------------------------------------------------


def vectors(values):
    return st.integers(1, 30).flatmap(
        lambda n: st.tuples(st.lists(values, min_size=n, max_size=n), st.lists(values, min_size=n, max_size=n))
    )


binary_pairs = vectors(st.sampled_from([0.0, 1.0]))
graded_pairs = vectors(st.floats(0, 1))
margins = st.one_of(st.just(0.0), st.floats(0, 0.5))
confidences = st.floats(0.5, 0.995)


def check_invariants(base, cand, margin, confidence):
    decision = noninferiority(base, cand, margin=margin, confidence=confidence)
    assert decision.passed == (decision.lower > -margin)
    assert decision.passed == (decision.p_value < 1 - confidence)
    assert 0.0 <= decision.p_value <= 1.0 and -1.0 <= decision.lower <= 1.0
    assert decision.diff == pytest.approx(np.mean(cand) - np.mean(base), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(binary_pairs, margins, confidences)
def test_decision_invariants_binary(pair, margin, confidence):
    check_invariants(*pair, margin, confidence)


@settings(max_examples=150, deadline=None)
@given(graded_pairs, margins, confidences)
def test_decision_invariants_graded(pair, margin, confidence):
    check_invariants(*pair, margin, confidence)


@settings(max_examples=60, deadline=None)
@given(binary_pairs, st.data(), st.floats(0, 0.3), confidences)
def test_completions_bracket_the_final_verdict(pair, data, margin, confidence):
    base, cand = pair
    k = data.draw(st.integers(0, len(base)))
    verdicts = [
        noninferiority(base, scores, margin=margin, confidence=confidence).passed
        for scores in (pessimistic_completion(base, cand[:k]), cand, optimistic_completion(base, cand[:k]))
    ]
    assert verdicts == sorted(verdicts)  # pessimistic passes => final passes => optimistic passes


# --- helpers and errors ------------------------------------------------------------------------------


def test_completions():
    assert optimistic_completion([1, 0, 1, 1], [0, 1]) == [0.0, 1.0, 1.0, 1.0]
    assert pessimistic_completion([1, 0, 1, 1], [0.5]) == [0.5, 0.0, 0.0, 0.0]
    assert pessimistic_completion([1, 0], []) == [0.0, 0.0]
    with pytest.raises(ValueError):
        optimistic_completion([1], [1, 1])


def test_is_binary():
    assert is_binary([0, 1, 1.0, 0.0]) and is_binary(np.array([True, False]))
    assert not is_binary([0, 0.5, 1])


def test_mean_ci_wilson_for_binary():
    assert mean_ci([1] * 8 + [0] * 2, 0.95) == pytest.approx((0.4901624715, 0.9433178485))
    # no successes: the upper end is z^2 / (n + z^2)
    z2 = NormalDist().inv_cdf(0.975) ** 2
    assert mean_ci([0] * 10, 0.95) == pytest.approx((0.0, z2 / (10 + z2)))


def test_mean_ci_bootstrap_for_graded():
    scores = [0.2, 0.4, 0.5, 0.6, 0.9, 0.7, 0.3, 0.8]
    low, high = mean_ci(scores, 0.9, seed=3)
    assert (low, high) == mean_ci(scores, 0.9, seed=3)
    assert low < np.mean(scores) < high
    assert mean_ci([0.5] * 5, 0.95) == (0.5, 0.5)


@pytest.mark.parametrize("margin, confidence", [(-0.01, 0.95), (1.0, 0.95), (0.02, 0.0), (0.02, 1.0), (0.02, 95)])
def test_bad_levels_are_input_errors(margin, confidence):
    with pytest.raises(InputError):
        noninferiority([1, 0], [1, 0], margin=margin, confidence=confidence)


@pytest.mark.parametrize("base, cand", [([], []), ([1, 0], [1]), ([0.5, float("nan")], [0.5, 0.5])])
def test_bad_scores_are_value_errors(base, cand):
    with pytest.raises(ValueError):
        noninferiority(base, cand, margin=0.02, confidence=0.95)


def test_mean_ci_errors():
    with pytest.raises(ValueError):
        mean_ci([], 0.95)
    with pytest.raises(InputError, match="confidence"):
        mean_ci([1, 0], 1.5)
