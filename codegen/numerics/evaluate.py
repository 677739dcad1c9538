"""Evaluating formulas: exactly by mpmath, in float32 or float64 by NumPy.

The sample points and parameter values every stage measures at, and the
error in float32 ulps that the form search and the accuracy report score.
"""

import functools
import math
import threading
from collections.abc import Callable, Mapping

import mpmath
import numpy as np
import sympy as sp

from codegen.numerics.arithmetic import ArithmeticPrinter
from codegen.numerics.portable import FUNCTIONS, extended, powers_of_ten

EMPTY: Mapping = {}  # no parameters
TINY = 1e-30  # errors of smaller results are measured against this
TARGETS = (4, 4, 16, 64)  # most float32 ulps allowed at derivative order 0, 1, 2, 3
DIGITS = 40
# mpmath's exp(u) holds a binary exponent of about 1.44u bits, so exp(exp(x))
# at x = 5e6 never returns, and tanh(exp(x)) at x = 1e12 runs out of memory.
# Beyond this argument the result is taken as overflow (inf) or underflow (0).
_HUGE = mpmath.mpf(2) ** 20


class _Bound(threading.local):
    """exp's bound in this thread, and whether an evaluation went past it."""

    huge = _HUGE
    hit = False


_BOUND = _Bound()


def _exp(u):
    """mpmath's exp, bounded: inf or 0 for real parts beyond the bound."""
    real = mpmath.re(u)
    if abs(real) > _BOUND.huge:
        _BOUND.hit = True
        return mpmath.inf if real > 0 else mpmath.mpf(0)
    return mpmath.exp(u)


def _bounded(function, below):
    """cosh, sinh or expm1, with exp's bound: +inf above it, ``below`` under it."""

    def bounded(u):
        if abs(mpmath.re(u)) > _BOUND.huge:
            _BOUND.hit = True
            return below if mpmath.re(u) < 0 else mpmath.inf
        return function(u)

    return bounded


_MPMATH = {
    "exp": _exp,
    "cosh": _bounded(mpmath.cosh, mpmath.inf),
    "sinh": _bounded(mpmath.sinh, -mpmath.inf),
    "expm1": _bounded(mpmath.expm1, mpmath.mpf(-1)),
    "sigmoid": lambda u: 1 / (1 + _exp(-u)),
    "softplus": lambda u: u + mpmath.log1p(_exp(-u)) if mpmath.re(u) > 0 else mpmath.log1p(_exp(u)),
    "erfc": mpmath.erfc,
    "cbrt": lambda u: mpmath.sign(u) * mpmath.cbrt(abs(u)),
    "log1p": mpmath.log1p,
    "log_abs": lambda u: mpmath.log(abs(u)),
    "offset": lambda x, centre: x - centre,
    "reciprocal": lambda u: 1 / u,
    "polynomial": lambda x, _, *c: mpmath.polyval(c[::-1], x),
    "isfinite": mpmath.isfinite,
    "isinf": mpmath.isinf,
}
_CALLS = {
    "sigmoid": FUNCTIONS["sigmoid"],
    "softplus": extended(lambda u: np.logaddexp(u, 0)),
    "erfc": lambda u: _special("erfc")(u),
    "erf": lambda u: _special("erf")(u),
    "cbrt": FUNCTIONS["cbrt"],
    "log1p": FUNCTIONS["log1p"],
    "log_abs": lambda u: FUNCTIONS["log"](np.abs(u)),
    "expm1": FUNCTIONS["expm1"],
    "offset": lambda x, centre: x - np.float32(centre),
    "reciprocal": lambda u: np.float32(1) / u,
    "Where": np.where,
    "polynomial": lambda x, n, *c: np.polyval(np.array(c[: int(n)][::-1], np.float32), x),
    "isfinite": np.isfinite,
    "isinf": np.isinf,
    # As a call: SymPy's printer writes a Piecewise and simplifies its conditions,
    # 3.5 s for one step of Max's derivative on sin(x + k), in every form scored.
    "Heaviside": lambda u, at_zero=0.5: np.heaviside(u, np.float32(at_zero)),
}
NUMPY_FUNCTIONS = FUNCTIONS | _CALLS


def _special(name: str) -> Callable:
    """A scipy.special function, imported when first needed: a build from
    the cache never scores a formula, and the import takes 0.15 s."""
    import scipy.special

    return getattr(scipy.special, name)


# Parameter values a regime must hold at: the defaults scaled over four decades.
_SCALES = (1.0, 0.01, 0.1, 10.0, 100.0, -1.0)


def parameter_samples(defaults: Mapping[sp.Symbol, float]) -> tuple[tuple, ...]:
    """The defaults and scaled copies of them, each as sorted (symbol, value) pairs.

    A default of 0 is replaced by the scale itself.  Values where the
    formula is undefined (a negative scale of a square root's offset) are
    the caller's to skip.
    """
    if not defaults:
        return ((),)
    # Exact rationals: a Float would round SymPy's own folding, exp(-50.0)
    # included, to 15 digits, and the truth with it.
    return tuple(
        tuple(
            sorted(
                ((s, sp.Rational(v * scale if v else scale)) for s, v in defaults.items()), key=str
            )
        )
        for scale in _SCALES
    )


def far_magnitudes(dtype, per_decade: int) -> np.ndarray:
    """Magnitudes from 1 to the largest ``dtype``, ``per_decade`` a decade,
    and that largest value itself: where a closed form may overflow."""
    largest = np.finfo(dtype).max
    decades = int(np.log10(largest))
    return np.append(powers_of_ten(0, decades, decades * per_decade + 1), largest)


def sample_points(domain: tuple[float, float]) -> np.ndarray:
    """float32 points of both signs: 4 a decade from 1e-8 to 1e3, and 1/4 apart to 4."""
    magnitudes = np.concatenate([powers_of_ten(-8, 3, 45), np.linspace(0.25, 4, 16)])
    points = np.concatenate([-magnitudes, [0.0], magnitudes]).astype(np.float32)
    low, high = domain
    return np.unique(points[(points > low) & (points < high)])


def exact_values(
    expr: sp.Expr, x: sp.Symbol, points: np.ndarray, digits: int = DIGITS
) -> np.ndarray:
    """``expr`` at ``points`` by mpmath, rounded to float64; NaN where undefined."""
    expr = expr.replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    return np.array([_exact(expr, x, float(p), digits) for p in points])


@functools.cache  # the search scores many forms of one function at the same points
def _exact(expr: sp.Expr, x: sp.Symbol, point: float, digits: int) -> float:
    function = mpmath_function(expr, x)
    value = _bounded_value(function, point, digits, _HUGE)
    if not _BOUND.hit:
        return value
    # Past exp's bound, a result that moves with the bound is the bound's,
    # not the formula's: exp(x)/sqrt(exp(2x) + 1) at x = 1e6 was 0, not 1.
    # It is unknown there.  One that does not, as x*sigmoid(x) at -1e30, stands.
    return value if value == _bounded_value(function, point, digits, 2 * _HUGE) else math.nan


def _bounded_value(function: Callable, point: float, digits: int, huge) -> float:
    """``function`` at ``point`` with exp bounded at ``huge``, rounded to float64."""
    _BOUND.huge, _BOUND.hit = huge, False
    with mpmath.workdps(digits):
        try:
            value = complex(function(mpmath.mpf(point)))
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return math.nan
    return value.real if value.imag == 0 else math.nan


@functools.cache
def mpmath_function(expr: sp.Expr, x: sp.Symbol) -> Callable:
    """``expr`` as a function of ``x`` evaluated by mpmath."""
    # Shared subexpressions once: a high derivative repeats its inner functions.
    return sp.lambdify(x, expr, modules=[_MPMATH, "mpmath"], cse=True)


def float32_values(
    expr: sp.Expr, x: sp.Symbol, points: np.ndarray, sample: Mapping = EMPTY
) -> np.ndarray:
    """``expr`` at ``points`` computed in float32 by NumPy."""
    return float64_values(expr, x, np.asarray(points, np.float32), sample)


def float64_values(
    expr: sp.Expr, x: sp.Symbol, points: np.ndarray, sample: Mapping = EMPTY
) -> np.ndarray:
    """``expr`` at ``points`` computed by NumPy in the points' own dtype,
    with the parameters at ``sample``'s values: one function for them all,
    where a large formula takes seconds to turn into one."""
    symbols = tuple(sorted(sample, key=str))
    function = _float32_function(expr, (x, *symbols))
    # Full arrays: lambdify's And and Or reduce a tuple, which must not mix shapes.
    values = [np.full(points.shape, float(sample[s]), points.dtype) for s in symbols]
    with np.errstate(all="ignore"):
        result = np.broadcast_to(function(points, *values), points.shape)
    return np.asarray(result, dtype=np.float64)


class _PortablePrinter(ArithmeticPrinter):
    """The printer lambdify would make, calling the functions above by name,
    but with products and powers written as the emitted code writes them,
    and powers computed by functions the same on every machine."""

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exponent = expr.as_base_exp()
        if exponent.is_Integer and exponent > 2:
            return f"integer_power({self._print(base)}, {exponent})"
        if exponent.is_Integer or abs(exponent) == sp.S.Half:
            return super()._print_Pow(expr, rational)  # x*x, 1/x**n and sqrt are exact
        return f"power({self._print(base)}, {self._print(exponent)})"


_PRINTER = _PortablePrinter(
    {
        "fully_qualified_modules": False,
        "inline": True,
        "allow_unknown_functions": True,
        "user_functions": {name: name for name in _CALLS},
    }
)


@functools.cache
def _float32_function(expr: sp.Expr, arguments: tuple[sp.Symbol, ...]) -> Callable:
    return sp.lambdify(
        arguments, fold_constants(expr), modules=[NUMPY_FUNCTIONS, "numpy"], printer=_PRINTER
    )


def ulp_errors(values: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Errors in float32 ulps of max(|exact|, 1e-30), where ``exact`` is defined.

    A truth beyond float32's range is expected to overflow to inf; inf or NaN
    where the truth is finite in float32 counts as an infinite error.
    """
    big = np.finfo(np.float32).max
    with np.errstate(invalid="ignore"):
        exact = np.where(np.abs(exact) > big, np.sign(exact) * np.inf, exact)
    defined = ~np.isnan(exact)
    values, exact = values[defined], exact[defined]
    finite = np.isfinite(exact)
    errors = np.where(values == exact, 0.0, np.inf)  # right for infinite truths
    scale = np.spacing(np.maximum(np.abs(exact[finite]), TINY).astype(np.float32))
    with np.errstate(invalid="ignore", over="ignore"):
        errors[finite] = np.abs(values[finite] - exact[finite]) / scale.astype(np.float64)
    errors[np.isnan(errors)] = np.inf
    return errors


def fold_constants(expr: sp.Basic) -> sp.Basic:
    """Replace irrational constants such as sqrt(2)/pi by float literals."""
    if isinstance(expr, sp.Expr) and expr.is_number and not expr.is_Rational:
        value = expr.evalf(30)
        return sp.Float(value, 17) if value.is_real and value.is_finite else expr
    if isinstance(expr, sp.Pow) and expr.exp.is_Rational:  # keep x**2 an integer power
        return sp.Pow(fold_constants(expr.base), expr.exp)
    if not expr.args:
        return expr
    return expr.func(*(fold_constants(arg) for arg in expr.args))
