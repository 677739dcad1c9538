"""NumPy's transcendental functions, computed the same on every machine.

NumPy's float32 and float64 loops for exp, log, tanh, power and the rest
dispatch on the CPU's features (AVX2, AVX-512) and differ in the last bit
between machines.  The form search compares errors in ulps, so a near tie
went one way on one machine and the other way on another: log1mexp'' was
built in one form where NumPy used AVX-512 and in another where it did not,
and the committed files failed ``--check``.  Here each is computed in long
double by the C library, which has one code path, rounded to the
arguments' dtype and moved by up to an ulp (``_nudged``): the same
everywhere.
"""

from collections.abc import Callable

import numpy as np

# NumPy's names for the functions SymPy's NumPy printer writes.
_TRANSCENDENTAL = (
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "logaddexp", "power",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "cbrt",
)  # fmt: skip


def extended(function: Callable) -> Callable:
    """``function`` of long doubles, rounded to its arguments' float dtype
    and nudged."""

    def rounded(*args):
        dtype = np.result_type(*args)
        if dtype.kind != "f":
            dtype = np.dtype(np.float64)
        with np.errstate(all="ignore"):
            wide = function(*(np.asarray(a, np.longdouble) for a in args))
            return _nudged(wide, wide.astype(dtype), np.asarray(args[0], dtype))

    return rounded


def _nudged(wide: np.ndarray, values: np.ndarray, key: np.ndarray) -> np.ndarray:
    """``values`` with their inexact entries moved one ulp, away from 0 or
    toward it by a hash of the key's bits.

    Correctly rounded functions flattered forms that cancel: tanh''' chose a
    form whose series regime XLA's tanh, 2 ulps out, left at 63 ulps.  So a
    primitive is taken as right to 1.5 ulps, as XLA's own are, not 0.5.  An
    exact result, exp(0) = 1, stays exact, as XLA's does.
    """
    if values.dtype not in (np.float32, np.float64):
        return values
    bits = np.abs(key).view(np.uint32 if key.dtype == np.float32 else np.uint64)
    away = ((bits.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)) & 1
    # By |x|, and away from 0 or toward it: tanh(-x) stays -tanh(x), as an odd
    # function's Taylor polynomials about opposite roots stay one named pair.
    toward = np.where(away == 1, np.copysign(np.inf, values), 0).astype(values.dtype)
    moved = np.nextafter(values, toward)
    keep = (wide == values) | ~np.isfinite(values) | ~np.isfinite(moved) | (values == 0)
    return np.where(keep, values, moved)


def integer_power(base, exponent: int):
    """``base**exponent`` for an exponent of at least 1, as products rounded
    in turn in the order JAX's integer_pow takes them, which ``x**3`` in JAX is."""
    result = None
    while exponent:
        if exponent & 1:
            result = base if result is None else result * base
        exponent >>= 1
        if exponent:
            base = base * base
    return result


def powers_of_ten(start: float, stop: float, count: int) -> np.ndarray:
    """``np.logspace(start, stop, count)``, the same on every machine."""
    exponents = np.linspace(start, stop, count, dtype=np.longdouble)
    return (np.longdouble(10) ** exponents).astype(np.float64)


FUNCTIONS = {name: extended(getattr(np, name)) for name in _TRANSCENDENTAL} | {
    "integer_power": integer_power,
    "sigmoid": extended(lambda u: 1 / (1 + np.exp(-u))),
}
