"""Differences of sigmoids, tanhs and softpluses, in forms that never cancel.

sigmoid(x + 1) - sigmoid(x - 1) is 1 - 1 = 0 in float32 past x = 17, where
the truth is 1e-8; softplus(a) - softplus(b) loses the same digits.  Each
difference is rewritten as a product of terms that are all accurate:

    sigmoid(a) - sigmoid(b) = -sigmoid(a) sigmoid(-b) expm1(b - a)      (a >= b)
    softplus(a) - softplus(b) = -log1p(sigmoid(a) expm1(b - a))         (a >= b)

the second only where it is accurate (see ``_softpluses``).  For a < b the
roles swap, so expm1 never overflows.  The rewrite is made once, after the
other rules: its last region is a difference of softpluses again.
"""

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from codegen.numerics.primitives import sigmoid, softplus


def _sigmoids(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """sigmoid(a) - sigmoid(b), for a >= b."""
    return -sigmoid(a) * sigmoid(-b) * expm1(_minus(b, a))


def _softpluses(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """softplus(a) - softplus(b), for a >= b, by region:

    b >= 0: a - b + softplus(-a) - softplus(-b), the last two small;
    a <= 0 or a - b <= log 2: -log1p(sigmoid(a) expm1(b - a)), whose
    argument is then in [-1/2, 0]; elsewhere, a > 0 > b, the difference
    as written, which cancels by at most a factor of 2 there.
    """
    return sp.Piecewise(
        (_minus(a, b) + log1p(sigmoid(-b) * expm1(_minus(b, a))), b >= 0),
        (-log1p(sigmoid(a) * expm1(_minus(b, a))), sp.Or(a <= 0, _minus(a, b) <= sp.log(2))),
        (softplus(a) - softplus(b), True),
    )


def _ordered(difference, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """f(a) - f(b) by ``difference``, with its arguments in order."""
    return sp.Piecewise((difference(a, b), _minus(a, b) >= 0), (-difference(b, a), True))


def _minus(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """a - b, expanded: a*x - a*(x - 1) is a, not the difference of two
    products that rounding (or a fused multiply-add) makes inexact."""
    return sp.expand(a - b)


_DIFFERENCES = {
    sigmoid: lambda a, b: _ordered(_sigmoids, a, b),
    softplus: lambda a, b: _ordered(_softpluses, a, b),
    sp.tanh: lambda a, b: 2 * _ordered(_sigmoids, 2 * a, 2 * b),
}


def difference(e: sp.Expr) -> sp.Expr | None:
    """c*f(a) - c*f(b) in the Add ``e``, for f a sigmoid, tanh or softplus."""
    if not e.is_Add:
        return None
    terms = [(term, *term.as_coeff_Mul()) for term in e.args]
    for term, coefficient, f in terms:
        if type(f) not in _DIFFERENCES or coefficient < 0:
            continue
        for other, c, g in terms:
            if type(g) is type(f) and c == -coefficient and g != f:
                rewritten = _DIFFERENCES[type(f)](f.args[0], g.args[0])
                return e - term - other + coefficient * rewritten
    return None


def log_ratio(e: sp.Expr) -> sp.Expr | None:
    """log((1 + exp(a))/(1 + exp(b))) -> log(1 + exp(a)) - log(1 + exp(b)).

    Each log is then a softplus, and their difference one of the above; the
    ratio itself overflows to inf/inf.
    """
    if not (isinstance(e, sp.log) and e.args[0].is_Mul):
        return None
    split = sp.expand_log(e, force=True)
    logs = split.atoms(sp.log)
    if split == e or not all(_one_plus_exp(log.args[0]) for log in logs):
        return None
    return split


def _one_plus_exp(u: sp.Expr) -> bool:
    return (
        u.is_Add
        and len(u.args) == 2
        and sp.S.One in u.args
        and any(isinstance(t, sp.exp) for t in u.args)
    )


def log_sum_exp(e: sp.Expr) -> sp.Expr | None:
    """log(exp(a) + exp(b)) -> a + softplus(b - a), and log(c + exp(b)) for c > 0
    likewise with a = log(c): exp(a) alone overflows past a = 89."""
    if not (isinstance(e, sp.log) and e.args[0].is_Add and len(e.args[0].args) == 2):
        return None
    exponents = [_exponent(term) for term in e.args[0].args]
    if None in exponents or not any(isinstance(t, sp.exp) for t in e.args[0].args):
        return None
    a, b = exponents
    return a + softplus(_minus(b, a))


def _exponent(term: sp.Expr) -> sp.Expr | None:
    """u for exp(u), log(c) for a positive number c, else None."""
    if isinstance(term, sp.exp):
        return term.args[0]
    if term.is_number and term.is_positive:
        return sp.log(term)
    return None


def split_by_sign(e: sp.Expr) -> sp.Expr | None:
    """``e`` with each sigmoid(u) and softplus(u) split into the part that
    grows with |u| and the part that decays, if the growing parts cancel.

    sigmoid(u) = H(u) - sign(u) sigmoid(-|u|) and softplus(u) = u H(u) +
    softplus(-|u|).  d/dk softplus(k x)/k = x sigmoid(k x)/k - softplus(k x)/k**2
    is x/k - x/k past k x = 17, and its truth is ~x exp(-k x)/k; split, the
    x/k terms cancel exactly and what is left decays as the truth does.
    """
    if not (e.is_Add and e.has(softplus)):  # a softplus's u H(u) is what can cancel
        return None
    split = e.replace(
        lambda a: isinstance(a, sigmoid),
        lambda a: sp.Heaviside(a.args[0]) - sp.sign(a.args[0]) * sigmoid(-sp.Abs(a.args[0])),
    ).replace(
        lambda a: isinstance(a, softplus),
        lambda a: a.args[0] * sp.Heaviside(a.args[0]) + softplus(-sp.Abs(a.args[0])),
    )
    split = sp.expand_mul(split)
    return None if split.has(sp.Heaviside) else split
