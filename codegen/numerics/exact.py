"""Formulas that round nowhere, in any float type.

bfloat16 and float16 inputs are computed in float32 and rounded once at the
end (``widen`` in the support module).  A formula of selects, comparisons,
max, min, negation and absolute value, whose numbers every float type holds
exactly, never rounds: in the input's own dtype it gives the same bits, with
no float32 copies for XLA to keep.  hard_tanh's bfloat16 MLP planned 70 MiB
widened, as jax.nn's 58 without.
"""

import numpy as np
import sympy as sp
from sympy.core.relational import Relational
from sympy.logic.boolalg import BooleanAtom, BooleanFunction

from codegen.numerics.primitives import Where

_SELECTING = (Where, sp.Max, sp.Min, sp.Abs, Relational, BooleanFunction, BooleanAtom)


def rounds_nowhere(expr: sp.Basic) -> bool:
    """Whether every operation of ``expr`` is exact in every float type."""
    if expr.is_Symbol:
        return True
    if expr.is_Number:
        return _held(expr)
    if isinstance(expr, sp.Mul) and len(expr.args) == 2 and expr.args[0] == -1:
        return rounds_nowhere(expr.args[1])  # negation
    if not isinstance(expr, _SELECTING):
        return False
    return all(rounds_nowhere(arg) for arg in expr.args)


def _held(number: sp.Expr) -> bool:
    """Whether float16 and bfloat16 both hold ``number`` exactly.

    bfloat16 is float32 with the low 16 bits of the significand cut, so it
    holds a float32 whose low 16 bits are 0 (without importing JAX).
    """
    if not number.is_real or not number.is_finite:
        return False
    value = float(number)
    with np.errstate(over="ignore"):
        single = np.float32(value)
        in_float16 = float(np.float16(value)) == value
    return in_float16 and float(single) == value and not single.view(np.uint32) & 0xFFFF
