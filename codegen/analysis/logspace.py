"""A log-space fallback where a product overflows and underflows at once.

softplus(exp(x))''' holds exp(2x) * sigmoid(-exp(x)): past x = 44 in
float32 exp(2x) is inf and the sigmoid 0, so the product is NaN, though the
truth, about exp(x), is finite up to x = 88.  No tail limit mends it: the
truth grows without bound.  In log space, exp(2x - softplus(exp(x))), the
product is finite.  That form costs more transcendentals and may round
worse, so it is taken only where the closed form is not finite, or far
out where it is finite but wrong, and added only where it mends a point at
which the truth is finite.
"""

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from codegen.numerics.primitives import log_abs, sigmoid, softplus


def log_space(expr: sp.Expr) -> sp.Expr:
    """``expr`` with each product's exponentials and powers merged into one
    exp, the powers as log|u| terms, and sigmoid(u) written as
    exp(-softplus(-u)) so that it merges too; 1 - tanh(u)**2 and sech(u)**2
    are sigmoids first.  log1p(u**2), which overflows with u**2, is
    2 log|u| + log1p(u**-2), u's factors apart."""
    written = expr.replace(_one_minus_tanh_squared, _sigmoids).replace(
        sigmoid, lambda v: sp.exp(-softplus(-v))
    )
    written = written.replace(_log1p_of_square, _logs).replace(_root_of_sum, _root_in_logs)
    return written.replace(_spread, sp.expand_mul).replace(_exponentials, _merged)


def _log1p_of_square(expr: sp.Basic) -> bool:
    """Whether ``expr`` is log1p of a product of even powers, which overflows."""
    return isinstance(expr, log1p) and all(
        f.is_positive or (f.is_Pow and f.exp.is_even) for f in sp.Mul.make_args(expr.args[0])
    )


def _logs(expr: sp.Expr) -> sp.Expr:
    """log1p(w) = log(w) + log1p(1/w), with log(w) a sum over w's factors."""
    w = expr.args[0]
    return _factor_logs(w, lambda u: sp.log(sp.Abs(u))) + log1p(1 / w)


def _root_of_sum(expr: sp.Basic) -> bool:
    """Whether ``expr`` is a root of c + w, c > 0 and w a product of even
    powers, which overflows with w: sqrt(1 + u**2)."""
    if not expr.is_Pow or expr.exp.is_Integer:
        return False
    c, w = expr.base.as_coeff_Add()
    return c.is_positive and bool(w.free_symbols) and _log1p_of_square(log1p(w))


def _root_in_logs(expr: sp.Expr) -> sp.Expr:
    """(c + w)**e as exp(e log(c + w)), its log a sum over w's factors."""
    return sp.exp(expr.exp * _log_abs(expr.base))


def _factor_logs(w: sp.Expr, log) -> sp.Expr:
    """log|w| as a sum of ``log`` over w's factors, each finite where w
    overflows: an exponential's is its argument, as log|exp(4x)| overflows
    with exp(4x), and expm1's is _expm1_log."""

    def factor_log(f: sp.Expr) -> sp.Expr:
        if isinstance(f, sp.exp):
            return f.args[0]
        if isinstance(f, expm1):
            return _expm1_log(f.args[0], log)
        return f.exp * factor_log(f.base) if f.is_Pow else log(f)

    return sp.Add(*(factor_log(f) for f in sp.Mul.make_args(w)))


def _expm1_log(v: sp.Expr, log) -> sp.Expr:
    """log|expm1(v)| as max(v, 0) + log|expm1(-|v|)|, finite where it overflows."""
    return sp.Max(v, 0) + log(expm1(-sp.Abs(v)))


def _exponentials(expr: sp.Basic) -> bool:
    """Whether ``expr`` is a product of exponentials, or of one and a power
    that can overflow where it underflows: x**4 * exp(-x**2), or of powers
    that overflow in both its numerator and its denominator."""
    if not expr.is_Mul:
        return False
    exps = sum(isinstance(f, sp.exp) for f in expr.args)
    powers = [p[1] for p in map(power_factor, expr.args) if p]
    ratio = any(p > 0 for p in powers) and any(p < 0 for p in powers)
    return exps > 1 or (exps == 1 and bool(powers)) or ratio


def power_factor(factor: sp.Basic) -> tuple[sp.Expr, sp.Rational] | None:
    """(base, exponent) if ``factor`` is a rational power of a variable
    expression: x, x**4, 1/(1 + x**2), (1 + x**2/4)**(-3/2)."""
    if factor.is_Pow and factor.exp.is_Rational and factor.base.free_symbols:
        return factor.base, factor.exp
    if (factor.is_Symbol or factor.is_Add or isinstance(factor, expm1)) and factor.free_symbols:
        return factor, sp.S.One
    return None


def _merged(product: sp.Expr) -> sp.Expr:
    """A product's exponentials and powers as one exponential, the powers'
    signs apart: powsimp's combine, without its cost."""
    exponent, rest = [], []
    for f in product.args:
        if isinstance(f, sp.exp):
            exponent.append(f.args[0])
        elif power := power_factor(f):
            base, exp = power
            exponent.append(exp * _log_abs(base))
            # A fractional power is real only where its base is not negative.
            rest.append(sp.sign(base) ** (exp % 2) if exp.is_Integer else 1)
        else:
            rest.append(f)
    return sp.Mul(*rest, sp.exp(sp.Add(*exponent)))


def _log_abs(base: sp.Expr) -> sp.Expr:
    """log|base|; for base = c + w, c > 0 and w a product of even powers,
    log(w) + log1p(c/w) as a sum of logs, finite where w overflows."""
    if isinstance(base, expm1):
        return _expm1_log(base.args[0], log_abs)
    c, w = base.as_coeff_Add()
    if not (c.is_positive and w.free_symbols and _log1p_of_square(log1p(w))):
        return log_abs(base)
    # log_abs rather than log: exp would unpack exp(2*log(x)) into x**2.
    return _factor_logs(w, log_abs) + log1p(c / w)


def _one_minus_tanh_squared(expr: sp.Basic) -> bool:
    """Whether ``expr`` is +-(1 - tanh(u)**2) or sech(u)**2."""
    if expr.is_Pow and expr.exp == 2:
        return isinstance(expr.base, sp.sech)
    if not expr.is_Add or len(expr.args) != 2:
        return False
    one, square = sorted(expr.args, key=lambda a: not a.is_Number)
    square = -square if one == 1 else square
    return abs(one) == 1 and square.is_Pow and square.exp == 2 and isinstance(square.base, sp.tanh)


def _sigmoids(expr: sp.Expr) -> sp.Expr:
    """1 - tanh(u)**2 = sech(u)**2 = 4 sigmoid(2u) sigmoid(-2u), with its sign."""
    if expr.is_Pow:
        u, sign = expr.base.args[0], 1
    else:
        one, _ = sorted(expr.args, key=lambda a: not a.is_Number)
        (u,) = next(iter(expr.atoms(sp.tanh))).args
        sign = one
    return 4 * sign * sigmoid(2 * u) * sigmoid(-2 * u)


def _spread(expr: sp.Basic) -> bool:
    """Whether ``expr`` is an exponential times a sum that holds one: then
    each term on its own, so that its exponentials meet."""
    if not expr.is_Mul:
        return False
    factors = expr.args
    return any(isinstance(f, sp.exp) for f in factors) and any(
        f.is_Add and f.has(sp.exp) for f in factors
    )
