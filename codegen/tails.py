"""Tail regimes: a derivative's limit at +-inf where its closed form overflows.

gelu' = sigmoid(2u) + x*u'*sigmoid(2u)*sigmoid(-2u) holds x**3 in u: beyond
|x| = 7e12 float32's x**3 is inf, and inf * 0 is NaN, though gelu' tends to
1.  Where the float32 closed form is not finite but the truth is, and the
truth has settled on its limit to float32 precision, the limit is returned
instead: one comparison and one select.
"""

import functools

import numpy as np
import sympy as sp

from codegen.lower import lower
from codegen.search import exact_values, float32_values

_BIG = float(np.finfo(np.float32).max)
# Magnitudes from 1 to float32's largest, 4 a decade, in increasing order.
_FAR = np.unique(np.append(np.logspace(0, 38, 153), _BIG).astype(np.float32)).astype(np.float64)


@functools.cache
def with_tails(expr: sp.Expr, x: sp.Symbol, domain: tuple, defaults: tuple) -> sp.Expr:
    """``expr`` with its limits beyond where it overflows, if it does."""
    pairs = [t for t in (_tail(expr, x, domain, s, dict(defaults)) for s in (1, -1)) if t]
    return sp.Piecewise(*pairs, (expr, True)) if pairs else expr


def _tail(expr, x, domain, sign: int, defaults) -> tuple[sp.Expr, sp.Basic] | None:
    low, high = domain
    points = sign * _FAR
    points = points[(points > low) & (points < high)]
    if len(points) < 8:
        return None
    concrete = expr.subs(defaults)
    computed = float32_values(lower(concrete, x, {}, clamp=False), x, points.astype(np.float32))
    if np.isfinite(computed).all():
        return None  # the common case, found without mpmath
    exact = exact_values(concrete, x, points)
    finite = np.isfinite(exact) & (np.abs(exact) <= _BIG)
    broken = finite & ~np.isfinite(computed)
    if not broken.any() or not finite[-1]:
        return None
    limit = np.float32(exact[-1])
    settled = np.float32(exact) == limit
    if not settled[-1] or not _free_of(expr, x, defaults, points[-1], limit):
        return None
    first = len(settled) - np.argmin(settled[::-1]) if not settled.all() else 0
    if broken[:first].any():
        return None  # it overflows before it settles: the limit would be wrong there
    threshold = sp.Float(float(abs(points[first])), 17)
    value = sp.Integer(int(limit)) if float(limit).is_integer() else sp.Float(float(limit), 17)
    return value, (x >= threshold if sign > 0 else x <= -threshold)


def _free_of(expr, x, defaults, point: float, limit: np.float32) -> bool:
    """Whether the limit is the same for other values of the parameters."""
    if not defaults:
        return True
    moved = {s: 1.5 * v + 0.5 for s, v in defaults.items()}
    (other,) = exact_values(expr.subs(moved), x, np.array([point]))
    return bool(np.float32(other) == limit)
