"""Choose among equivalent forms of an expression by measured accuracy.

After Herbie: every candidate is evaluated in float32 (NumPy, as a stand-in
for XLA) at sample points, its error is measured in ulps against mpmath, and
the most accurate candidate wins; fewer operations break ties.
"""

import math
from collections.abc import Callable, Mapping, Sequence

import mpmath
import numpy as np
import scipy.special
import sympy as sp

from codegen.lower import interval
from codegen.printer import fold_constants

TINY = 1e-30  # errors of smaller results are measured against this
DIGITS = 40
_MPMATH = {
    "sigmoid": lambda u: 1 / (1 + mpmath.exp(-u)),
    "softplus": lambda u: mpmath.log1p(mpmath.exp(u)),
    "erfc": mpmath.erfc,
    "log1p": mpmath.log1p,
    "expm1": mpmath.expm1,
}
_FLOAT32 = {
    "sigmoid": scipy.special.expit,
    "softplus": lambda u: np.logaddexp(u, np.float32(0)),
    "erfc": scipy.special.erfc,
    "erf": scipy.special.erf,
    "log1p": np.log1p,
    "expm1": np.expm1,
}


def sample_points(domain: tuple[float, float]) -> np.ndarray:
    """float32 points of both signs from 1e-8 to 1e3, and -4..4, inside ``domain``."""
    magnitudes = np.concatenate([np.logspace(-8, 3, 23), np.linspace(0.25, 4, 16)])
    points = np.concatenate([-magnitudes, [0.0], magnitudes]).astype(np.float32)
    low, high = domain
    return np.unique(points[(points > low) & (points < high)])


def exact_values(
    expr: sp.Expr, x: sp.Symbol, points: np.ndarray, digits: int = DIGITS
) -> np.ndarray:
    """``expr`` at ``points`` by mpmath, rounded to float64; NaN where undefined."""
    expr = expr.replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    function = sp.lambdify(x, expr, modules=[_MPMATH, "mpmath"])
    values = []
    with mpmath.workdps(digits):
        for p in points:
            try:
                value = complex(function(mpmath.mpf(float(p))))
                values.append(value.real if value.imag == 0 else math.nan)
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                values.append(math.nan)
    return np.array(values)


def float32_values(expr: sp.Expr, x: sp.Symbol, points: np.ndarray) -> np.ndarray:
    """``expr`` at ``points`` computed in float32 by NumPy."""
    function = sp.lambdify(x, fold_constants(expr), modules=[_FLOAT32, "numpy"])
    with np.errstate(all="ignore"):
        values = np.broadcast_to(function(points), points.shape)
    return np.asarray(values, dtype=np.float64)


def ulp_errors(values: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Errors in float32 ulps of max(|exact|, 1e-30), where ``exact`` is defined.

    A truth beyond float32's range is expected to overflow to inf; inf or NaN
    where the truth is finite in float32 counts as an infinite error.
    """
    big = np.finfo(np.float32).max
    with np.errstate(invalid="ignore"):
        exact = np.where(np.abs(exact) > big, np.sign(exact) * np.inf, exact)
    defined = ~np.isnan(exact)
    values, exact = values[defined], exact[defined]
    finite = np.isfinite(exact)
    errors = np.where(values == exact, 0.0, np.inf)  # right for infinite truths
    scale = np.spacing(np.maximum(np.abs(exact[finite]), TINY).astype(np.float32))
    with np.errstate(invalid="ignore", over="ignore"):
        errors[finite] = np.abs(values[finite] - exact[finite]) / scale.astype(np.float64)
    errors[np.isnan(errors)] = np.inf
    return errors


def most_accurate(
    candidates: Sequence[sp.Expr],
    x: sp.Symbol,
    defaults: Mapping[sp.Symbol, float],
    domain: tuple[float, float],
) -> sp.Expr:
    """The candidate with the smallest worst-case float32 error at the sample points."""
    unique = list(dict.fromkeys(candidates))
    if len(unique) == 1:
        return unique[0]
    points = sample_points(domain)
    exact = exact_values(unique[0].subs(defaults), x, points)

    def cost(candidate: sp.Expr) -> tuple[float, int, str]:
        values = float32_values(candidate.subs(defaults), x, points)
        error = float(np.max(ulp_errors(values, exact), initial=0.0))
        return (error, sp.count_ops(candidate), sp.srepr(candidate))

    return min(unique, key=cost)


def best_form(
    expr: sp.Expr,
    rewrites: Callable[[sp.Expr], list[sp.Expr]],
    x: sp.Symbol,
    defaults: Mapping[sp.Symbol, float],
    domain: tuple[float, float],
) -> sp.Expr:
    """The most accurate of ``expr`` and its ``rewrites``, chosen branch by branch.

    Each branch of a Piecewise is scored only where it is taken.
    """
    if not isinstance(expr, sp.Piecewise):
        best = most_accurate([expr, *rewrites(expr)], x, defaults, domain)
        return near_zero(best, x, defaults, domain)
    pairs, earlier = [], []
    for branch, condition in expr.args:
        where = _interval(sp.And(condition, *earlier), x, domain)
        pairs.append((best_form(branch, rewrites, x, defaults, where), condition))
        earlier.append(sp.Not(condition))
    return sp.Piecewise(*pairs)


def _interval(condition: sp.Basic, x: sp.Symbol, domain: tuple[float, float]):
    """The bounds of the interval where ``condition`` holds inside ``domain``."""
    if condition.free_symbols != {x}:
        return domain
    where = interval(condition).intersect(sp.Interval(*domain))
    if not isinstance(where, sp.Interval):
        return domain
    return (float(where.start), float(where.end))


TAYLOR_TERMS = 10
_THRESHOLDS = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.001)
FLOAT64_TRUNCATION = 1e-15  # the polynomial must serve float64 inputs too


def near_zero(expr: sp.Expr, x: sp.Symbol, defaults: Mapping[sp.Symbol, float], domain) -> sp.Expr:
    """``expr``, or a Piecewise that uses its Taylor polynomial where |x| is small.

    Herbie's series regime: where a form cancels near 0 (an odd derivative
    of an even function, say), the Taylor polynomial is accurate instead.
    The threshold is whichever scores best.
    """
    low, high = domain
    if not low <= 0 <= high or not expr.has(x):
        return expr
    points = sample_points((max(low, -1.0), min(high, 1.0)))
    exact = exact_values(expr.subs(defaults), x, points)
    before = _error(expr, x, defaults, points, exact)
    if before <= 1.0:
        return expr
    polynomial = _taylor(expr.subs(defaults), x)
    if polynomial is None:
        return expr
    scored = []
    for threshold in _THRESHOLDS:
        if _truncation(polynomial, x, points, exact, threshold) > FLOAT64_TRUNCATION:
            continue
        candidate = sp.Piecewise((polynomial, sp.Abs(x) < threshold), (expr, True))
        scored.append((_error(candidate, x, defaults, points, exact), -threshold, candidate))
    if not scored:
        return expr
    error, _, best = min(scored, key=lambda s: s[:2])
    return best if error < before else expr


def _truncation(polynomial, x, points, exact, threshold) -> float:
    """The polynomial's relative error in float64 where |x| < threshold."""
    inside = (np.abs(points) < threshold) & np.isfinite(exact)
    function = sp.lambdify(x, polynomial, modules="numpy")
    values = np.asarray(function(points[inside].astype(np.float64)), dtype=np.float64)
    scale = np.maximum(np.abs(exact[inside]), TINY)
    return float(np.max(np.abs(values - exact[inside]) / scale, initial=0.0))


def _error(expr, x, defaults, points, exact) -> float:
    values = float32_values(expr.subs(defaults), x, points)
    return float(np.max(ulp_errors(values, exact), initial=0.0))


def _taylor(expr: sp.Expr, x: sp.Symbol) -> sp.Expr | None:
    """The Taylor polynomial of ``expr`` at 0 in Horner form, or None if none."""
    function = sp.lambdify(x, expr, modules=[_MPMATH, "mpmath"])
    # A removable singularity such as (1 - cos(x))/x**2 cannot be evaluated at
    # 0: expand just off it instead, with the digits the cancellation needs.
    for origin in (mpmath.mpf(0), mpmath.mpf(10) ** -(DIGITS // 2)):
        try:
            with mpmath.workdps(2 * DIGITS):  # high-order numerical derivatives
                coefficients = mpmath.taylor(function, origin, TAYLOR_TERMS - 1)
            break
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            continue
    else:
        return None
    if not all(mpmath.im(c) == 0 and math.isfinite(float(mpmath.re(c))) for c in coefficients):
        return None
    values = [float(mpmath.re(c)) for c in coefficients]
    largest = max(abs(v) for v in values)
    polynomial = sp.S.Zero
    for value in reversed(values):  # drop the noise of numerical differentiation
        polynomial = polynomial * x + sp.Float(value if abs(value) > 1e-13 * largest else 0, 17)
    return polynomial
