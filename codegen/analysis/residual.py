"""dy/dx as a function of the output y: the residual a network keeps anyway.

In a network an activation's output is the next matmul's input, which that
matmul keeps for its own backward pass.  A derivative computed from y is a
cheap function of an array that is kept anyway, and XLA fuses it into the
backward pass: no extra memory.  One computed from x keeps a new array per
layer.  So where f'(x) = g(f(x)) for a g that is accurate enough, the first
JVP rule uses g(y).  ``residual`` in a spec chooses: "output", "derivative",
or "auto", which takes g only where it is arithmetic and selects (nothing
XLA would keep as one more array) and its float32 error stays within the
order-1 target measured against the local scale of f' (its largest
magnitude within ``WINDOW`` of x).  So relu's y > 0 is kept, and sigmoid's
y*(1 - y), which is 0 beyond x = 17 where f' is 4e-8, is refused.
"""

import itertools

import numpy as np
import sympy as sp
from sympy.solvers.solveset import invert_real

from codegen.analysis.lower import lower
from codegen.analysis.model import Context
from codegen.analysis.stabilise import stabilise
from codegen.numerics.evaluate import (
    TARGETS,
    TINY,
    exact_values,
    float32_values,
    sample_points,
)
from codegen.numerics.primitives import Where, sigmoid, softplus

Y = sp.Symbol("y", real=True)  # the output, as the JVP rule names it
_SMALL = 40  # operations in an algebraic inverse: a cubic's Cardano roots have 25 to 41
_FAR = np.logspace(1, 38, 38)  # float32 magnitudes where g(y) may overflow
WINDOW = 1.0  # the local scale of f' at x is its largest magnitude on [x - 1, x + 1]


def output_form(expr: sp.Expr, context: Context, policy: str) -> sp.Expr | None:
    """g, lowered to selects, with f'(x) = g(f(x)) for ``expr`` = f, or None.

    None where no such g exists (f is not monotone on each branch), where
    ``policy`` is "derivative", or where it is "auto" and g is not accurate.
    """
    if policy == "derivative":
        return None
    # Folded, a stable form's branches inside a product are solved one by
    # one: squareplus(x)/(2k) is Piecewise(...)/(2k).
    folded = sp.piecewise_fold(_elementary(expr))
    if not isinstance(folded, sp.Piecewise) and not _monotone(expr, context):
        return None
    try:
        candidates = _from_output(folded, context.x)
    except (TypeError, ValueError, NotImplementedError):
        # SymPy's solve and simplify give up on some branches (a NaN
        # comparison for Abs(k*x)): then dy/dx is kept, which is always right.
        return None
    agreeing = (g for g in candidates if _agrees(g, expr, context))
    form = next(agreeing, None)
    if form is None:
        return None
    forms = [lower(g, Y, context.values) for g in dict.fromkeys((form, _divided_through(form)))]
    if policy == "auto":
        forms = [g for g in forms if cheap(g)]
    finite = [g for g in forms if _finite_far(g, expr, context)]
    if policy == "auto" and not (finite and accurate(finite[0], expr, context)):
        return None
    return (finite or forms)[0]


def _monotone(expr: sp.Expr, context: Context) -> bool:
    """Whether f only rises or only falls at the sample points.  Else f has
    an extremum, about which equal values of y have f' of either sign: no g,
    and SymPy's inverses of a formula such as tanh(|x|), each a Piecewise in
    y, took simplify more than two minutes each."""
    points = sample_points(context.domain)
    for sample in context.samples[:3]:
        values = exact_values(expr.subs(dict(sample)), context.x, points)
        steps = np.sign(np.diff(values[np.isfinite(values)]))
        if np.any(steps > 0) and np.any(steps < 0):
            return False
    return True


def _divided_through(g: sp.Expr) -> sp.Expr:
    """A ratio n/d in y as 1/(d/n), each term divided: squareplus's
    4y**2/(b + 4y**2) as 1/(1 + b/(4y**2)), which stays finite where y**2
    overflows, at the cost of a second division."""
    n, d = sp.fraction(sp.cancel(g))
    if not (d.has(Y) and n.has(Y)):
        return g
    try:
        terms = sp.Poly(d, Y).terms()  # by powers of y
    except sp.PolynomialError:
        return g
    n = sp.factor(n)
    return 1 / sp.Add(*(sp.cancel(sp.factor(c) * Y**m / n) for (m,), c in terms))


def _finite_far(lowered: sp.Expr, expr: sp.Expr, context: Context) -> bool:
    """Whether g(y) in float32 is finite at |x| up to float32's largest, with y
    the correctly rounded f(x), wherever f'(x) is finite."""
    x, (low, high) = context.x, context.domain
    points = np.concatenate([-_FAR, _FAR])
    points = points[(points > low) & (points < high)]
    for sample in context.samples[:3]:
        values = dict(sample)
        want = exact_values(sp.diff(expr, x).subs(values), x, points)
        with np.errstate(all="ignore"):
            y = exact_values(expr.subs(values), x, points).astype(np.float32)
            try:
                got = float32_values(lowered.subs(values), Y, y)
            except (NameError, TypeError):  # NumPy has no erfinv: not cheap either
                return False
        if not np.isfinite(got[np.isfinite(want) & np.isfinite(y)]).all():
            return False
    return True


def cheap(form: sp.Expr) -> bool:
    """Arithmetic and selects only.  XLA may keep a transcendental of y as
    one more array instead of recomputing it: in an 8-layer MLP,
    log_sigmoid's -expm1(y) planned 92 MiB where its dy/dx planned 64."""
    return all(isinstance(f, Where) for f in form.atoms(sp.Function))


def _elementary(expr: sp.Expr) -> sp.Expr:
    """The primitives written out, for sp.solve."""
    return expr.replace(sigmoid, lambda u: 1 / (1 + sp.exp(-u))).replace(
        softplus, lambda u: sp.log(1 + sp.exp(u))
    )


def _from_output(expr: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    """Candidates for g with f' = g(f), before any check: one per solution of
    y = f(x) for x, or for a Piecewise, one per choice of each branch's: of
    sparse_plus's (x + 1)**2/4, x = -1 - 2*sqrt(y) comes first and is wrong."""
    if not isinstance(expr, sp.Piecewise):
        return _branch(expr, x)
    choices, conditions = [], []
    for branch, condition in expr.args:
        found, where = _branch(branch, x), _condition(condition, expr, x)
        if not found or where is None:
            return []
        choices.append(found)
        conditions.append(where)
    return [
        sp.Piecewise(*zip(chosen, conditions, strict=True))
        for chosen in itertools.product(*choices)
    ]


def _branch(branch: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    derivative = sp.diff(branch, x)
    if not derivative.has(x):
        return [derivative]  # relu's 1 and 0, leaky_relu's slope
    try:
        if branch.count(x) == 1:  # a chain of functions, whose inverses peel x
            solutions = _inverses(branch, x)
        elif _algebraic(branch):
            solutions = _algebraic_inverses(branch, x)
        else:
            return []
    except (NotImplementedError, ValueError, TypeError):
        return []
    # SymPy also gives branches that are complex for every real y, as for
    # tanh, and roots of either sign: _agrees keeps the one that is f's inverse.
    found = [derivative.subs(x, s).rewrite(sp.exp) for s in solutions[:4]]
    return [stabilise(sp.simplify(g)) for d in found for g in _square_roots(d)]


def _algebraic(branch: sp.Expr) -> bool:
    """Sums, products and rational powers only, as squareplus's: sp.solve,
    without its checks, inverts such a branch in well under a second."""
    powers = branch.atoms(sp.Pow)
    return not branch.atoms(sp.Function) and all(p.exp.is_Rational for p in powers)


def _algebraic_inverses(branch: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    """The solutions of y = branch for x, if each is small: squareplus's
    y - b/(4y).  A quartic's, as for x/(1 + x**2)**2, run to 145 operations
    each, and simplifying f' of them took more than ten minutes."""
    solutions = sp.solve(sp.Eq(Y, branch), x, check=False, simplify=False)
    return solutions if all(sp.count_ops(s) <= _SMALL for s in solutions) else []


def _square_roots(g: sp.Expr) -> list[sp.Expr]:
    """``g``, and where a square root's radicand is a square u**2, ``g`` with
    that root as u and as -u: SymPy keeps sqrt(u**2) for a real u.  Of
    squareplus's x = y - b/(4y), f' is 4y**2/(b + 4y**2) only so."""
    roots = [p for p in g.atoms(sp.Pow) if p.exp in (sp.S.Half, -sp.S.Half)]
    squares = {p: u for p in roots if (u := _root_of_square(p.base)) is not None}
    if not squares:
        return [g]
    return [
        g.xreplace({p: (sign * u) ** (2 * p.exp) for p, u in squares.items()}) for sign in (1, -1)
    ]


def _root_of_square(radicand: sp.Expr) -> sp.Expr | None:
    """u with ``radicand`` = u**2, or None."""
    roots = []
    for part in sp.fraction(sp.cancel(radicand)):
        try:
            coefficient, factors = sp.factor_list(part)
        except sp.PolynomialError:  # a radicand not rational in y
            return None
        root = sp.sqrt(coefficient)
        if not root.is_Rational or any(k % 2 for _, k in factors):
            return None
        roots.append(root * sp.Mul(*(f ** (k // 2) for f, k in factors)))
    return roots[0] / roots[1]


def _inverses(branch: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    """The solutions of y = branch for x: the chain's inverses, peeled at once
    where each is known, else sp.solve's, which for tanh(tanh(tanh(x + k)))
    takes 90 s."""
    peeled, found = invert_real(branch, Y, x)
    if peeled == x:
        sets = found.args if isinstance(found, sp.Intersection) else (found,)
        for candidates in sets:  # {atanh(y)} within the reals
            if isinstance(candidates, sp.FiniteSet):
                return list(candidates)
    return sp.solve(sp.Eq(Y, branch), x)


def _condition(condition: sp.Basic, expr: sp.Expr, x: sp.Symbol) -> sp.Basic | None:
    """``x OP t`` as ``y OP f(t)``; right for an increasing f, which _agrees checks."""
    if condition is sp.true:
        return sp.true
    if not isinstance(condition, sp.core.relational.Relational) or condition.lhs != x:
        return None
    if condition.rhs.has(x):
        return None
    return condition.func(Y, expr.subs(x, condition.rhs))


def _agrees(form, expr, context: Context) -> bool:
    """Whether g(f(x)) is f'(x) at the sample points, by mpmath: the same function.

    Only |x| <= 20, and against f''s largest value: 40 digits cannot tell
    1 - sigmoid(x) from 0 at x = 1000.
    """
    x, points = context.x, sample_points(context.domain)
    points = points[np.abs(points) <= 20]
    for sample in context.samples[:3]:
        values = dict(sample)
        got = exact_values(form.subs(Y, expr).subs(values), x, points)
        want = exact_values(sp.diff(expr, x).subs(values), x, points)
        defined = np.isfinite(want)
        # Against f''s largest value: 40 digits lose e**-2000 beside 1.
        scale = np.max(np.abs(want[defined]), initial=0.0)
        if not np.all(np.abs(got[defined] - want[defined]) <= 1e-12 * scale):
            return False
    return True


def accurate(lowered, expr, context: Context) -> bool:
    """Whether g(y), in float32 from the float32 y, is within the order-1 target
    of f' in ulps of f''s largest magnitude within WINDOW of each point."""
    points = sample_points(context.domain)
    return all(
        np.all(local_errors(lowered, expr.subs(dict(s)), context.x, dict(s), points) <= TARGETS[1])
        for s in context.samples[:3]
    )


def local_errors(lowered, expr, x, values, points) -> np.ndarray:
    """|g(y) - f'(x)| in float32 ulps of f''s largest magnitude within WINDOW of
    each point (where f' is finite), with y the correctly rounded float32 f(x),
    as the generated f gives it: not as NumPy computes ``expr`` in float32,
    which for squareplus at x = -562 cancels to 1e5 ulps."""
    derivative = sp.diff(expr, x)
    with np.errstate(over="ignore"):  # y past float32's range is inf, as f gives it
        y = exact_values(expr, x, points).astype(np.float32)
    got = float32_values(lowered.subs(values), Y, y)
    want = exact_values(derivative, x, points)
    near = np.add.outer(points.astype(np.float64), np.linspace(-WINDOW, WINDOW, 9)).ravel()
    local = np.abs(exact_values(derivative, x, near)).reshape(len(points), -1)
    # A window where f' is nowhere finite, or is past float32's range, gives
    # a scale of TINY or an ulp of NaN: any finite f' there is then refused.
    with np.errstate(invalid="ignore", over="ignore"):
        scale = np.maximum(np.max(np.where(np.isfinite(local), local, -np.inf), axis=1), TINY)
        ulp = np.spacing(scale.astype(np.float32)).astype(np.float64)
        finite = np.isfinite(want)
        return np.abs(got[finite] - want[finite]) / ulp[finite]
