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

import functools
from collections.abc import Callable

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from codegen.analysis.astray import astray_bounds, inside
from codegen.analysis.lower import lower
from codegen.analysis.model import Context
from codegen.numerics.evaluate import exact_values, float32_values, float64_values
from codegen.numerics.primitives import Where, isfinite, log_abs, sigmoid, softplus

# Magnitudes to look for breaks at: 16 a decade to 1e4, then 1 a decade.
_MAGNITUDES = np.unique(np.concatenate([np.geomspace(1, 1e4, 65), np.logspace(4, 308, 305)]))
# Each float type: its NumPy evaluation and its largest finite value.
_TYPES = (
    (np.float32, float32_values, float(np.finfo(np.float32).max)),
    (np.float64, float64_values, float(np.finfo(np.float64).max)),
)
_CHECKED = 24  # broken points where the truth is computed, at most


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
    powers = [p[1] for p in map(_power, expr.args) if p]
    ratio = any(p > 0 for p in powers) and any(p < 0 for p in powers)
    return exps > 1 or (exps == 1 and bool(powers)) or ratio


def _power(factor: sp.Basic) -> tuple[sp.Expr, sp.Rational] | None:
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
        elif power := _power(f):
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


def with_fallback(expr: sp.Expr, computed: sp.Expr, context: Context, clamp: bool) -> sp.Expr:
    """``computed``, the lowered form of ``expr``, with ``expr`` in log space
    where ``computed`` is not finite, if that mends a point; where it is 0
    but the fallback is finite, if ``computed`` was 0 at a mended point; and
    past far bounds where ``computed`` is finite but wrong (astray.py)."""
    powers = [p for p in expr.atoms(sp.Pow) if _power(p)]
    ratio = any(p.exp.is_negative or not p.exp.is_Integer for p in powers)
    if not (ratio or expr.has(sp.exp, sigmoid, sp.tanh, sp.sech, log1p)):
        return computed
    x = context.x

    @functools.cache
    def fallback() -> sp.Expr | None:
        alternative = log_space(expr)
        return None if alternative == expr else lower(alternative, x, context.values, clamp=clamp)

    kept = _kept(expr, computed, fallback, context)
    bounds = astray_bounds(expr, computed, fallback, x, context.domain, dict(context.samples[0]))
    if bounds is not None:
        kept = sp.And(inside(x, bounds), isfinite(computed) if kept is None else kept)
    return computed if kept is None else Where(kept, computed, fallback())


def _kept(expr, computed, fallback: Callable, context: Context) -> sp.Basic | None:
    """Where ``computed`` is kept over the log-space ``fallback()``: where it is
    finite, if the fallback mends a point where it is not; else None."""
    for sample in context.samples:
        evaluate, points, truth = _broken(expr, computed, context.x, context.domain, dict(sample))
        if not len(points):
            continue  # finite wherever its truth is: the common case
        if fallback() is None:
            return None
        if not _right(evaluate(fallback(), context.x, points, dict(sample)), truth):
            continue
        kept = isfinite(computed)
        if (evaluate(computed, context.x, points, dict(sample)) == 0).any():
            # An overflowed denominator's quotient is a wrong 0, unless the fallback fails too.
            kept = kept & (sp.Ne(computed, 0) | ~isfinite(fallback()))
        return kept
    return None


def _broken(expr, computed, x, domain, sample) -> tuple:
    """(evaluate, points, truth): up to _CHECKED points where ``computed``
    is not finite but the truth is, or is 0 where the truth is not small,
    in float32 or else float64, at one parameter sample; no points
    if there are none."""
    points = _far_points(domain)
    for dtype, evaluate, largest in _TYPES:
        typed = points[np.abs(points) <= largest].astype(dtype)
        try:
            values = evaluate(computed, x, typed, sample)
        except TypeError:
            break  # SymPy cannot print Min of a clamped x for NumPy: no fallback
        zeros = _suspect_zeros(computed, x, typed[values == 0], sample, dtype)
        if np.isfinite(values).all() and not len(zeros):
            continue
        # Both kinds, so that zeros the truth shares do not crowd out the rest.
        picked = np.concatenate([_spread_out(typed[~np.isfinite(values)]), _spread_out(zeros)])
        truth = exact_values(expr.subs(sample), x, picked)
        with np.errstate(all="ignore"):
            got = evaluate(computed, x, picked, sample)
            finite = np.isfinite(truth) & (np.abs(truth) <= largest)
            wrong = ~np.isfinite(got) | ((got == 0) & (np.abs(truth) >= _small(dtype)))
        if (finite & wrong).any():
            return evaluate, picked[finite & wrong], truth[finite & wrong]
    return None, np.array([]), np.array([])


def _suspect_zeros(computed, x, zeros: np.ndarray, sample, dtype) -> np.ndarray:
    """Of the float32 ``zeros`` of ``computed``, those that float64 does not
    find small: an intermediate overflowed in float32 alone.  A float64 zero
    is not checked: its float32 twin shows the same flaw at smaller x."""
    if dtype is not np.float32 or not len(zeros):
        return zeros[:0]
    with np.errstate(all="ignore"):
        wide = float64_values(computed, x, zeros.astype(np.float64), sample)
    return zeros[~(np.abs(wide) < _small(dtype))]


def _small(dtype) -> float:
    """The least truth a computed 0 is wrong for: below it, whose square
    underflows, 0 is the float format's limit rather than a formula's flaw."""
    return float(np.sqrt(np.finfo(dtype).tiny))


def _spread_out(points: np.ndarray) -> np.ndarray:
    """Up to _CHECKED of ``points``, evenly spread."""
    if not len(points):
        return points
    return points[np.unique(np.linspace(0, len(points) - 1, _CHECKED).astype(int))]


def divided_safely(expr, divided, undivided, context: Context) -> sp.Expr:
    """``divided``, lower's form of ``expr`` with one division per
    denominator, or ``undivided`` if that is not finite where the truth is.

    There d**2 may have overflowed, and r**2 = 1/d**2 underflowed to 0 or a
    subnormal's few digits, which a*r**2 carries into the result in the
    order JAX multiplies, whatever NumPy's order shows here: with_fallback
    mends the break that ``undivided`` shows, and nothing mends a wrong number.
    """
    if divided == undivided:
        return divided
    for sample in context.samples:
        if len(_broken(expr, undivided, context.x, context.domain, dict(sample))[1]):
            return undivided
    return divided


def _far_points(domain) -> np.ndarray:
    """±_MAGNITUDES inside ``domain``."""
    low, high = domain
    points = np.concatenate([-_MAGNITUDES, _MAGNITUDES])
    return points[(points > low) & (points < high)]


def _right(got: np.ndarray, truth: np.ndarray) -> bool:
    """Whether the fallback is right at one of the points, to 1e-3."""
    with np.errstate(all="ignore"):
        return bool((np.abs(got - truth) <= 1e-3 * np.abs(truth)).any())
