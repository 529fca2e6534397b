"""The lattice search finds the exhaustive optimum on monotone landscapes, with fewer probes."""

from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from promptslim.lattice import LatticeSearch


@st.composite
def landscapes(draw):
    """Axes with ordered levels, a monotone pass region (everything at or below some corner
    passes) and a cost that falls along every axis."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    corners = draw(st.lists(st.tuples(*[st.integers(0, n) for n in sizes]), max_size=4))
    weights = draw(
        st.lists(
            st.lists(st.integers(1, 9), min_size=max(sizes), max_size=max(sizes)),
            min_size=len(sizes),
            max_size=len(sizes),
        )
    )
    return sizes, corners, weights


def passes(corners, config):
    return all(c == 0 for c in config) or any(all(a <= b for a, b in zip(config, k)) for k in corners)


def cost(weights, config):
    return 1000 - sum(sum(weights[axis][:level]) for axis, level in enumerate(config))


@settings(max_examples=300, deadline=None)
@given(landscapes())
def test_finds_the_exhaustive_optimum(landscape):
    sizes, corners, weights = landscape
    search = LatticeSearch(sizes, lambda c: passes(corners, c), lambda c: cost(weights, c))
    found = next(search.passing())
    every = [c for c in product(*[range(n + 1) for n in sizes]) if passes(corners, c)]
    assert passes(corners, found)
    assert cost(weights, found) == min(cost(weights, c) for c in every)
    assert len(search.probes) <= len(list(product(*[range(n + 1) for n in sizes])))


@settings(max_examples=200, deadline=None)
@given(landscapes())
def test_walks_on_in_cost_order_when_asked_for_the_next(landscape):
    sizes, corners, weights = landscape
    search = LatticeSearch(sizes, lambda c: passes(corners, c), lambda c: cost(weights, c))
    costs = [cost(weights, c) for c in search.passing()]
    assert costs == sorted(costs) and costs[-1] == cost(weights, (0,) * len(sizes))  # the origin: dearest
    every = [c for c in product(*[range(n + 1) for n in sizes]) if passes(corners, c)]
    assert len(costs) <= len(every)


def test_a_lazy_estimate_below_the_cost_keeps_the_order_exact():
    sizes, corners = (4, 4), [(2, 1), (1, 3)]
    weights = [[5, 1, 7, 2], [3, 3, 1, 6]]
    search = LatticeSearch(
        sizes, lambda c: passes(corners, c), lambda c: cost(weights, c), estimate=lambda c: cost(weights, c) - 7 * c[0]
    )
    assert next(search.passing()) == min(
        (c for c in product(range(5), range(5)) if passes(corners, c)), key=lambda c: cost(weights, c)
    )


def test_probes_far_fewer_than_exhaustive_on_a_wide_lattice():
    sizes, corners = (1, 7, 4, 1), [(1, 5, 2, 1)]
    weights = [[4] * 7, [9, 8, 7, 6, 5, 4, 3], [20, 15, 10, 5, 1, 1, 1], [2] * 7]
    search = LatticeSearch(sizes, lambda c: passes(corners, c), lambda c: cost(weights, c))
    assert next(search.passing()) == (1, 5, 2, 1)
    assert len(search.probes) <= 12 < 2 * 8 * 5 * 2 // 4


def test_a_budget_stops_probing_and_falls_back_to_what_is_known():
    sizes, corners = (3, 3), [(3, 3)]
    search = LatticeSearch(sizes, lambda c: passes(corners, c), lambda c: -sum(c), budget=1)
    found = list(search.passing())
    assert search.exhausted and len(search.probes) == 1
    assert found[-1] == (0, 0) and all(passes(corners, c) for c in found)


def test_nothing_dearer_than_the_origin_is_offered():
    costs = {(0,): 10, (1,): 12, (2,): 8}  # level 1 costs more than doing nothing
    search = LatticeSearch((2,), lambda c: c != (2,), lambda c: costs[c])
    assert list(search.passing()) == [(0,)]


def test_an_unbuildable_configuration_rules_out_nothing_else():
    costs = {(1, 1): -10, (2, 2): -5}
    search = LatticeSearch((2, 2), lambda c: None if c == (1, 1) else True, lambda c: costs.get(c, -sum(c)))
    assert next(search.passing()) == (2, 2)
    assert [p.passed for p in search.probes if p.config == (1, 1)] == [None]
