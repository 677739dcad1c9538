"""Where a formula is real: the sampling domain of a spec that gives none.

sqrt(x) and log(x) are not real for x < 0: without a ``domain`` line their
samples and docstring example would hold complex values.  SymPy's
``continuous_domain`` finds the interval; a formula real only on pieces
that are not one interval is refused with a message that suggests the line.
Isolated poles (1/x at 0) are not refused: the function is real around them.
"""

import sympy as sp
from sympy.calculus.util import continuous_domain
from sympy.codegen.cfunctions import expm1, log1p

from codegen.numerics.primitives import cbrt, erfc, sigmoid, softplus

# The primitives as SymPy's elementary functions, which continuous_domain knows.
# sigmoid, softplus and cbrt are real wherever u is: as 1/(1 + exp(-u)),
# sigmoid(x*(x + k)/2 + sqrt(1 + x**2))'s domain took SymPy more than 45 s.
_ELEMENTARY = {
    sigmoid: lambda u: u,
    softplus: lambda u: u,
    erfc: sp.erfc,
    log1p: lambda u: sp.log(1 + u),
    expm1: lambda u: sp.exp(u) - 1,
    cbrt: lambda u: u,
}


class DomainError(ValueError):
    """The formula is not real on one interval; the message says where it is."""


def real_domain(expr: sp.Expr, x: sp.Symbol) -> tuple[float, float] | None:
    """The interval where ``expr``, a formula in x alone, is real.

    None if that is all of R but for isolated points, or if SymPy cannot
    tell (Piecewise formulas): then the spec's default domain stands.
    """
    for function, elementary in _ELEMENTARY.items():
        expr = expr.replace(function, elementary)
    if expr.has(sp.Piecewise, sp.Heaviside, sp.Max, sp.Min):
        return None
    try:
        where = continuous_domain(expr, x, sp.S.Reals)
    except (NotImplementedError, ValueError, TypeError, RecursionError):
        return None
    if where.has(sp.ConditionSet):
        return None  # SymPy cannot solve it: tanh(x + k) + 1 = 0 has no real root
    outside = sp.S.Reals - where
    if where == sp.S.Reals or isinstance(outside, sp.FiniteSet):
        return None
    if isinstance(where, sp.Interval):
        return (float(where.start), float(where.end))
    raise DomainError(f"is real only on {where}")
