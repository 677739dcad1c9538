"""Series regimes: Taylor polynomials where every closed form cancels.

Herbie's series regime.  Near 0 an odd derivative of an even function, or a
removable singularity such as (1 - cos(x))/x**2, cancels in any closed form;
so does any function near a root of its own, where it is a difference of
terms that are not small (mish' near x = -1.19).  There its Taylor
polynomial about the float32 c nearest x0, in x - c, which is exact there,
is accurate instead.

A regime costs a select and a polynomial, so it is added only where it wins
and only to formulas in x alone, or such a formula times factors free of
x: a polynomial's coefficients would hold one value of each parameter.
"""

import functools
from collections.abc import Callable

import mpmath
import numpy as np
import sympy as sp

from codegen.analysis.lower import one_exponential
from codegen.analysis.search import by_branch
from codegen.numerics.evaluate import (
    DIGITS,
    TARGETS,
    TINY,
    exact_values,
    float32_values,
    mpmath_function,
    sample_points,
    ulp_errors,
)
from codegen.numerics.primitives import offset, polynomial

FLOAT64_TRUNCATION = 1e-15  # the polynomial must serve float64 inputs too
FLOAT32_TRUNCATION = 2.0**-26  # a quarter of float32's ulp, relative
_TRUNCATIONS = (FLOAT32_TRUNCATION, FLOAT64_TRUNCATION)
_CIRCLE = 64  # points of the Cauchy integral: aliasing is (radius/R)**64
# A regime is added where the error exceeds this share of the order's target:
# the sample points here are not the accuracy report's.
_SHARE = 0.5
_AT_ZERO = (10, (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.001))  # terms, thresholds
# Away from 0 the cancellation spreads wider, so the polynomial reaches further.
_AT_ROOT = (20, (0.5, 0.35, 0.25, 0.15, 0.1, 0.05, 0.02, 0.01))
ROOT_REACH = max(_AT_ROOT[1])  # the farthest a polynomial about a root reaches
REACH = max(_AT_ZERO[1] + _AT_ROOT[1])  # the farthest any reaches: under horner's bound, 1
# The derivative orders a training step evaluates for every element: there a
# polynomial about a root is kept only for a strict spec (its ``accuracy``).
TRAINED_ORDERS = (0, 1)


@functools.cache
def with_series(
    expr: sp.Expr, x: sp.Symbol, domain: tuple[float, float], order: int, roots: bool = True
) -> sp.Expr:
    """``expr``, derivative ``order`` of a function, with Taylor regimes where
    it misses that order's accuracy target, branch by branch: about 0, and
    about its other roots if ``roots``."""
    if order >= len(TARGETS):
        return expr  # past the third derivative, accuracy has no target
    if expr.free_symbols != {x}:
        # A factor free of x (a gate, a scale) leaves the rest's cancellation
        # where it was: its series has the rest's coefficients, whatever the factor.
        # factor_terms takes gate out of gate*a + gate*b.
        outer, inner = sp.factor_terms(expr).as_independent(x, as_Add=False)
        if outer == 1 or inner.free_symbols != {x}:
            return expr
        regimes = with_series(inner, x, domain, order, roots)
        return expr if regimes == inner else outer * regimes
    # In the orders a training step takes, a regime costs every element: it is
    # added only where the closed form misses the target itself.
    tolerance = TARGETS[order] * (1 if order in TRAINED_ORDERS else _SHARE)
    return by_branch(
        expr, x, domain, lambda branch, where: _regimes(branch, x, where, tolerance, roots)
    )


def _regimes(expr: sp.Expr, x: sp.Symbol, domain: tuple[float, float], tolerance, roots) -> sp.Expr:
    if expr.is_polynomial(x):
        return expr  # its own Taylor polynomial: factoring, not a series, helps it
    low, high = domain
    centres = [mpmath.mpf(0)] if low <= 0 <= high else []
    centres += roots_of(expr, x, domain) if roots else []
    found = {}
    for centre in centres:
        terms, thresholds = _AT_ZERO if centre == 0 else _AT_ROOT
        found[centre] = _regime(expr, x, domain, centre, terms, thresholds, tolerance)
    _mirror_pairs(found, functools.cache(lambda: _parity(expr, x, domain)))
    pairs = [regime for regime in found.values() if regime is not None]
    return sp.Piecewise(*pairs, (expr, True)) if pairs else expr


def _parity(expr: sp.Expr, x: sp.Symbol, domain) -> int | None:
    """1 where ``expr`` is even, -1 where it is odd, else None."""
    if domain[0] != -domain[1]:
        return None
    points = sample_points(domain)
    points = points[points > 0]
    plus, minus = exact_values(expr, x, points), exact_values(expr, x, -points)
    finite = np.isfinite(plus)
    if not np.array_equal(finite, np.isfinite(minus)):
        return None
    for sign in (1, -1):
        if np.allclose(minus[finite], sign * plus[finite], rtol=1e-12, atol=0):
            return sign
    return None


def _mirror_pairs(found: dict, parity: Callable[[], int | None]) -> None:
    """Where an even or odd function has regimes about both c and -c, the
    wider of the two about both: the closed form's errors differ by side
    only as it is computed, and the emitted code names one polynomial.
    ``parity`` is asked only where there is such a pair: it costs mpmath
    a value at every sample point."""
    for centre, regime in found.items():
        partner = next((c for c in found if c > 0 and abs(c + centre) < 1e-12 * c), None)
        if centre >= 0 or regime is None or partner is None or found[partner] is None:
            continue
        sign = parity()
        if sign is None:
            return
        wider = max((regime, found[partner]), key=lambda r: float(r[1].rhs))
        mirrored = _mirrored(wider, sign)
        found[centre], found[partner] = (wider, mirrored) if wider is regime else (mirrored, wider)


def _mirrored(regime: tuple, parity: int) -> tuple:
    """The regime about -c of an even (1) or odd (-1) function, from the one about c."""
    shifted, condition = regime
    step, float32_terms, *coefficients = shifted.args
    step = offset(step.args[0], -step.args[1])
    signed = (parity * (-1) ** k * c for k, c in enumerate(coefficients))
    return polynomial(step, float32_terms, *signed), sp.Abs(step) < condition.rhs


def roots_of(expr: sp.Expr, x: sp.Symbol, domain) -> list[mpmath.mpf]:
    """The roots of ``expr`` other than 0 bracketed by the sample points."""
    points = sample_points(domain)
    exact = exact_values(expr, x, points)
    function = mpmath_function(expr, x)
    # A sign change across a sample point where the function is exactly 0.
    roots = [
        mpmath.mpf(float(points[i]))
        for i in range(1, len(points) - 1)
        if exact[i] == 0 and points[i] != 0 and exact[i - 1] * exact[i + 1] < 0
    ]
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
    """(polynomial, |x - centre| < threshold) for the best threshold, or None.

    Scored as computed, with one exponential for sigmoids, as lowering does.
    """
    points = _points_near(centre, thresholds, domain)
    exact = exact_values(expr, x, points)
    closed = float32_values(one_exponential(expr), x, points)
    before = _error(closed, exact)
    if before <= tolerance:
        return None
    # About the float32 nearest the root, so that x - centre is exact.
    centre = mpmath.mpf(float(np.float32(centre)))
    coefficients = _taylor(expr, x, centre, terms)
    if coefficients is None:
        return None
    step = offset(x, sp.Float(float(centre), 17)) if centre != 0 else x
    steps = points.astype(np.float64) - float(centre)
    steps32 = points - np.float32(centre)
    scored = []
    for threshold in thresholds:
        inside = np.abs(steps) < threshold
        needed = [_terms(coefficients, steps, exact, inside, t) for t in _TRUNCATIONS]
        if None in needed:
            continue
        float32_terms, float64_terms = needed
        taylor = np.polyval(np.float32(coefficients[:float32_terms][::-1]), steps32)
        computed = np.where(np.abs(steps32) < np.float32(threshold), taylor, closed)
        shifted = polynomial(
            step, float32_terms, *(sp.Float(c, 17) for c in coefficients[:float64_terms])
        )
        scored.append(
            (_error(computed, exact), float32_terms, -threshold, shifted, sp.Abs(step) < threshold)
        )
    if not scored:
        return None
    # The cheapest polynomial that meets the tolerance, else the most accurate.
    error, *_, shifted, condition = min(scored, key=lambda s: (max(s[0], tolerance), s[1], s[2]))
    return (shifted, condition) if error < before else None


def _terms(coefficients, steps, exact, inside, truncation) -> int | None:
    """The fewest leading coefficients within ``truncation`` at the ``inside`` points."""
    for n in range(1, len(coefficients) + 1):
        if _truncation(coefficients[:n], steps, exact, inside) <= truncation:
            return n
    return None


def _points_near(centre: mpmath.mpf, thresholds, domain) -> np.ndarray:
    """Sample points near ``centre``, a root's float32 neighbours, and both
    sides of each threshold, where the closed form is least accurate."""
    c = float(centre)
    nearest = np.float32(c)
    around = [np.nextafter(nearest, np.float32(-np.inf)), nearest, np.nextafter(nearest, np.inf)]
    around = around if c != 0 else []
    width = max(thresholds)
    edges = np.outer(thresholds, [-1.02, -0.98, 0.98, 1.02]).ravel()
    local = c + np.concatenate([np.linspace(-width, width, 41), edges])
    low, high = max(domain[0], c - width), min(domain[1], c + width)
    points = np.concatenate([sample_points((low, high)), local, around]).astype(np.float32)
    return np.unique(points[(points > low) & (points < high)])


def _truncation(coefficients, steps, exact, inside) -> float:
    """The polynomial's relative error in float64 at the ``inside`` points."""
    inside = inside & np.isfinite(exact)
    values = np.polyval(coefficients[::-1], steps[inside])
    scale = np.maximum(np.abs(exact[inside]), TINY)
    return float(np.max(np.abs(values - exact[inside]) / scale, initial=0.0))


def _error(values: np.ndarray, exact: np.ndarray) -> float:
    return float(np.max(ulp_errors(values, exact), initial=0.0))


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
