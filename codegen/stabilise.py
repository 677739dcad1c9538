"""Rewrite formulas into numerically stable primitives.

The rules follow PyTensor's stabilising rewrites and reuse SymPy's own
(``sympy.codegen.rewriting``).  They run on the formula before it is
differentiated and on every derivative after, because a rewrite applied only
to the value misses the cancellations that differentiation creates.
"""

import sympy as sp
from sympy.codegen.cfunctions import log1p
from sympy.codegen.rewriting import FuncMinusOneOptim, ReplaceOptim, log1p_opt, optimize

from codegen.primitives import erfc, sigmoid, softplus


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
    _rule(_softplus),
    _rule(_exp_times_sigmoid),
    _rule(_sigmoid),
    _rule(_complement),
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
            return expr
        expr = rewritten
    return expr


def _factor_arguments(expr: sp.Expr) -> sp.Expr:
    """Write every function's argument in one canonical form.

    The value and its derivatives then call, say, sigmoid on the identical
    expression, so common-subexpression elimination computes it once.
    """
    return expr.replace(
        lambda e: isinstance(e, sp.Function) and len(e.args) == 1 and not e.args[0].is_Atom,
        lambda e: e.func(sp.factor_terms(e.args[0])),
    )
