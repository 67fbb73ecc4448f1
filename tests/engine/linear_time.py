"""A check that some work grows linearly with its input, robust to slow or busy machines.

It compares the time per character on a large input with the time per character on a 1 KB one
measured in the same test (best of several runs), against a generous bound: a quadratic
algorithm is a thousand times slower per character at 1 MB, a linear one about as fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable

SMALL = 1024
LARGE = 1024 * 1024
MAX_SLOWDOWN = 50  # per character, large input against small; linear work stays near 1


def _best_time(work: Callable[[], object], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def slowdown(
    work: Callable[[str], object], unit: str, tail: str = "", large_size: int = LARGE
) -> float:
    """How many times slower per character ``work`` is on ~1 MB (or ``large_size``) of ``unit``
    than on ~1 KB."""
    small = unit * (SMALL // len(unit)) + tail
    large = unit * (large_size // len(unit)) + tail
    per_char_small = _best_time(lambda: work(small), runs=20) / len(small)
    per_char_large = _best_time(lambda: work(large), runs=1) / len(large)
    return per_char_large / per_char_small
