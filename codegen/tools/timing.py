"""Timing side by side: ratios of interleaved calls, on a shared, noisy machine."""

import math
import statistics
import time

import jax

_SAMPLE_SECONDS = 0.005


def paired_ratio(mine, theirs, x, repeats: int) -> float:
    """The median of time(mine) / time(theirs), timed alternately.

    Each time is of enough calls to last a few milliseconds: one call on a
    small array is mostly dispatch, and noisier than the work it times.
    """
    for f in (mine, theirs):
        jax.block_until_ready(f(x))  # compile
    start = time.perf_counter()
    jax.block_until_ready(theirs(x))
    calls = max(1, math.ceil(_SAMPLE_SECONDS / (time.perf_counter() - start)))
    ratios = []
    for _ in range(repeats):
        times = []
        for f in (mine, theirs):
            start = time.perf_counter()
            for _ in range(calls):
                jax.block_until_ready(f(x))
            times.append(time.perf_counter() - start)
        ratios.append(times[0] / times[1])
    return statistics.median(ratios)


def geomean(values) -> float:
    values = [v for v in values if v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else math.nan
