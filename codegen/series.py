"""Series regimes: Taylor polynomials where every closed form cancels.

Herbie's series regime.  Near 0 an odd derivative of an even function, or a
removable singularity such as (1 - cos(x))/x**2, cancels in any closed form;
so does any function near a root of its own, where it is a difference of
terms that are not small (mish' near x = -1.19).  There its Taylor
polynomial, written in x - x0 computed without rounding, is accurate instead.

A regime costs a select and a polynomial, so it is added only where it wins
and only to formulas in x alone: a polynomial's coefficients would hold
one value of each parameter.
"""

import functools

import mpmath
import numpy as np
import sympy as sp

from codegen.primitives import offset, polynomial
from codegen.search import (
    DIGITS,
    TINY,
    by_branch,
    exact_values,
    float32_values,
    mpmath_function,
    sample_points,
    ulp_errors,
)

FLOAT64_TRUNCATION = 1e-15  # the polynomial must serve float64 inputs too
_CIRCLE = 64  # points of the Cauchy integral: aliasing is (radius/R)**64
_AT_ZERO = (10, (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.001), 1.0)  # terms, thresholds, error
# Away from 0 the cancellation spreads wider, so the polynomial reaches further.
_AT_ROOT = (20, (0.5, 0.35, 0.25, 0.15, 0.1, 0.05), 4.0)


@functools.cache
def with_series(expr: sp.Expr, x: sp.Symbol, domain: tuple[float, float]) -> sp.Expr:
    """``expr`` with Taylor regimes where they beat it, branch by branch."""
    if expr.free_symbols != {x}:
        return expr
    return by_branch(expr, x, domain, lambda branch, where: _regimes(branch, x, where))


def _regimes(expr: sp.Expr, x: sp.Symbol, domain: tuple[float, float]) -> sp.Expr:
    low, high = domain
    centres = [mpmath.mpf(0)] if low <= 0 <= high else []
    centres += _roots(expr, x, domain)
    pairs = []
    for centre in centres:
        terms, thresholds, tolerance = _AT_ZERO if centre == 0 else _AT_ROOT
        regime = _regime(expr, x, domain, centre, terms, thresholds, tolerance)
        if regime is not None:
            pairs.append(regime)
    return sp.Piecewise(*pairs, (expr, True)) if pairs else expr


def _roots(expr: sp.Expr, x: sp.Symbol, domain) -> list[mpmath.mpf]:
    """The roots of ``expr`` other than 0 bracketed by the sample points."""
    points = sample_points(domain)
    exact = exact_values(expr, x, points)
    function = mpmath_function(expr, x)
    roots = []
    for a, b, fa, fb in zip(points.tolist(), points[1:].tolist(), exact, exact[1:], strict=False):
        if (
            not (np.isfinite(fa) and np.isfinite(fb))
            or np.sign(fa) * np.sign(fb) >= 0
            or a * b <= 0
        ):
            continue
        with mpmath.workdps(DIGITS):
            try:
                root = mpmath.findroot(function, (mpmath.mpf(a), mpmath.mpf(b)), solver="anderson")
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                continue
            if a <= root <= b and abs(function(root)) < mpmath.mpf(10) ** (-DIGITS // 2):
                roots.append(root)  # a root, not a pole where the sign flips
    return roots


def _regime(expr, x, domain, centre, terms, thresholds, tolerance):
    """(polynomial, |x - centre| < threshold) for the best threshold, or None."""
    points = _points_near(centre, max(thresholds), domain)
    exact = exact_values(expr, x, points)
    before = _error(expr, x, points, exact)
    if before <= tolerance:
        return None
    coefficients = _taylor(expr, x, centre, terms)
    if coefficients is None:
        return None
    hi = float(np.float32(centre))
    lo = float(centre - hi)
    step = offset(x, hi, lo) if centre != 0 else x
    shifted = polynomial(step, *(sp.Float(c, 17) for c in coefficients))
    distance = sp.Abs(x - sp.Float(hi, 17)) if centre != 0 else sp.Abs(x)
    steps = (points.astype(np.float64) - hi) - lo
    scored = []
    for threshold in thresholds:
        inside = np.abs(steps) < threshold
        if _truncation(coefficients, steps, exact, inside) > FLOAT64_TRUNCATION:
            continue
        condition = distance < threshold
        candidate = sp.Piecewise((shifted, condition), (expr, True))
        scored.append((_error(candidate, x, points, exact), -threshold, condition))
    if not scored:
        return None
    error, _, condition = min(scored, key=lambda s: s[:2])
    return (shifted, condition) if error < before else None


def _points_near(centre: mpmath.mpf, width: float, domain) -> np.ndarray:
    """Sample points within ``width`` of ``centre``, and a root's float32 neighbours."""
    c = float(centre)
    nearest = np.float32(c)
    around = [np.nextafter(nearest, np.float32(-np.inf)), nearest, np.nextafter(nearest, np.inf)]
    around = around if c != 0 else []
    local = c + np.linspace(-width, width, 41)
    low, high = max(domain[0], c - width), min(domain[1], c + width)
    points = np.concatenate([sample_points((low, high)), local, around]).astype(np.float32)
    return np.unique(points[(points > low) & (points < high)])


def _truncation(coefficients, steps, exact, inside) -> float:
    """The polynomial's relative error in float64 at the ``inside`` points."""
    inside = inside & np.isfinite(exact)
    values = np.polyval(coefficients[::-1], steps[inside])
    scale = np.maximum(np.abs(exact[inside]), TINY)
    return float(np.max(np.abs(values - exact[inside]) / scale, initial=0.0))


def _error(expr, x, points, exact) -> float:
    return float(np.max(ulp_errors(float32_values(expr, x, points), exact), initial=0.0))


def _taylor(expr: sp.Expr, x: sp.Symbol, centre, terms: int) -> list[float] | None:
    """The first Taylor coefficients of ``expr`` at ``centre``, or None.

    Cauchy's integral formula on a circle of radius 1/4, by a discrete
    Fourier transform: it never evaluates at the centre, which may be a
    removable singularity such as that of (1 - cos(x))/x**2.  Where the
    circle meets a singularity the coefficients are wrong, and the float64
    check of the polynomial against the function rejects them.
    """
    function = mpmath_function(expr, x)
    with mpmath.workdps(DIGITS):
        radius = mpmath.mpf(1) / 4
        roots = [mpmath.expjpi(mpmath.mpf(2 * j) / _CIRCLE) for j in range(_CIRCLE)]
        half = _CIRCLE // 2 + 1
        try:
            samples = [mpmath.mpc(function(centre + radius * w)) for w in roots[:half]]
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return None
        # A real function takes conjugate values at conjugate points.
        samples += [mpmath.conj(f) for f in reversed(samples[1 : half - 1])]
        coefficients = [
            mpmath.fsum(f * roots[-j * k % _CIRCLE] for j, f in enumerate(samples))
            / (_CIRCLE * radius**k)
            for k in range(terms)
        ]
    if not all(mpmath.isfinite(c) for c in coefficients):
        return None
    largest = max(abs(c) for c in coefficients)
    if any(abs(mpmath.im(c)) > 1e-20 * largest for c in coefficients):
        return None  # not a real analytic function on the circle
    # Drop what is rounding noise of the transform.
    return [float(mpmath.re(c)) if abs(c) > 1e-25 * largest else 0.0 for c in coefficients]
