"""Lower ``Piecewise`` into branch-safe element-wise selects.

``jnp.where`` evaluates every branch.  A branch that is not taken must not
put inf or NaN into the value or any derivative, so each branch reads a copy
of ``x`` clamped into the interval where that branch is taken (the
double-where pattern).
"""

import functools
from collections.abc import Mapping

import sympy as sp

from codegen.numerics.evaluate import parameter_samples
from codegen.numerics.primitives import Where, offset, polynomial, reciprocal, sigmoid

# Candidate offsets from an interval's finite end, tried in turn.
_OFFSETS = (0, 1, sp.Rational(1, 2), sp.Rational(1, 10), sp.Rational(1, 1000))


def lower(
    expr: sp.Expr,
    x: sp.Symbol,
    defaults: Mapping[sp.Symbol, float],
    clamp: bool = True,
    divide: bool = True,
) -> sp.Expr:
    """Replace every Piecewise in ``expr`` by nested :class:`Where` selects,
    and sigmoid(u) beside sigmoid(-u) by one exponential.

    ``clamp=False`` leaves each branch reading x itself: right for code that
    JAX never differentiates, whose untaken branches' inf and NaN the
    selects drop.  ``divide=False`` leaves each power of a denominator its
    own division (see :func:`one_division`).
    """
    lowered = _lower(expr, x, tuple(sorted(defaults.items(), key=str)), clamp)
    lowered = one_exponential(indicators_selected(lowered))
    return one_division(lowered) if divide else lowered


def indicators_selected(expr: sp.Expr) -> sp.Expr:
    """A product of Heaviside(u) and an exponential as 0 where u < 0, not
    0 * inf: d/dk exp(Min(x + k, x)) is exp(x)*Heaviside(-k), NaN for
    k > 0 from x = 89 in float32 where it is 0."""
    if not expr.has(sp.Heaviside):
        return expr  # the common case, on every lowering
    return expr.replace(
        lambda m: (
            isinstance(m, sp.Mul)
            and m.has(sp.exp)
            and any(isinstance(f, sp.Heaviside) for f in m.args)
        ),
        lambda m: Where(
            sp.Or(*(h.args[0] < 0 for h in m.args if isinstance(h, sp.Heaviside))), 0, m
        ),
    )


def one_division(expr: sp.Expr) -> sp.Expr:
    """a/d**2 + b/d as (a*r + b)*r with r = 1/d: one division instead of two.

    Only for a denominator d divided by at two powers or more; a single
    power is one division either way.  Where d**2 overflows, r**2 underflows
    to 0 and a*r**2 is 0 even where a/d**2 is not: the caller keeps the
    divisions apart for such a formula (fallback.divided_safely).
    """
    powers: dict[sp.Expr, set] = {}
    for p in expr.atoms(sp.Pow):
        if p.exp.is_Integer and p.exp < 0:
            powers.setdefault(p.base, set()).add(p.exp)
    shared = {b for b, exps in powers.items() if len(exps) > 1 and not b.is_Symbol}
    if not shared:
        return expr
    return expr.replace(
        lambda e: isinstance(e, sp.Pow) and e.base in shared and e.exp.is_Integer and e.exp < 0,
        lambda e: reciprocal(e.base) ** -e.exp,
    )


def one_exponential(expr: sp.Expr) -> sp.Expr:
    """sigmoid(u) and sigmoid(-u) from the one exponential e = exp(-|u|).

    sigmoid(u) * sigmoid(-u) is e/(1 + e)**2, and each alone is 1/(1 + e)
    or e/(1 + e) by the sign of u: one transcendental instead of two, and
    no cancellation: 1.6 times as fast as two logistics, measured on the CPU.
    """
    atoms = expr.atoms(sigmoid)
    bases = {-s.args[0] if s.args[0].could_extract_minus_sign() else s.args[0] for s in atoms}
    units = [u for u in bases if sigmoid(u) in atoms and sigmoid(-u) in atoms]
    for u in sorted(units, key=sp.default_sort_key):
        e = sp.exp(-sp.Abs(u))
        product = sigmoid(u) * sigmoid(-u)
        expr = expr.replace(
            lambda m, p=product: isinstance(m, sp.Mul) and set(p.args) <= set(m.args),
            lambda m, p=product, e=e: m.func(*(set(m.args) - set(p.args))) * e / (1 + e) ** 2,
        )
        positive = u >= 0
        expr = expr.xreplace(
            {
                sigmoid(u): Where(positive, 1, e) / (1 + e),
                sigmoid(-u): Where(positive, e, 1) / (1 + e),
            }
        )
    return expr


@functools.cache  # the derivative tower repeats the same Piecewise many times
def _lower(expr: sp.Expr, x: sp.Symbol, defaults: tuple, clamp: bool) -> sp.Expr:
    if isinstance(expr, sp.Piecewise):
        return _select(expr, x, defaults, clamp)
    if not expr.args:
        return expr
    return expr.func(*(_lower(arg, x, defaults, clamp) for arg in expr.args))


@functools.cache
def interval(condition: sp.Basic) -> sp.Set:
    """The set of x where ``condition``, a condition on x alone, holds.

    Boolean structure and comparisons of a linear or ``Abs(linear)`` side
    with a number are solved here: ``as_set`` is slow on them.
    """
    if isinstance(condition, sp.And):
        return sp.Intersection(*(interval(c) for c in condition.args))
    if isinstance(condition, sp.Or):
        return sp.Union(*(interval(c) for c in condition.args))
    if isinstance(condition, sp.Not):
        return interval(condition.args[0]).complement(sp.S.Reals)
    if isinstance(condition, sp.core.relational.Relational):
        return _solved(condition) or condition.as_set()
    return condition.as_set()


def _solved(relation) -> sp.Set | None:
    """The set where ``relation`` holds, if it is linear in x or |linear| < number."""
    side = (relation.lhs - relation.rhs).replace(offset, lambda x, centre: x - centre)
    if len(side.free_symbols) != 1 or relation.rel_op in ("==", "!="):
        return None
    (x,) = side.free_symbols
    absolute = [a for a in side.atoms(sp.Abs) if a.has(x)]
    if len(absolute) == 1 and (side - absolute[0]).is_number:
        if relation.rel_op in (">", ">="):
            inside = _solved(relation.negated)
            return inside.complement(sp.S.Reals) if inside is not None else None
        radius = -(side - absolute[0])  # |u| < radius: -radius < u < radius
        inner = absolute[0].args[0]
        both = [_solved(relation.func(inner, radius)), _solved(relation.func(-radius, inner))]
        return sp.Intersection(*both) if None not in both else None
    if not side.is_polynomial(x) or sp.degree(side, x) != 1:
        return None
    slope, intercept = sp.Poly(side, x).all_coeffs()
    root = -intercept / slope
    strict = relation.rel_op in ("<", ">")
    below = relation.rel_op in ("<", "<=")  # side < 0
    if slope < 0:
        below = not below
    if below:
        return sp.Interval(-sp.oo, root, right_open=strict)
    return sp.Interval(root, sp.oo, left_open=strict)


def _select(pw: sp.Piecewise, x: sp.Symbol, defaults: tuple, clamp: bool) -> sp.Expr:
    pairs = _nan_last(pw, x)
    conditions = [c for _, c in pairs]
    branches = []
    for i, (branch, condition) in enumerate(pairs):
        taken = sp.And(condition, *(sp.Not(c) for c in conditions[:i]))
        clamped = _clamp(branch, taken, x, conditions, defaults) if clamp else None
        lowered = _lower(branch, x, defaults, clamp)
        branches.append(lowered.xreplace({x: clamped}) if clamped is not None else lowered)
    result = (
        branches[-1] if conditions[-1] == sp.true else Where(conditions[-1], branches[-1], sp.nan)
    )
    for branch, condition in zip(reversed(branches[:-1]), reversed(conditions[:-1]), strict=True):
        result = Where(condition, branch, result)
    return result


def _nan_last(pw: sp.Piecewise, x: sp.Symbol) -> list[tuple[sp.Expr, sp.Basic]]:
    """The branches reordered so that NaN, which fails every comparison, propagates.

    NaN takes the last branch.  If that branch is constant, as in relu's
    ``Piecewise((x, x > 0), (0, True))``, a branch that depends on ``x`` is
    moved last instead, and every other branch is guarded by the exact set
    where it is taken: ``where(x <= 0, 0, x)``.
    """
    pairs = list(pw.args)
    if pairs[-1][1] != sp.true or pairs[-1][0].has(x):
        return pairs
    carriers = [i for i, (branch, _) in enumerate(pairs) if branch.has(x)]
    conditions = [c for _, c in pairs]
    taken = [sp.And(c, *(sp.Not(d) for d in conditions[:i])) for i, c in enumerate(conditions)]
    if not carriers or any(t.free_symbols != {x} for t in taken):
        return pairs
    sets = [interval(t) for t in taken]
    if not all(isinstance(s, sp.Interval) for s in sets):
        return pairs
    carrier = carriers[0]
    guarded = [
        (b, _canonical(s.as_relational(x)))
        for i, ((b, _), s) in enumerate(zip(pairs, sets, strict=True))
        if i != carrier
    ]
    return [*guarded, (pairs[carrier][0], sp.true)]


def _clamp(branch, taken, x, conditions, defaults) -> sp.Expr | None:
    """``x`` clamped into the set where ``branch`` is taken, or None if not needed.

    The clamp tests the complement, which NaN fails, so NaN passes through.
    """
    if not branch.has(x) or (branch.is_polynomial(x) and sp.degree(branch, x) <= 1):
        return None
    if isinstance(branch, polynomial):
        return None  # finite wherever it is taken, and its derivatives are polynomials
    if taken.free_symbols != {x}:
        return None  # a condition on parameters: its set is not known here
    where = interval(taken)
    if not isinstance(where, sp.Interval) or where == sp.Interval(-sp.oo, sp.oo):
        return None
    point = _safe_point(branch, where, x, defaults)
    if point is None:
        return None
    outside = _canonical(where.complement(sp.S.Reals).as_relational(x))
    for c in conditions:  # reuse a comparison the select already makes
        if _canonical(outside) == _canonical(c):
            outside = c
    return Where(outside, point, x)


def _safe_point(branch, interval: sp.Interval, x, defaults) -> sp.Expr | None:
    """A point of ``interval`` where the branch is finite.

    Its derivatives are closed-form functions of their own, clamped in turn.
    """
    low, high = interval.start, interval.end
    if low.is_finite and high.is_finite:
        candidates = [(low + high) / 2, low, high]
    elif low.is_finite:
        candidates = [low + d for d in _OFFSETS]
    else:
        candidates = [high - d for d in _OFFSETS]
    inside = [p for p in candidates if interval.closure.contains(p)]
    # Finite at every parameter sample where one is, else at the defaults:
    # 1/(x + k) clamped to x = 1 is inf at k = -1.
    samples = [branch.subs(dict(s)) for s in parameter_samples(dict(defaults))]
    for point in inside:
        if all(_finite(b, x, point) for b in samples):
            return point
    at_defaults = branch.subs(dict(defaults))
    return next((p for p in inside if _finite(at_defaults, x, p)), None)


def _finite(expr: sp.Expr, x: sp.Symbol, point: sp.Expr) -> bool:
    try:
        value = expr.subs(x, point).evalf(30)
    except (AttributeError, TypeError, ValueError):
        # SymPy's evalf of a NaN term while it simplifies the substitution:
        # log|u| at u = 0 in a log-space form.
        return False
    return bool(value.is_number and value.is_finite and value.is_real)


def _canonical(condition: sp.Basic) -> sp.Basic:
    """``condition`` with every comparison written as SymPy's canonical one."""
    return condition.replace(
        lambda e: isinstance(e, sp.core.relational.Relational), lambda e: e.canonical
    )
