"""Tail regimes: a function's limit at +-inf where its closed form overflows.

gelu' = sigmoid(2u) + x*u'*sigmoid(2u)*sigmoid(-2u) holds x**3 in u: beyond
|x| = 7e12 float32's x**3 is inf, and inf * 0 is NaN, though gelu' tends to
1; mish(-inf) is -inf * 0.  Where the closed form is not finite, x is past
a threshold, and the truth there has settled on its limit, the limit is
returned instead: ``where((x >= T) & ~isfinite(f), limit, f)``, or
``where(isinf(x), limit, f)`` where only x = +-inf itself breaks.

The regime fires on the computed value, not on x alone, so it holds at every
parameter value and in every dtype: it is checked in float32 and float64,
at the defaults and at parameter values spread over four decades, and is
left out unless the limit is the same for all of them, or, for a formula
with one parameter, the same for each of its signs: x*sigmoid(k*x)' tends
to 1 for k > 0, to 0 for k < 0, and to 1/2 at k = 0, its own limit.
"""

import functools
from collections.abc import Callable

import numpy as np
import sympy as sp

from codegen.analysis.lower import lower
from codegen.numerics.evaluate import (
    exact_values,
    far_magnitudes,
    float32_values,
    float64_values,
    sample_points,
)
from codegen.numerics.primitives import Where, isfinite, isinf

# Magnitudes from 1 to each float type's largest: 4 a decade in float32, 1 in float64.
_FAR = {np.float32: far_magnitudes(np.float32, 4), np.float64: far_magnitudes(np.float64, 1)}
_INFINITY = float(np.inf)  # the threshold where only x = +-inf breaks
_CHECKED = 24  # broken points where the truth is computed, log-spaced by index
_EVALUATE = {np.float32: float32_values, np.float64: float64_values}


@functools.cache
def tails(expr: sp.Expr, x: sp.Symbol, domain: tuple, samples: tuple = ((),)) -> tuple:
    """(limit, condition on x) for each side where ``expr`` overflows.

    ``samples`` holds parameter values to check the limits at, each a tuple
    of (symbol, value) pairs; the default, one empty tuple, is for ``expr``
    in x alone.
    """
    return tuple(t for t in (_tail(expr, x, domain, s, samples) for s in (1, -1)) if t)


def guarded(lowered: sp.Expr, found: tuple) -> sp.Expr:
    """``lowered``, the computed form of an expression, with its ``tails``.

    NaN fails both comparisons on x, so a NaN input still gives NaN.  Where
    only x = +-inf breaks, x alone is tested: one select for both sides.
    """
    at_infinity = {b.args[1]: limit for limit, b in found if b.has(isinf)}
    finite = [(limit, b) for limit, b in found if not b.has(isinf)]
    if len(finite) == 2 and finite[0][1].rhs == -finite[1][1].rhs:
        # Both sides from the same |x|: one test of the value, one select.
        (high, above), (low, _) = finite
        x, threshold = above.lhs, above.rhs
        limit = high if high == low else Where(x > 0, high, low)
        beyond = sp.Abs(x) >= threshold
        lowered = Where(sp.And(beyond, sp.Not(isfinite(lowered))), limit, lowered)
        finite = []
    for limit, beyond in reversed(finite):
        lowered = Where(sp.And(beyond, sp.Not(isfinite(lowered))), limit, lowered)
    if not at_infinity:
        return lowered
    (x,) = {b.args[0].args[0] for _, b in found if b.has(isinf)}
    limits = list(at_infinity.values())
    if len(at_infinity) == 2 and limits[0] != limits[1]:
        return Where(isinf(x), Where(x > 0, at_infinity[x > 0], at_infinity[x < 0]), lowered)
    condition = isinf(x) if len(at_infinity) == 2 else sp.And(isinf(x), *at_infinity)
    return Where(condition, limits[0], lowered)


def _tail(expr, x, domain, sign: int, samples) -> tuple[sp.Expr, sp.Basic] | None:
    low, high = domain
    if (sign > 0 and high < np.inf) or (sign < 0 and low > -np.inf):
        return None
    lowered = lower(expr, x, {}, clamp=False)
    found = _limits(expr, lowered, x, sign, samples)
    if found is None:
        return None
    limits, firsts, settles = found

    def at_zero(parameter: sp.Symbol) -> sp.Expr:
        # At 0 the formula is another one, whose limit neither sign gives:
        # x*sigmoid(k*x)' tends to 1/2.
        if expr.subs(parameter, 0).has(sp.zoo, sp.nan):
            return sp.nan  # undefined at 0, as a*tanh(x/a) is
        zero = _limits(expr, lowered, x, sign, (((parameter, sp.Integer(0)),),))
        value = next(iter(zero[0].values()), None) if zero else None
        return sp.nan if value is None else _number(value)

    value = _limit(limits, at_zero)
    if value is None:
        return None
    # Past every point where the truth has not settled, and not before the
    # closed form first breaks: a pole nearer 0 (x/(x - 3) at 3) stays inf.
    threshold = max(min(firsts), max(settles))
    if threshold >= _INFINITY:  # only x = +-inf itself breaks
        return value, sp.And(isinf(x), x > 0 if sign > 0 else x < 0, evaluate=False)
    beyond = x >= threshold if sign > 0 else x <= -threshold
    return value, beyond


def _limits(expr, lowered, x, sign: int, samples) -> tuple | None:
    """(limits, firsts, settles) of ``lowered``, ``expr``'s closed form, on
    one side: the limit of each parameter sample where the closed form
    breaks, where it first breaks, and where the truth has settled; None if
    it breaks where no finite limit mends it, or nowhere."""
    computed = {
        dtype: [far_values(lowered, x, sign, dtype, dict(s)) for s in samples]
        for dtype in (np.float32, np.float64)
    }
    if all(np.isfinite(v).all() for vs in computed.values() for v in vs):
        return None  # the common case, found without mpmath
    concrete = [expr.subs(dict(s)) for s in samples]
    limits: dict[tuple, float] = {}
    firsts, settles = [], [1.0]
    for dtype, values in computed.items():
        points = sign * _FAR[dtype]
        for c, sample, far in zip(concrete, samples, values, strict=True):
            found = _settled(c, (lowered, dict(sample)), x, points, far, dtype)
            if found is None:
                return None
            if found[0] is None:
                continue
            value, first, settle = found
            if sample in limits and not _same(value, limits[sample]):
                return None  # no one limit in both dtypes
            if dtype is np.float64 or sample not in limits:
                limits[sample] = value
            firsts.append(first)
            settles.append(settle)
    return limits, firsts, settles


def _limit(limits: dict, at_zero: Callable[[sp.Symbol], sp.Expr]) -> sp.Expr | None:
    """The one limit of every parameter sample, or one for each sign of a
    single parameter and ``at_zero`` of it at 0, as x*sigmoid(k*x)' tends
    to 1 or 0 at +inf; None if the limit depends on the parameters otherwise."""
    if not limits:
        return None
    first = next(iter(limits.values()))
    if all(_same(value, first) for value in limits.values()):
        # An infinite limit that every sample's closed form gives needs no tail.
        return None if np.isinf(first) else _number(first)
    if {len(sample) for sample in limits} != {1}:
        return None  # with several parameters, a sign alone settles nothing
    ((parameter, _),) = next(iter(limits))
    by_sign: dict[bool, list[float]] = {True: [], False: []}
    for ((_, at),), value in limits.items():
        by_sign[bool(at > 0)].append(value)
    positive, negative = by_sign[True], by_sign[False]
    if not positive or not negative:
        return None
    if not all(_same(v, positive[0]) for v in positive):
        return None
    if not all(_same(v, negative[0]) for v in negative):
        return None
    otherwise = Where(parameter < 0, _number(negative[0]), at_zero(parameter))
    return Where(parameter > 0, _number(positive[0]), otherwise)


def _number(limit: float) -> sp.Expr:
    if np.isinf(limit):
        return sp.oo if limit > 0 else -sp.oo
    # An integer literal past 2**53 would be a Python int too large for JAX.
    exact = float(limit).is_integer() and abs(limit) < 2**53
    return sp.Integer(int(limit)) if exact else sp.Float(float(limit), 17)


def far_values(lowered, x, sign, dtype, sample) -> np.ndarray:
    """The closed form at the far points and at infinity, the parameters at
    ``sample``: one NumPy function for all the samples."""
    points = sign * np.append(_FAR[dtype], np.inf).astype(dtype)
    return _EVALUATE[dtype](lowered, x, points, sample)


def _settled(concrete, computed, x, points, far, dtype) -> tuple | None:
    """(limit, first, settle) where the closed form ``computed``, a lowered
    form and its parameter values, breaks at the far ``points``, where it
    is ``far``, whose last entry is at infinity: the truth's limit, the
    first point that breaks, and the first past every broken point where the
    truth is not yet the limit in ``dtype``.  (None,) if it never breaks or
    the formula is undefined here; None if it breaks where it has no finite
    limit.  The limit is infinite where the truth grows without bound and
    the closed form is finite until infinity, as x*sigmoid(k*x) is at -inf
    for k < 0."""
    mask = ~np.isfinite(far)
    if not mask.any():
        return (None,)
    # The truth where it breaks, at most _CHECKED points (those nearest 0
    # first), and at the last finite point, where it stands for the limit.
    broken = np.flatnonzero(mask[:-1])
    spread = np.geomspace(1, max(len(broken), 1), _CHECKED).astype(int) - 1
    checked = np.unique(np.append(broken[spread] if len(broken) else [], len(points) - 1))
    checked = checked.astype(int)
    exact = exact_values(concrete, x, points[checked])
    defined = ~np.isnan(exact)  # mpmath gives NaN for inf * 0 beyond its bound on exp
    if not defined.any():
        return (None,)  # undefined at these parameter values
    checked, exact = checked[defined], exact[defined]
    limit = exact[-1]
    # The first break where the formula is defined: a parameter sample can
    # leave the real line near 0 (sqrt(x**2 + b) with b < 0), which no tail mends.
    breaks = checked[mask[checked]]
    if not len(breaks) and not mask[-1]:
        return (None,)
    if np.isnan(limit) or abs(limit) >= np.finfo(dtype).max:
        if not len(breaks):  # it breaks at infinity alone
            return np.copysign(np.inf, limit), _INFINITY, 1.0
        return None
    if not len(breaks) and _grows(concrete, x, points, limit):
        return np.copysign(np.inf, limit), _INFINITY, 1.0
    first = _INFINITY
    if len(breaks):
        # The closed form breaks somewhere between the last far point where it
        # is finite and this one (squareplus' from x = 1.8e19, the far points
        # 1e19 and 3.2e19): the regime starts at that last finite point, and
        # fires only where the value is not finite.
        before = breaks[0] - 1
        first = float(abs(points[before if before >= 0 and not mask[before] else breaks[0]]))
    # Settled: the limit in ``dtype``, or off by less than an ulp of the
    # function's own scale, as 2.5e-41 is beside squareplus's d2/dx db of 0.05.
    if abs(limit) < np.finfo(dtype).tiny:
        # A truth that decays as a power is not 0 at the largest float, but
        # a different subnormal in each dtype: its limit is 0.
        limit = exact[-1] * 0
    with np.errstate(over="ignore", invalid="ignore"):
        scale = _scale(computed, x, dtype, points[-1] > 0)
        near = np.abs(exact - limit) <= np.finfo(dtype).eps * scale
        wrong = checked[mask[checked] & (dtype(exact) != dtype(limit)) & ~near]
    if not len(wrong):
        return limit, first, 1.0
    if wrong[-1] + 1 >= len(points):
        return None
    return limit, first, float(abs(points[wrong[-1] + 1]))


def _grows(concrete, x, points, last: float) -> bool:
    """Whether the truth grows at least as fast as |x|**(1/4) between the
    last two far points, to ``last``: then it has no finite limit, though it
    is finite at the largest float, as x*sigmoid(k*x) = x/2 is at k = 0 and
    sqrt(x) is (well inside the bound: float64 rounds sqrt's own growth)."""
    (before,) = exact_values(concrete, x, points[-2:-1])
    with np.errstate(all="ignore"):
        return bool(abs(last) >= abs(before) * (points[-1] / points[-2]) ** 0.25 > 0)


def _scale(computed, x, dtype, positive: bool) -> float:
    """The largest magnitude of ``computed`` at the sample points from 1 out,
    on the tail's side: not near 0, where f'' of cbrt(log1p(expm1(2x)**2)),
    a cusp, is 1.6e10, and every truth out here would count as its limit."""
    lowered, sample = computed
    points = sample_points((-np.inf, np.inf))
    points = points[(points >= 1) if positive else (points <= -1)]
    values = _EVALUATE[dtype](lowered, x, points, sample)
    finite = np.abs(values[np.isfinite(values)])
    return float(np.max(finite, initial=0.0))


def _same(a: float, b: float) -> bool:
    """Whether two limits agree in float32."""
    with np.errstate(over="ignore"):
        return bool(np.float32(a) == np.float32(b))
