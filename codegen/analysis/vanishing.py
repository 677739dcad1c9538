"""Terms of a sum that break where they vanish.

(atan(x - exp(kx))/(1 + |x + k|))' holds u'/(1 + u**2)/(1 + |x + k|) with
u = x - exp(kx): past x = 101 at k = 7 both u' and u**2 overflow in float64
and the term is NaN, though it tends to 0.  The sum tends to 0 as well, but
only as pi/(2x**2), so the whole has no tail regime that returns its limit
in time.  Each such term is taken as 0 past its own threshold, where it is
not finite.
"""

import numpy as np
import sympy as sp

from codegen.analysis.lower import lower
from codegen.analysis.model import Context
from codegen.analysis.tails import far_values, tails
from codegen.numerics.primitives import Where, isfinite


def vanishing_terms(expr: sp.Expr, found: tuple, context: Context) -> sp.Expr:
    """``expr`` with each term that breaks where its truth has settled on 0
    guarded, if ``expr`` breaks on a side where its own tail regimes
    ``found`` do not mend it: the terms of a sum, or of each sum that a
    product holds, as (f/g)'' = (A + B + C)/g holds."""
    mended = {_side(tail) for tail in found}
    sides = tuple(s for s in (1, -1) if s not in mended)
    if not (expr.is_Add or expr.is_Mul) or not _breaks(expr, context, sides):
        return expr
    if expr.is_Add:
        return sp.Add(*(_guarded(term, context) for term in expr.args))
    return sp.Mul(*(_terms(f, context, sides) if f.is_Add else f for f in expr.args))


def _side(tail: tuple) -> int:
    """1 if a tail regime ``(limit, beyond)`` is at +inf, -1 if at -inf."""
    _, beyond = tail
    if beyond.is_Relational:
        return 1 if beyond.rel_op in (">", ">=") else -1
    return 1 if any(c.is_Relational and c.rel_op == ">" for c in beyond.args) else -1


def _terms(expr: sp.Expr, context: Context, sides: tuple) -> sp.Expr:
    """A sum that a product holds, its terms guarded if it breaks itself."""
    if not _breaks(expr, context, sides):
        return expr
    return sp.Add(*(_guarded(term, context) for term in expr.args))


def _breaks(expr: sp.Expr, context: Context, sides: tuple) -> bool:
    """Whether ``expr``'s closed form is inf or NaN at a far point on one of
    ``sides``, in float32 or float64, at a parameter sample."""
    lowered = lower(expr, context.x, {}, clamp=False)  # as tails lowers it: evaluated once
    return any(
        not np.isfinite(far_values(lowered, context.x, sign, dtype, dict(sample))).all()
        for sign in sides
        for dtype in (np.float32, np.float64)
        for sample in context.samples
    )


def _guarded(term: sp.Expr, context: Context) -> sp.Expr:
    """``term``, 0 past each threshold where it is not finite and tends to 0."""
    for limit, beyond in tails(term, context.x, context.domain, context.samples):
        if limit == 0 and beyond.is_Relational:
            term = Where(sp.And(beyond, sp.Not(isfinite(term))), 0, term)
    return term
