"""Rewrite formulas into numerically stable primitives.

The rules follow PyTensor's stabilising rewrites and reuse SymPy's own
(``sympy.codegen.rewriting``).  They run on the formula before it is
differentiated and on every derivative after, because a rewrite applied only
to the value misses the cancellations that differentiation creates.
"""

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.codegen.rewriting import FuncMinusOneOptim, ReplaceOptim, log1p_opt, optimize

from codegen.analysis import sigmoids
from codegen.analysis.differences import difference, log_ratio, log_sum_exp
from codegen.numerics.primitives import erfc, sigmoid, softplus


def _exp_argument(term: sp.Expr) -> sp.Expr | None:
    return term.args[0] if isinstance(term, sp.exp) else None


def _one_plus(term: sp.Expr) -> sp.Expr | None:
    """``u`` if ``term`` is ``1 + u``, else None."""
    if term.is_Add and sp.S.One in term.args:
        return term - 1
    return None


def _softplus(e: sp.Expr) -> sp.Expr | None:
    """log(1 + exp(u)) and log1p(exp(u)) -> softplus(u)."""
    if isinstance(e, sp.log):
        inner = _one_plus(e.args[0])
    elif isinstance(e, log1p):
        inner = e.args[0]
    else:
        return None
    u = _exp_argument(inner) if inner is not None else None
    return softplus(u) if u is not None else None


def _log_sigmoid(e: sp.Expr) -> sp.Expr | None:
    """log(sigmoid(u)) -> -softplus(-u), finite where sigmoid(u) underflows."""
    if isinstance(e, sp.log) and isinstance(e.args[0], sigmoid):
        return -softplus(-e.args[0].args[0])
    return None


def _sigmoid(e: sp.Expr) -> sp.Expr | None:
    """1/(1 + exp(-u)) -> sigmoid(u), and exp(u)/(1 + exp(u)) -> sigmoid(u)."""
    if not (e.is_Pow and e.exp == -1):
        return None
    inner = _one_plus(e.base)
    u = _exp_argument(inner) if inner is not None else None
    return sigmoid(-u) if u is not None else None


def _exp_times_sigmoid(e: sp.Expr) -> sp.Expr | None:
    """exp(u) * sigmoid(-u) -> sigmoid(u)."""
    if not e.is_Mul:
        return None
    factors = list(e.args)
    for f in factors:
        u = _exp_argument(f)
        if u is not None and sigmoid(-u) in factors:
            factors.remove(f)
            factors.remove(sigmoid(-u))
            return sp.Mul(sigmoid(u), *factors)
    return None


# 1 + f(u) -> g(u), 1 - f(u) -> h(u): each pair cancels where f(u) -> -1 or 1.
_COMPLEMENTS = {
    sp.tanh: (lambda u: 2 * sigmoid(2 * u), lambda u: 2 * sigmoid(-2 * u)),
    sp.erf: (lambda u: erfc(-u), lambda u: erfc(u)),
    sigmoid: (None, lambda u: sigmoid(-u)),
}


def _complement(e: sp.Expr) -> sp.Expr | None:
    """1 + tanh(u) -> 2 sigmoid(2u), 1 - sigmoid(u) -> sigmoid(-u), and so on."""
    if not (e.is_Add and sp.S.One in e.args):
        return None
    for term in e.args:
        coefficient, f = term.as_coeff_Mul()
        rules = _COMPLEMENTS.get(type(f))
        if rules is None or abs(coefficient) != 1:
            continue
        make = rules[0] if coefficient == 1 else rules[1]
        if make is not None:
            return e - 1 - term + make(f.args[0])
    return None


def _sech_squared(e: sp.Expr) -> sp.Expr | None:
    """1 - tanh(u)**2 and 1/cosh(u)**2 -> 4 sigmoid(2u) sigmoid(-2u).

    The first cancels for large |u|; the second carries cosh's error twice.
    """
    if e.is_Pow and e.exp == -2 and isinstance(e.base, sp.cosh):
        u = e.base.args[0]
        return 4 * sigmoid(2 * u) * sigmoid(-2 * u)
    if not (e.is_Add and sp.S.One in e.args):
        return None
    for term in e.args:
        coefficient, f = term.as_coeff_Mul()
        if coefficient == -1 and f.is_Pow and f.exp == 2 and isinstance(f.base, sp.tanh):
            u = f.base.args[0]
            return e - 1 - term + 4 * sigmoid(2 * u) * sigmoid(-2 * u)
    return None


def sech_squared_negated(expr: sp.Expr) -> sp.Expr:
    """``expr`` with each tanh(u)**2 - 1 as -4 sigmoid(2u) sigmoid(-2u).

    A candidate for the form search, not a rule: tanh(u)**2 - 1 cancels
    where |u| is large (k*tanh(k*x)' at k = 100), but where the terms
    around it round worse (gelu'') the difference can win.
    """

    def rewritten(e: sp.Basic) -> sp.Expr | None:
        if not (e.is_Add and e.as_coeff_Add()[0] == -1):
            return None
        positive = _sech_squared(-e)
        return None if positive is None else -positive

    return expr.replace(lambda e: rewritten(e) is not None, rewritten)


def _sinh_over_cosh(e: sp.Expr) -> sp.Expr | None:
    """sinh(u) * cosh(u)**-k -> tanh(u) * cosh(u)**(1-k): never inf/inf."""
    if not e.is_Mul:
        return None
    for f in e.args:
        if not isinstance(f, sp.sinh):
            continue
        cosh = sp.cosh(f.args[0])
        for g in e.args:
            if g.is_Pow and g.base == cosh and g.exp.is_negative:
                rest = [h for h in e.args if h is not f and h is not g]
                return sp.Mul(sp.tanh(f.args[0]), cosh ** (g.exp + 1), *rest)
    return None


def _sigmoid_difference(e: sp.Expr) -> sp.Expr | None:
    """sigmoid(u) - sigmoid(-u) -> tanh(u/2), which is exact where both are near 1/2."""
    if not e.is_Add:
        return None
    for term in e.args:
        coefficient, f = term.as_coeff_Mul()
        if isinstance(f, sigmoid):
            partner = -coefficient * sigmoid(-f.args[0])
            if partner in e.args:
                return e - term - partner + coefficient * sp.tanh(f.args[0] / 2)
    return None


def _expm1_times_sigmoid(e: sp.Expr) -> sp.Expr | None:
    """expm1(u) * sigmoid(-u) -> tanh(u/2): never inf * 0 where |u| is large."""
    if not e.is_Mul:
        return None
    for f in e.args:
        if isinstance(f, expm1) and sigmoid(-f.args[0]) in e.args:
            rest = [g for g in e.args if g not in (f, sigmoid(-f.args[0]))]
            return sp.Mul(sp.tanh(f.args[0] / 2), *rest)
    return None


def _log_cosh(e: sp.Expr) -> sp.Expr | None:
    """log(cosh(u)) -> |u| + softplus(-2|u|) - log(2): cosh overflows past |u| = 89."""
    if isinstance(e, sp.log) and isinstance(e.args[0], sp.cosh):
        u = sp.Abs(e.args[0].args[0])
        return u + softplus(-2 * u) - sp.log(2)
    return None


def _times_sign(e: sp.Expr) -> sp.Expr | None:
    """u * sign(u) -> Abs(u), so that 1 - u*sign(u)/(1 + |u|) can cancel symbolically;
    u can be spread over the factors, as -k*x*sign(k*x) is -|k*x|."""
    for f in (f for f in e.args if e.is_Mul and isinstance(f, sp.sign)):
        u, others = f.args[0], [a for a in e.args if a != f]
        if u in others:  # not e/f/u: -1*(k + x) is -k - x, and (-k - x)/(k + x) stays
            return sp.Abs(u) * sp.Mul(*(a for a in others if a != u))
        rest = sp.Mul(*others) / u
        if not rest.has(*u.free_symbols):
            return sp.Abs(u) * rest
    return None


class _TermwiseFuncMinusOne(FuncMinusOneOptim):
    """SymPy's exp(u) - 1 -> expm1(u), on the terms as written.

    SymPy's own ``expm1_opt`` also tries the factored expression: that is
    slow, and can turn exp(-x)/(1 - exp(-x)) into 1/expm1(x), which
    overflows for large x.
    """

    def __call__(self, expr):
        return ReplaceOptim.__call__(self, expr)


def _rule(rewrite) -> ReplaceOptim:
    return ReplaceOptim(lambda e: rewrite(e) is not None, rewrite)


_RULES = [
    _rule(log_ratio),
    _rule(_softplus),
    _rule(log_sum_exp),
    _rule(_exp_times_sigmoid),
    _rule(_sigmoid),
    _rule(_log_sigmoid),
    _rule(sigmoids.exp_over_one_plus_exp),
    _rule(_complement),
    _rule(sigmoids.root_at_one),
    _rule(sigmoids.exp_times_sigmoid_power),
    _rule(sigmoids.grouped_root_at_one),
    _rule(_sech_squared),
    _rule(_sinh_over_cosh),
    _rule(_sigmoid_difference),
    _rule(_log_cosh),
    _rule(_expm1_times_sigmoid),
    _rule(_times_sign),
    _TermwiseFuncMinusOne(sp.exp, sp.codegen.cfunctions.expm1),
    log1p_opt,
    _rule(_softplus),
]


def stabilise(expr: sp.Expr) -> sp.Expr:
    """Rewrite ``expr`` into stable primitives until nothing changes."""
    expr = expr.replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    for _ in range(4):
        rewritten = _factor_arguments(optimize(expr, _RULES))
        if rewritten == expr:
            break
        expr = rewritten
    expr = expr.replace(lambda e: difference(e) is not None, difference)
    return rationalise(expr)


def rationalise(expr: sp.Expr, known: tuple = ()) -> sp.Expr:
    """c*(u + sqrt(u**2 + b)) -> c*b/(sqrt(u**2 + b) - u) where u < 0, where it cancels.

    The result is a Piecewise on the sign of u.  ``known`` holds what is true
    where ``expr`` is evaluated (the conditions of the enclosing branches), so
    the rewrite is not made again where the sign is already settled.
    """
    if isinstance(expr, sp.Piecewise):
        pairs: list[tuple[sp.Expr, sp.Basic]] = []
        earlier: list[sp.Basic] = []
        for branch, condition in expr.args:
            pairs.append((rationalise(branch, (*known, *earlier, condition)), condition))
            earlier.append(sp.Not(condition))
        return sp.Piecewise(*pairs)
    if not expr.args:
        return expr
    expr = expr.func(*(rationalise(arg, known) for arg in expr.args))
    if not expr.is_Add:
        return expr
    for term in expr.args:
        coefficient, root = term.as_coeff_Mul()
        if not (root.is_Pow and root.exp == sp.S.Half and root.base.is_Add):
            continue
        for square in root.base.args:
            if not (square.is_Pow and square.exp == 2):
                continue
            u, b = square.base, root.base - square
            for sign in (1, -1):
                cancels = sign * u < 0
                if coefficient * sign * u in expr.args and _possible(cancels, known):
                    rest = expr - term - coefficient * sign * u
                    stable = coefficient * b / (root - sign * u)
                    return rest + sp.Piecewise(
                        (stable, cancels), (term + coefficient * sign * u, True)
                    )
    return expr


def _possible(condition: sp.Basic, known: tuple) -> bool:
    """Whether ``condition`` can hold where everything in ``known`` does."""
    together = sp.And(condition, *known)
    if together == sp.false:
        return False
    symbols = together.free_symbols
    if len(symbols) != 1:
        return True
    return together.as_set() != sp.EmptySet


def _factor_arguments(expr: sp.Expr) -> sp.Expr:
    """Write every function's argument in one canonical form.

    The value and its derivatives then call, say, sigmoid on the identical
    expression, so common-subexpression elimination computes it once.
    """
    return expr.replace(
        lambda e: isinstance(e, sp.Function) and len(e.args) == 1 and not e.args[0].is_Atom,
        lambda e: e.func(sp.factor_terms(e.args[0])),
    )
