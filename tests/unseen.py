"""Checks for formulas the catalogue has never seen: values and derivatives
against mpmath, at random points, in the tails, and at parameter values
spread over several decades."""

import jax
import numpy as np
import sympy as sp

from codegen.analysis.model import Activation
from codegen.numerics.evaluate import exact_values, float64_values

# Parameter values as multiples of the defaults (a default of 0 becomes the scale).
SCALES = (1.0, 0.01, 0.1, 10.0, 100.0)
TAILS = (30.0, 200.0, 1e3, 1e5, 1e10, 1e20, 1e100)


def points(activation: Activation, seed: int = 0) -> np.ndarray:
    """Random points of both signs, and far ones, inside the domain."""
    rng = np.random.default_rng(seed)
    near = np.concatenate([rng.normal(0.0, 3.0, 16), rng.uniform(-30.0, 30.0, 8)])
    far = np.concatenate([TAILS, np.negative(TAILS)])
    low, high = activation.spec.domain
    pts = np.concatenate([near, far])
    if np.isfinite(low):
        pts = low + np.abs(pts - low) + 1e-3
    if np.isfinite(high):
        pts = np.minimum(pts, high - 1e-3)
    return _conditioned(activation, np.unique(pts))


def _conditioned(activation: Activation, pts: np.ndarray) -> np.ndarray:
    """The points where every sin, cos and tan argument is within 1e4.

    Past that they are ill-conditioned: rounding the argument, however it
    is computed, moves the result by |argument| ulps. sin(exp(x)) at x = 30
    is noise in float64, and exp(x) is inf at 1000 where the truth is not.
    """
    source = activation.formulas[0].source
    arguments = [f.args[0] for f in source.atoms(sp.sin, sp.cos, sp.tan)]
    keep = np.abs(pts) <= 1e4 if arguments else np.ones(pts.shape, bool)
    for argument in arguments:
        magnitude = np.abs(float64_values(argument, activation.x, pts, activation.defaults))
        keep &= magnitude <= 1e4  # NaN or inf fails too
    return pts[keep]


def untied(activation: Activation, params, pts: np.ndarray) -> np.ndarray:
    """The points where no Max or Min has two arguments within 1e-12 of each other.

    There the kink is within rounding: both arguments round to one float,
    which is a tie, counted one half (README, Conventions), though in exact
    arithmetic one argument is the larger.  Max(|k*x|, sigmoid(x + k)) at
    k = 0.005, x = 200: both are 1.0 to 87 digits.
    """
    values = dict(zip(activation.params, params, strict=True))
    keep = np.ones(pts.shape, bool)
    for kink in activation.formulas[0].source.atoms(sp.Max, sp.Min):
        sides = [float64_values(a, activation.x, pts, values) for a in kink.args]
        for i, a in enumerate(sides):
            for b in sides[i + 1 :]:
                with np.errstate(all="ignore"):
                    keep &= ~(np.abs(a - b) <= 1e-12 * np.maximum(np.abs(a), np.abs(b)))
    return pts[keep]


def parameter_values(activation: Activation) -> list[tuple[float, ...]]:
    defaults = [float(p.default) for p in activation.spec.params]
    return [tuple(d * s if d else s for d in defaults) for s in SCALES]


def truth(activation: Activation, order: int, params, xs, wrt: tuple[int, ...] = ()) -> np.ndarray:
    """The exact ``order``-th derivative in x, by mpmath, rounded to float64;
    of the partial in the parameters ``wrt`` if given."""
    expr = activation.formulas[0].source
    for index in wrt:
        expr = sp.diff(expr, activation.params[index])
    expr = sp.diff(expr, activation.x, order)
    expr = expr.subs(dict(zip(activation.params, map(sp.Rational, params), strict=True)))
    # x - 1 at x = 1e100 needs 100 digits before the 60 the result keeps.
    digits = 60 + int(np.log10(np.max(np.abs(xs), initial=0.0) + 1))
    return exact_values(expr, activation.x, xs, digits=digits)


def computed(function, order: int, params, xs) -> np.ndarray:
    """JAX's ``order``-th derivative of the generated function, in float64.

    Each gradient is of half the function, and the result is scaled back:
    exact in binary, and a rule that multiplies only part of its partial by
    the cotangent (``k + 1 * g``) is wrong for any cotangent but 1.
    """
    with jax.enable_x64(True):
        f = lambda x: function(x, *params)  # noqa: E731
        for _ in range(order):
            f = jax.grad(lambda x, f=f: f(x) / 2)
        return np.asarray(jax.vmap(f)(np.asarray(xs, np.float64)), np.float64) * 2**order


def computed_partial(function, wrt: int, order: int, params, xs, times: int = 1) -> np.ndarray:
    """As :func:`computed`, of the partial of order ``times`` in parameter
    ``wrt``, a Python float as a user passes it."""

    def partial(x):
        def half(k):
            return function(x, *params[:wrt], k, *params[wrt + 1 :]) / 2

        for _ in range(times - 1):
            half = jax.grad(lambda k, f=half: f(k) / 2)
        return jax.grad(half)(params[wrt])

    with jax.enable_x64(True):
        f = partial
        for _ in range(order):
            f = jax.grad(lambda x, f=f: f(x) / 2)
        scale = 2 ** (order + times)
        return np.asarray(jax.vmap(f)(np.asarray(xs, np.float64)), np.float64) * scale


def mismatches(got: np.ndarray, exact: np.ndarray, xs: np.ndarray, rtol: float) -> list[str]:
    """Where ``got`` is wrong: not finite where the truth is finite, or off by
    more than ``rtol`` of the largest truth among two neighbours each side (near a root
    a relative error is unbounded).  Below 1e-15 of the largest truth (or of
    1), float64 terms that cancel to an exact zero leave their rounding:
    k*x/(1 + |x + k|)'' is 0 for x < -k at k = 1, computed -4e-23 at -1000."""
    order = np.argsort(xs)
    got, exact, xs = got[order], exact[order], xs[order]
    valid = np.isfinite(exact) & (np.abs(exact) < 1e300)
    floor = 1e-15 * np.max(np.abs(exact[valid]), initial=1.0)
    bad = []
    for i in np.flatnonzero(valid):
        window = np.abs(exact[max(i - 2, 0) : i + 3])
        scale = np.max(window[np.isfinite(window)])
        if not np.isfinite(got[i]) or abs(got[i] - exact[i]) > rtol * scale + floor:
            bad.append(f"x={xs[i]:.6g}: got {got[i]:.10g}, truth {exact[i]:.10g}")
    return bad


def check(activation: Activation, function, orders=(0, 1, 2), rtol: float = 1e-7) -> None:
    """Assert values and derivatives of ``function`` against mpmath, and each
    parameter's partial, its derivative in x, and its derivative in the parameter."""
    xs = points(activation)
    problems = []
    for params in parameter_values(activation):
        kept = untied(activation, params, xs)
        for order in orders:
            bad = mismatches(
                computed(function, order, params, kept),
                truth(activation, order, params, kept),
                kept,
                rtol,
            )
            problems += [f"order {order}, params {params}: {b}" for b in bad[:3]]
        for wrt, k in enumerate(activation.params):
            # d/dk, d^2/dx dk, and d^2/dk^2 of a parameter that is not an array input
            scalar = not activation.spec.params[wrt].input
            for order, times in ((0, 1), (1, 1), (0, 2))[: 3 if scalar else 2]:
                bad = mismatches(
                    computed_partial(function, wrt, order, params, kept, times),
                    truth(activation, order, params, kept, (wrt,) * times),
                    kept,
                    rtol,
                )
                label = f"d^{times}/d{k}^{times} order {order} in x, params {params}"
                problems += [f"{label}: {b}" for b in bad[:3]]
    assert not problems, f"{activation.spec.name}:\n" + "\n".join(problems[:12])
