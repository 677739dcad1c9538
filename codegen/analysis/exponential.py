"""One exponential where a formula is a rational function of exp(x).

mish' = tanh(softplus(x)) + 4x sigmoid(x) sigmoid(2 softplus(x)) sigmoid(-2 softplus(x))
costs five transcendentals as written, and mish itself three.  With E =
exp(x) each is a ratio of polynomials in E and x: tanh(softplus(x)) is
((1 + E)**2 - 1)/((1 + E)**2 + 1).  By the sign of x, in e = exp(-|x|),
with E = 1/e where x >= 0 and E = e below, each side is a ratio of
polynomials in e, which lies in (0, 1]: nothing overflows, and the whole is
one exponential and one division.  The search takes this form only where it
is as accurate and finite wherever the formula as written is: (1 - e)/(1 + e)
for tanh(x/2) cancels near 0.  SymPy writes a lone e**2 as exp(-2|x|), a
second exponential: such a formula keeps its own form.
"""

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from codegen.analysis.lower import lower, one_exponential
from codegen.analysis.model import Context
from codegen.numerics.evaluate import far_magnitudes, float64_values
from codegen.numerics.primitives import Max, Min, reciprocal, sigmoid, softplus

_E = sp.Dummy("E", positive=True)
_REACH = 1e4  # exp(-1e4) is 0 in float64, as in float32
# Far points to each float type's largest, and infinity: 16 a decade in float32, 4 in float64.
_FAR = {
    np.float32: np.append(far_magnitudes(np.float32, 16), np.inf),
    np.float64: np.append(far_magnitudes(np.float64, 4), np.inf),
}
# Each function as exponentials and logarithms, whose exponentials of x
# become powers of E.
_AS_EXP = (
    (sigmoid, lambda u: 1 / (1 + sp.exp(-u))),
    (softplus, lambda u: sp.log(1 + sp.exp(u))),
    (sp.tanh, lambda u: 1 - 2 / (sp.exp(2 * u) + 1)),
    (expm1, lambda u: sp.exp(u) - 1),
    (log1p, lambda u: sp.log(1 + u)),
)


class _NotRational(Exception):
    """An exponent that is not an integer times x plus integer logarithms."""


def in_one_exponential(expr: sp.Expr, x: sp.Symbol, cheaper: bool = True) -> sp.Expr | None:
    """``expr`` from the one exponential exp(-|x|), if it is a rational
    function of exp(x) and x and, where ``cheaper``, costs more than one
    transcendental as written; else None."""
    if cheaper and _transcendentals(one_exponential(expr), x) < 2:
        return None  # sigmoid(x)*sigmoid(-x) is one exponential already
    written = expr
    for function, as_exp in _AS_EXP:
        written = written.replace(function, as_exp)
    try:
        rational = written.replace(sp.exp, lambda u: _as_powers(u, x))
    except _NotRational:
        return None
    if rational.has(sp.exp, sp.log) or not rational.is_rational_function(x, _E):
        return None
    e = sp.Dummy("e", positive=True)
    above, below = (_in_e(rational.subs(_E, side), e, x) for side in (1 / e, e))
    # The sides' numerators and denominators selected apart: one division,
    # which SymPy would push into each side of a Piecewise's 1/(...).
    numerator, denominator = (
        sp.Piecewise((a, x >= 0), (b, True)) for a, b in zip(above, below, strict=True)
    )
    cheaper = numerator * reciprocal(denominator)
    # A power of e with no lower power beside it is another exponential:
    # SymPy writes exp(-|x|)**2 as exp(-2|x|).
    return cheaper if _transcendentals(cheaper, x) == 1 else None


def _in_e(rational: sp.Expr, e: sp.Dummy, x: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """The numerator and denominator of ``rational``, polynomials in ``e``,
    each in Horner's form, e*(c1 + e*(c2 + ...)), so that e is one
    exponential and not one per power.  Past |x| = _REACH, e is 0 in float64,
    and x in c1, c2, ... is clamped there: 4x overflows past 8.5e37 in
    float32, and inf * 0 would be NaN."""
    bounded = Min(Max(x, -_REACH), _REACH)
    polynomials = []
    for part in sp.fraction(sp.cancel(rational)):
        constant, *higher = sp.Poly(part, e).all_coeffs()[::-1]
        horner = sp.Integer(0)
        for coefficient in reversed(higher):
            horner = e * (coefficient.subs(x, bounded) + horner)
        polynomials.append((constant + horner).subs(e, sp.exp(-sp.Abs(x))))
    return polynomials[0], polynomials[1]


def breaks_no_more(cheaper: sp.Expr, current: sp.Expr, context: Context) -> bool:
    """Whether ``cheaper``, computed in float32 and float64 at every
    parameter sample, is finite at every far point where ``current`` is."""
    x = context.x
    forms = [lower(f, x, {}, clamp=False) for f in (cheaper, current)]
    for dtype, magnitudes in _FAR.items():
        points = np.concatenate([-magnitudes, magnitudes]).astype(dtype)
        points = points[(points >= context.domain[0]) & (points <= context.domain[1])]
        for sample in context.samples:
            ours, theirs = (float64_values(f, x, points, dict(sample)) for f in forms)
            if (np.isfinite(theirs) & ~np.isfinite(ours)).any():
                return False
    return True


def _as_powers(exponent: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """exp(exponent) as a product of powers of E and of logarithms' arguments."""
    factors = []
    for term in sp.Add.make_args(sp.expand(exponent)):
        if not term.has(x, _E):
            factors.append(sp.exp(term))
            continue
        coefficient, rest = term.as_coeff_Mul()
        if not coefficient.is_Integer:
            raise _NotRational(term)
        if rest == x:
            factors.append(_E**coefficient)
        elif isinstance(rest, sp.log):
            factors.append(rest.args[0] ** coefficient)
        else:
            raise _NotRational(term)
    return sp.Mul(*factors)


def _transcendentals(expr: sp.Expr, x: sp.Symbol) -> int:
    """How many distinct transcendental calls of x ``expr`` makes."""
    calls = (sigmoid, softplus, sp.tanh, sp.exp, sp.log, expm1, log1p)
    return sum(1 for f in expr.atoms(*calls) if f.has(x))
