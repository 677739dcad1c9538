"""How products and powers are written, shared by the printer that emits JAX
and the NumPy functions the analysis measures with.

The order of a product's factors decides where a float overflows: 3*x*u/4
is inf from x = 1.1e38 in float32 where 0.75*x*u is not, and inf/inf is NaN.
A tail regime found on one order and emitted in the other leaves NaN between
them, so both print the same way.
"""

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE

_EXACT = 2**24  # the integers float32 holds exactly, and more


class ArithmeticPrinter(NumPyPrinter):
    """NumPy code with numbers as float literals, products with a fraction
    coefficient as ``p*rest/q``, and negative integer powers as a division;
    the JAX printer derives from it."""

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))

    def _print_Rational(self, expr: sp.Rational) -> str:
        return repr(float(expr)) if expr.q != 1 else str(expr.p)

    def _print_Mul(self, expr: sp.Mul) -> str:
        # (1/2)*x prints as x/2: division by an integer is correctly rounded.
        # Not a parameter's exact sample, 5764607523034235/2**60: its terms
        # are past float32's range.
        coefficient, rest = expr.as_coeff_Mul()
        small = coefficient.is_Rational and max(abs(coefficient.p), coefficient.q) < _EXACT
        if small and coefficient.q != 1:
            sign = "-" if coefficient < 0 else ""
            numerator = self.parenthesize(abs(coefficient.p) * rest, PRECEDENCE["Mul"], strict=True)
            return f"{sign}{numerator}/{coefficient.q}"
        return super()._print_Mul(expr)

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exponent = expr.as_base_exp()
        if exponent == sp.S.Half:
            return f"{self._module_format(self._module + '.sqrt')}({self._print(base)})"
        if exponent == -sp.S.Half:
            return self._rsqrt(self._print(base))
        if exponent.is_Integer and exponent < 0:
            inverse = self.parenthesize(base**-exponent, PRECEDENCE["Mul"], strict=True)
            return f"1 / {inverse}"
        power = self.parenthesize(exponent, PRECEDENCE["Pow"], strict=True)
        if exponent.is_Rational and exponent > 0:
            power = self._print(exponent)
        return f"{self.parenthesize(base, PRECEDENCE['Pow'], strict=True)}**{power}"

    def _rsqrt(self, base: str) -> str:
        return f"1 / {self._module_format(self._module + '.sqrt')}({base})"
