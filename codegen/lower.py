"""Lower ``Piecewise`` into branch-safe element-wise selects.

``jnp.where`` evaluates every branch.  A branch that is not taken must not
put inf or NaN into the value or any derivative, so each branch reads a copy
of ``x`` clamped into the interval where that branch is taken (the
double-where pattern).
"""

from collections.abc import Mapping

import sympy as sp

from codegen.primitives import Where

# Candidate offsets from an interval's finite end, tried in turn.
_OFFSETS = (0, 1, sp.Rational(1, 2), sp.Rational(1, 10), sp.Rational(1, 1000))


def lower(expr: sp.Expr, x: sp.Symbol, defaults: Mapping[sp.Symbol, float]) -> sp.Expr:
    """Replace every Piecewise in ``expr`` by nested :class:`Where` selects."""
    if isinstance(expr, sp.Piecewise):
        return _select(expr, x, defaults)
    if not expr.args:
        return expr
    return expr.func(*(lower(arg, x, defaults) for arg in expr.args))


def _select(pw: sp.Piecewise, x: sp.Symbol, defaults) -> sp.Expr:
    conditions = [c for _, c in pw.args]
    branches = []
    for i, (branch, condition) in enumerate(pw.args):
        taken = sp.And(condition, *(sp.Not(c) for c in conditions[:i]))
        clamp = _clamp(branch, taken, x, conditions, defaults)
        lowered = lower(branch, x, defaults)
        branches.append(lowered.xreplace({x: clamp}) if clamp is not None else lowered)
    result = branches[-1] if conditions[-1] == sp.true else Where(conditions[-1], branches[-1], sp.nan)
    for branch, condition in zip(reversed(branches[:-1]), reversed(conditions[:-1]), strict=True):
        result = Where(condition, branch, result)
    return result


def _clamp(branch, taken, x, conditions, defaults) -> sp.Expr | None:
    """``x`` clamped into the set where ``branch`` is taken, or None if not needed."""
    if not branch.has(x) or (branch.is_polynomial(x) and sp.degree(branch, x) <= 1):
        return None
    if taken.free_symbols != {x}:
        return None  # a condition on parameters: its set is not known here
    where = taken.as_set()
    if not isinstance(where, sp.Interval) or where == sp.Interval(-sp.oo, sp.oo):
        return None
    point = _safe_point(branch, where, x, defaults)
    if point is None:
        return None
    inside = where.as_relational(x)
    for c in conditions:
        if inside == c:
            return Where(c, x, point)
        if inside == c.negated:
            return Where(c, point, x)
    return Where(inside, x, point)


def _safe_point(branch, interval: sp.Interval, x, defaults) -> sp.Expr | None:
    """A point of ``interval`` where the branch and two derivatives are finite."""
    low, high = interval.start, interval.end
    if low.is_finite and high.is_finite:
        candidates = [(low + high) / 2, low, high]
    elif low.is_finite:
        candidates = [low + d for d in _OFFSETS]
    else:
        candidates = [high - d for d in _OFFSETS]
    at_defaults = branch.subs(defaults)
    checks = [at_defaults, at_defaults.diff(x), at_defaults.diff(x, 2)]
    for point in candidates:
        if interval.closure.contains(point) and all(_finite(c, x, point) for c in checks):
            return point
    return None


def _finite(expr: sp.Expr, x: sp.Symbol, point: sp.Expr) -> bool:
    value = expr.subs(x, point).evalf(30)
    return bool(value.is_number and value.is_finite and value.is_real)
