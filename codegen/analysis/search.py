"""Choose among equivalent forms of an expression by measured accuracy.

After Herbie: every candidate is evaluated in float32 (NumPy, as a stand-in
for XLA) at sample points, its error is measured in ulps against mpmath, and
the most accurate candidate wins; fewer operations break ties.
"""

from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from codegen.analysis.lower import interval
from codegen.analysis.model import Context
from codegen.numerics.evaluate import (
    TINY,
    exact_values,
    float32_values,
    sample_points,
    ulp_errors,
)

_FAR_ULPS = 64  # the most error at a far point (1e5 to 1e20) that counts as right there


def most_accurate(candidates: Sequence[sp.Expr], context: Context, margin: float = 1.0) -> sp.Expr:
    """The candidate with the smallest worst-case float32 error (NumPy's, a
    stand-in for XLA's) at the sample points, with the parameters at their
    defaults and at a hundredth, a tenth and ten times them: a form that is
    accurate only at the defaults would be wrong at other values."""
    unique = list(dict.fromkeys(candidates))
    if len(unique) == 1:
        return unique[0]
    errors, right = _scores(unique, context)

    def cost(candidate: sp.Expr) -> tuple[float, int, str]:
        # A form right at fewer far points than another breaks where that
        # one does not (x**2 overflowing in a form brought over one
        # denominator).  Forms that break at different points are left to
        # the tail regimes, which mend each where its truth has a limit.
        narrower = any(_covers(other, right[candidate]) for other in right.values())
        error = np.inf if narrower else float(errors[candidate])
        return (error, sp.count_ops(candidate), sp.srepr(candidate))

    costs = {candidate: cost(candidate) for candidate in unique}
    best = min(unique, key=costs.__getitem__)
    # The first candidate, as written, stays unless another is ``margin`` times better.
    return unique[0] if costs[unique[0]][0] <= margin * costs[best][0] else best


def as_accurate(cheaper: sp.Expr, current: sp.Expr, context: Context, ulps: float) -> bool:
    """Whether ``cheaper`` is right at every far point where ``current`` is,
    and its worst error is within ``ulps`` or at most half again current's."""
    errors, right = _scores([current, cheaper], context)
    if _covers(right[current], right[cheaper]):
        return False
    return errors[cheaper] <= max(ulps, 1.5 * errors[current])


def _scores(unique: list[sp.Expr], context: Context) -> tuple[dict, dict]:
    """Each candidate's worst float32 error at the near points, and whether
    it is right at each far point, with the parameters at their defaults and
    at a hundredth, a tenth and ten times them."""
    x, defaults = context.x, context.defaults
    near, far = sample_points(context.domain), _far(context.domain)
    points = np.concatenate([near, far])
    samples = [dict(s) for s in context.samples[: 4 if defaults else 1]]
    exact = [exact_values(unique[0].subs(s), x, points) for s in samples]
    errors, right = {}, {}
    for c in unique:
        values = [float32_values(c.subs(s), x, points) for s in samples]
        pairs = list(zip(values, exact, strict=True))
        errors[c] = max(
            np.max(_near_errors(v[: len(near)], e[: len(near)]), initial=0.0) for v, e in pairs
        )
        right[c] = np.concatenate(
            [ulp_errors(v[len(near) :], e[len(near) :]) <= _FAR_ULPS for v, e in pairs]
        )
    return errors, right


def _near_errors(values: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """ulp errors, but none where a value is inf or NaN and the truth is
    below TINY: a tail regime returns the limit 0 there.  Counted, the
    stable form of x*tanh(exp(x))'', NaN past x = 44, lost to tanh(u)**2 - 1,
    which is 0 there but 183 ulps off near x = 1."""
    errors = ulp_errors(values, exact)
    defined = ~np.isnan(exact)
    settled = ~np.isfinite(values[defined]) & (np.abs(exact[defined]) < TINY)
    return np.where(settled, 0.0, errors)


def _far(domain: tuple[float, float]) -> np.ndarray:
    """float32 points far out, where a form's intermediate may overflow."""
    magnitudes = np.array([1e5, 1e10, 1e15, 1e20], np.float32)
    points = np.concatenate([-magnitudes, magnitudes])
    return points[(points > domain[0]) & (points < domain[1])]


def _covers(wider: np.ndarray, narrower: np.ndarray) -> bool:
    """Whether ``wider`` holds every point of ``narrower`` and more."""
    return bool((wider >= narrower).all() and (wider > narrower).any())


def best_form(
    expr: sp.Expr,
    rewrites: Callable[[sp.Expr], list[sp.Expr]],
    context: Context,
    margin: float = 1.0,
) -> sp.Expr:
    """The most accurate of ``expr`` and its ``rewrites``, chosen branch by branch."""
    return by_branch(
        expr,
        context.x,
        context.domain,
        lambda branch, where: most_accurate(
            [branch, *rewrites(branch)], context.within(where), margin
        ),
    )


def by_branch(
    expr: sp.Expr,
    x: sp.Symbol,
    domain: tuple[float, float],
    transform: Callable[[sp.Expr, tuple[float, float]], sp.Expr],
) -> sp.Expr:
    """``transform(branch, interval)`` applied to each branch of a Piecewise.

    Each branch is given the interval where it is taken.
    """
    if not isinstance(expr, sp.Piecewise):
        return transform(expr, domain)
    pairs: list[tuple[sp.Expr, sp.Basic]] = []
    earlier: list[sp.Basic] = []
    for branch, condition in expr.args:
        where = _interval(sp.And(condition, *earlier), x, domain)
        pairs.append((by_branch(branch, x, where, transform), condition))
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
