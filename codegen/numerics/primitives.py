"""SymPy functions for the stable primitives that JAX provides.

Each has a closed-form derivative (``fdiff``) written with these same
primitives, so differentiating never reintroduces a cancelling form, and an
elementary ``definition`` used for high-precision evaluation.
"""

import sympy as sp
from mpmath.libmp import prec_to_dps
from sympy.codegen.cfunctions import expm1, log1p
from sympy.logic.boolalg import BooleanFunction

from codegen.numerics.extrema import Max, Min


class _Primitive(sp.Function):
    """A function with an elementary definition, used by ``evalf``."""

    nargs = 1

    def definition(self) -> sp.Expr:
        raise NotImplementedError

    def _eval_evalf(self, prec):
        return self.definition().evalf(prec_to_dps(prec))

    def _eval_is_real(self):
        return self.args[0].is_real


class sigmoid(_Primitive):
    """The logistic function 1 / (1 + exp(-u))."""

    def fdiff(self, argindex=1):
        (u,) = self.args
        # sigmoid(u) * sigmoid(-u): no cancellation, unlike s * (1 - s).
        return sigmoid(u) * sigmoid(-u)

    @classmethod
    def eval(cls, u):
        if u.is_zero:
            return sp.S.Half
        if u is sp.oo:
            return sp.S.One
        if u is -sp.oo:
            return sp.S.Zero
        return None

    def definition(self):
        return 1 / (1 + sp.exp(-self.args[0]))

    def _latex(self, printer, exp=None):
        power = f"^{{{exp}}}" if exp else ""
        return rf"\sigma{power}{{\left({printer._print(self.args[0])} \right)}}"


class softplus(_Primitive):
    """log(1 + exp(u)), evaluated without overflow."""

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    @classmethod
    def eval(cls, u):
        if u.is_zero:
            return sp.log(2)
        return None

    def definition(self):
        return sp.log(1 + sp.exp(self.args[0]))


class erfc(_Primitive):
    """The complementary error function, kept as written.

    SymPy rewrites ``erfc(-u)`` as ``2 - erfc(u)``, which cancels to 0 where
    erfc(-u) is tiny; this class keeps the argument's sign.
    """

    def fdiff(self, argindex=1):
        u = self.args[0]
        return -2 * sp.exp(-(u**2)) / sp.sqrt(sp.pi)

    @classmethod
    def eval(cls, u):
        if u.is_zero:
            return sp.S.One
        return None

    def definition(self):
        return sp.erfc(self.args[0])

    def _latex(self, printer, exp=None):
        power = f"^{{{exp}}}" if exp else ""
        return rf"\operatorname{{erfc}}{power}{{\left({printer._print(self.args[0])} \right)}}"


class cbrt(_Primitive):
    """The real cube root, as NumPy's and JAX's: cbrt(-8) = -2.

    SymPy's own cbrt is u**(1/3), the principal root, complex for u < 0,
    so a spec's cbrt(x) would have been NaN for every negative x.
    """

    def fdiff(self, argindex=1):
        return 1 / (3 * cbrt(self.args[0]) ** 2)

    @classmethod
    def eval(cls, u):
        if u.is_Number:
            return sp.sign(u) * sp.Abs(u) ** sp.Rational(1, 3)
        # The real root of a product is the product of the roots, and of a
        # cube its base: cbrt(8*x**6) is 2*x**2, whose third derivative
        # SymPy then knows is 0, where the chain rule through cbrt left
        # 3e-13 of rounding.
        outside, inside = [], []
        for factor in sp.Mul.make_args(u):
            base, exponent = factor.as_base_exp()
            if factor.is_Number:
                outside.append(cls(factor))
            elif exponent.is_Integer and exponent % 3 == 0:
                outside.append(base ** (exponent // 3))
            else:
                inside.append(factor)
        if len(inside) == len(sp.Mul.make_args(u)):
            return None
        return sp.Mul(*outside) * cls(sp.Mul(*inside))

    def definition(self):
        u = self.args[0]
        return sp.sign(u) * sp.Abs(u) ** sp.Rational(1, 3)


class log_abs(_Primitive):
    """log|u|: a power's logarithm inside an exponential, which SymPy's exp
    would otherwise unpack: exp(a + 2*log(u)) is u**2*exp(a) again."""

    def fdiff(self, argindex=1):
        return 1 / self.args[0]

    def definition(self):
        return sp.log(sp.Abs(self.args[0]))


class reciprocal(sp.Function):
    """1/u: one division, shared by every power of 1/u that a formula holds."""

    nargs = 1

    def fdiff(self, argindex=1):
        return -(reciprocal(self.args[0]) ** 2)

    def _eval_evalf(self, prec):
        return 1 / self.args[0].evalf(prec_to_dps(prec))

    def _eval_is_real(self):
        return self.args[0].is_real


class offset(sp.Function):
    """x - c for a float32 centre c: exact near c (Sterbenz's lemma).

    A series about the float32 nearest a root, rather than about the root,
    needs no second constant: XLA would fold (x - hi) - lo into x - (hi + lo)
    and round away the digits that the split was for.
    """

    nargs = 2

    def fdiff(self, argindex=1):
        return sp.S.One if argindex == 1 else sp.S.NegativeOne

    def _eval_evalf(self, prec):
        x, centre = (arg.evalf(prec_to_dps(prec)) for arg in self.args)
        return x - centre

    def _eval_is_real(self):
        return self.args[0].is_real


class polynomial(sp.Function):
    """c0 + c1*x + c2*x**2 + ..., for ``polynomial(x, n, c0, c1, c2, ...)``.

    float32 inputs need only the first ``n`` terms; float64 ones need all.
    """

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        x, terms, *coefficients = self.args
        derivative = [k * c for k, c in enumerate(coefficients)][1:] or [sp.S.Zero]
        return polynomial(x, max(terms - 1, 1), *derivative)

    def _eval_evalf(self, prec):
        x, _, *coefficients = (arg.evalf(prec_to_dps(prec)) for arg in self.args)
        return sum(c * x**k for k, c in enumerate(coefficients))

    def _eval_is_real(self):
        return all(arg.is_real for arg in self.args)


class _Test(BooleanFunction):
    """An element-wise test of a float, printed as the same-named NumPy function."""

    nargs = 1

    def _numpycode(self, printer) -> str:
        return f"{type(self).__name__}({printer._print(self.args[0])})"

    _mpmathcode = _numpycode


class isfinite(_Test):
    """Whether ``u`` is neither inf nor NaN."""


class isinf(_Test):
    """Whether ``u`` is inf or -inf."""


class Where(sp.Function):
    """Element-wise select: ``a`` where ``condition`` holds, else ``b``."""

    nargs = 3

    @classmethod
    def eval(cls, condition, a, b):
        # A condition SymPy decides, as exp(x) >= 0, selects nothing.
        if condition is sp.true:
            return a
        if condition is sp.false:
            return b
        return None

    def _eval_is_real(self):
        return self.args[1].is_real and self.args[2].is_real


class axis_sum(sp.Function):
    """The sum along the axis of an axis-wise spec, keeping its dimensions."""

    nargs = 1


class axis_mean(sp.Function):
    """The mean along the axis of an axis-wise spec, keeping its dimensions."""

    nargs = 1


# What an axis-wise spec's reductions may call, besides FUNCTIONS.
REDUCTIONS: dict[str, type[sp.Function]] = {"sum": axis_sum, "mean": axis_mean}

# Functions a spec may call, by the name it uses.
FUNCTIONS: dict[str, type[sp.Basic]] = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "cbrt": cbrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "asin": sp.asin,
    "acos": sp.acos,
    "atan": sp.atan,
    "atan2": sp.atan2,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "asinh": sp.asinh,
    "acosh": sp.acosh,
    "atanh": sp.atanh,
    "erf": sp.erf,
    "erfc": erfc,
    "Abs": sp.Abs,
    "abs": sp.Abs,
    "sign": sp.sign,
    "Max": Max,
    "Min": Min,
    "Piecewise": sp.Piecewise,
    "Heaviside": sp.Heaviside,
    "sigmoid": sigmoid,
    "softplus": softplus,
    "log1p": log1p,
    "expm1": expm1,
}

CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}
