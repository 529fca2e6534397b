"""Held-back cases: a seeded share of the cases that the search never sees.

The winner is chosen among many candidates on the search cases, so its score there flatters
it (the winner's curse). It is confirmed on the held-back cases instead, with the baseline run
on them too. A paired test with 0/1 scores needs a minimum number of cases before even perfect
agreement can show non-inferiority (about 59 for a 5-point margin at 95%): when the share
asked for is smaller, more cases are held back if enough remain to search with; when there
are too few cases for both, nothing is held back and the report says why.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from .spec import Accept, Case
from .stats import noninferiority

MIN_HOLDOUT_CASES = 30  # held back at least, when there are 100 cases or more
MIN_SEARCH_CASES = 20  # left to search with, at least
SCREENING_LEVELS = (0.9, 0.8, 0.7, 0.6, 0.5)  # fallbacks for screening on too few search cases


@dataclass(frozen=True)
class Split:
    search: tuple[Case, ...]
    held: tuple[Case, ...]
    note: str  # how the split was made, for the report


def split(cases: Sequence[Case], accept: Accept, seed: int) -> Split:
    """Seeded, disjoint search and held-back cases (see the module's docstring)."""
    n = len(cases)
    if accept.holdout == 0:
        return Split(
            tuple(cases), (), "holdout 0: nothing held back; the winner's score comes from the cases it won on"
        )
    size = math.ceil(accept.holdout * n)
    if n >= 100:
        size = max(size, MIN_HOLDOUT_CASES)
    needed = cases_to_confirm(accept)
    note = f"held back {{}} of {n} cases ({accept.holdout:g} asked)"
    if size < needed:
        if n - needed < MIN_SEARCH_CASES:
            return Split(
                tuple(cases),
                (),
                f"nothing held back: {n} cases are too few to confirm on {needed} held-back cases "
                f"and search on {MIN_SEARCH_CASES} (add cases, or raise max_drop); "
                "the winner's score comes from the cases it won on",
            )
        size = needed
        note += ", the fewest on which perfect agreement can pass the test"
    order = list(range(n))
    random.Random(f"holdout:{seed}").shuffle(order)
    held = set(order[:size])
    return Split(
        tuple(c for i, c in enumerate(cases) if i not in held),
        tuple(c for i, c in enumerate(cases) if i in held),
        note.format(size),
    )


def cases_to_confirm(accept: Accept) -> int:
    """The fewest cases on which perfect agreement passes the test (0/1 scores); a large number
    when none do (max_drop 0 asks for strictly better answers)."""
    if accept.max_drop <= 0:
        return 10**9
    guess = math.ceil(math.log(1 - accept.confidence) / math.log(1 - accept.max_drop))
    for n in range(max(1, guess - 3), guess + 20):
        if _perfect_passes(n, accept, accept.confidence):
            return n
    return guess


def screening_confidence(accept: Accept, search_cases: int) -> float:
    """The confidence the search screens at: the spec's, or where perfect agreement on the search
    cases could not pass at it, the highest of SCREENING_LEVELS at which it could (the held-back
    cases then hold the winner to the spec's level)."""
    for level in (accept.confidence, *(c for c in SCREENING_LEVELS if c < accept.confidence)):
        if _perfect_passes(search_cases, accept, level):
            return level
    return SCREENING_LEVELS[-1]


def _perfect_passes(n: int, accept: Accept, confidence: float) -> bool:
    return noninferiority([1.0] * n, [1.0] * n, margin=accept.max_drop, confidence=confidence).passed
