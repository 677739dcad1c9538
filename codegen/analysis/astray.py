"""Far points where a closed form is finite but wrong, and the bounds past
which its log-space form takes over.

An overflow need not leave inf behind.  In f''' of k*x**2*log1p((x + k)**2),
1/((x + k)**2 + 1)**2 underflows to 0 from x = 1.2e77 in float64, so two
terms of the sum vanish and f''' is 40/x where it is 4/x; and atan(inf) is
a finite pi/2.  No check on inf or NaN sees either, so a few far points are
checked against the truth.
"""

import numpy as np
import sympy as sp

from codegen.numerics.evaluate import exact_values, float32_values, float64_values

# Far magnitudes checked: every 4 decades of float32's range from 1e6, every
# 20 of float64's past it.  Few, as the truth costs mpmath a point.
_CHECKS = (
    (np.float32, float32_values, np.logspace(6, 38, 9)),
    (np.float64, float64_values, np.logspace(40, 300, 14)),
)
_TOLERANCE = 1e-3  # relative error that counts as wrong: far more than rounding


def astray_bounds(expr, computed, fallback, x, domain, sample) -> tuple[float, float] | None:
    """(low, high): where ``computed``, the closed form of ``expr``, is finite
    but wrong at a far point past one of them and ``fallback()`` is right there,
    ``computed`` is kept only inside (low, high).  None where it is right at
    every far point checked, or ``fallback`` does not mend one.

    Each bound is the last point checked before the first such point on its
    side, where the fallback is right too, else that point itself."""
    low, high = domain
    for dtype, evaluate, magnitudes in _CHECKS:
        bounds = [-np.inf, np.inf]
        for side, sign in ((0, -1), (1, 1)):
            points = sign * magnitudes
            points = points[(points > low) & (points < high)].astype(dtype)
            bound = _first_mended(expr, computed, fallback, x, points, sample, evaluate)
            if bound is not None:
                bounds[side] = bound
        if np.isfinite(bounds).any():
            return bounds[0], bounds[1]
    return None


def _first_mended(expr, computed, fallback, x, points, sample, evaluate) -> float | None:
    """The bound on one side, from ``points`` in order of magnitude; None if
    ``computed`` is right, or not finite, or not mended, at all of them, or
    there is no ``fallback()``."""
    if not len(points):
        return None
    got = evaluate(computed, x, points, sample)
    if not np.isfinite(got).any():
        return None  # with_fallback's own check sees these points
    truth = exact_values(expr.subs(sample), x, points)
    wrong = _wrong(got, truth, points.dtype)
    if not wrong.any() or fallback() is None:
        return None
    other = evaluate(fallback(), x, points, sample)
    mended = np.isfinite(other) & ~_wrong(other, truth, points.dtype)
    first = int(np.argmax(wrong))
    start = first - 1 if first and mended[first - 1] else first
    lost = (np.isfinite(got) & ~wrong & ~mended)[start:]
    if not mended[first] or lost.any():
        return None  # the fallback must be right wherever it would take over
    return float(points[start])


def _wrong(got: np.ndarray, truth: np.ndarray, dtype) -> np.ndarray:
    """Where ``got`` is finite and off by more than _TOLERANCE of a truth
    that the float type holds, and whose square does not underflow: below
    that, as with_fallback judges a 0, the format's limit is to blame."""
    info = np.finfo(dtype)
    size = np.abs(truth)
    held = np.isfinite(truth) & (size >= np.sqrt(info.tiny)) & (size <= info.max)
    with np.errstate(all="ignore"):
        off = np.abs(got - truth) > _TOLERANCE * np.abs(truth)
    return held & np.isfinite(got) & off


def inside(x: sp.Symbol, bounds: tuple[float, float]) -> sp.Basic:
    """The condition that x lies inside ``bounds``, each side tested once."""
    low, high = bounds
    if low == -high:
        return sp.Abs(x) < high
    conditions = [x > low] if np.isfinite(low) else []
    conditions += [x < high] if np.isfinite(high) else []
    return sp.And(*conditions)
