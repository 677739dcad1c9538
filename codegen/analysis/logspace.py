"""A log-space fallback where a product overflows and underflows at once.

softplus(exp(x))''' holds exp(2x) * sigmoid(-exp(x)): past x = 44 in
float32 exp(2x) is inf and the sigmoid 0, so the product is NaN, though the
truth, about exp(x), is finite up to x = 88.  No tail limit mends it: the
truth grows without bound.  In log space, exp(2x - softplus(exp(x))), the
product is finite.  That form costs more transcendentals and may round
worse, so it is taken only where the closed form is not finite, and added
only where it mends a point at which the truth is finite.
"""

import numpy as np
import sympy as sp

from codegen.analysis.lower import lower
from codegen.numerics.evaluate import exact_values, float32_values, float64_values
from codegen.numerics.primitives import Where, isfinite, sigmoid, softplus

# Magnitudes to look for breaks at: 16 a decade to 1e4, then 1 a decade.
_MAGNITUDES = np.unique(np.concatenate([np.geomspace(1, 1e4, 65), np.logspace(4, 308, 305)]))
# Each float type: its NumPy evaluation and its largest finite value.
_TYPES = (
    (np.float32, float32_values, float(np.finfo(np.float32).max)),
    (np.float64, float64_values, float(np.finfo(np.float64).max)),
)
_CHECKED = 24  # broken points where the truth is computed, at most


def log_space(expr: sp.Expr) -> sp.Expr:
    """``expr`` with each product's exponentials merged into one exp, and
    sigmoid(u) written as exp(-softplus(-u)) so that it merges too."""
    written = expr.replace(sigmoid, lambda u: sp.exp(-softplus(-u)))
    return sp.powsimp(written, deep=True, combine="exp")


def with_fallback(
    expr: sp.Expr, computed: sp.Expr, x: sp.Symbol, domain, samples, defaults, clamp: bool
) -> sp.Expr:
    """``computed``, the lowered form of ``expr``, with ``expr`` in log space
    where ``computed`` is not finite, if that mends a point."""
    alternative = log_space(expr)
    if alternative == expr:
        return computed
    fallback = lower(alternative, x, defaults, clamp=clamp)
    if not any(_mends(expr, computed, fallback, x, domain, dict(s)) for s in samples):
        return computed
    return Where(isfinite(computed), computed, fallback)


def _mends(expr, computed, fallback, x, domain, sample) -> bool:
    """Whether ``fallback`` is right at a point where ``computed`` is not
    finite and the truth is, in float32 or float64, at one parameter sample."""
    low, high = domain
    points = np.concatenate([-_MAGNITUDES, _MAGNITUDES])
    points = points[(points > low) & (points < high)]
    for dtype, evaluate, largest in _TYPES:
        typed = points[np.abs(points) <= largest].astype(dtype)
        broken = typed[~np.isfinite(evaluate(computed.subs(sample), x, typed))]
        if not len(broken):
            continue
        picked = broken[np.unique(np.linspace(0, len(broken) - 1, _CHECKED).astype(int))]
        truth = exact_values(expr.subs(sample), x, picked)
        finite = np.isfinite(truth) & (np.abs(truth) <= largest)
        if not finite.any():
            continue
        got = evaluate(fallback.subs(sample), x, picked[finite])
        with np.errstate(all="ignore"):
            close = np.abs(got - truth[finite]) <= 1e-3 * np.abs(truth[finite])
        if close.any():
            return True
    return False
