"""Where the accuracy report scores a function: both signs log-spaced from
1e-30 to 1e4, 0, every kink, and points beside the roots of the derivatives,
where every closed form cancels."""

import functools

import numpy as np
import sympy as sp

from codegen.analysis.model import Activation
from codegen.analysis.series import ROOT_REACH, TRAINED_ORDERS, roots_of
from codegen.numerics.primitives import offset

_STEPS = (-1e-2, -1e-4, 0.0, 1e-4, 1e-2)


def kinks(activation: Activation) -> list[float]:
    """The points where some formula of ``activation`` switches branch."""
    x = activation.x
    defaults = {
        s: p.default for s, p in zip(activation.params, activation.spec.params, strict=True)
    }
    differences = []
    for formula in activation.formulas:
        expr = formula.source.subs(defaults)
        differences += [r.lhs - r.rhs for r in expr.atoms(sp.core.relational.Relational)]
        for minmax in expr.atoms(sp.Max, sp.Min):
            differences += [a - b for a in minmax.args for b in minmax.args if a != b]
    points = {float(root) for d in differences for root in sp.solve(d, x) if root.is_real}
    return sorted(points)


@functools.cache  # the grid, the scores and the traded rows each ask
def traded_roots(activation: Activation, formula: int) -> dict[int, list[float]]:
    """The roots of f and f' (gates at 1) that a standard-accuracy build
    computes without a polynomial, by order; none for a strict spec.
    Within ROOT_REACH of them the report scores those orders apart."""
    if activation.spec.accuracy == "strict":
        return {}
    x, tower = activation.x, activation.formulas[formula].tower
    values = {**activation.defaults, **{g: 1 for g in activation.gates}}
    found = {}
    for order in TRAINED_ORDERS:
        expr = tower[order].expr.subs(values)
        if not expr.has(sp.Piecewise):  # the series finder reads one branch
            found[order] = [float(r) for r in roots_of(expr, x, activation.spec.domain)]
    return {order: rs for order, rs in found.items() if rs}


def beside(centres) -> list[float]:
    """float32 points at 0, 1e-4 and 1e-2 from each centre, and their neighbours below."""
    points = [np.float32(c + step) for c in centres for step in _STEPS]
    return sorted(float(p) for c in points for p in (np.nextafter(c, -np.inf), c))


def roots(activation: Activation) -> list[float]:
    """float32 points beside each root where a derivative has a series regime,
    or where a standard-accuracy build leaves it out."""
    centres = {
        float(o.args[1])
        for formula in activation.formulas
        for derivative in formula.tower
        for o in sp.Add(*derivative.lowered).atoms(offset)
    }
    for index in range(len(activation.formulas)):
        centres.update(r for rs in traded_roots(activation, index).values() for r in rs)
    return beside(centres)


def grid(activation: Activation, count: int) -> np.ndarray:
    """float32 points: ±logspace(-30, 4, count), 0, the kinks and the points
    beside the roots of the derivatives, inside the domain."""
    magnitudes = np.logspace(-30, 4, count)
    special = kinks(activation) + roots(activation)
    points = np.concatenate([-magnitudes, [0.0], magnitudes, special]).astype(np.float32)
    low, high = activation.spec.domain
    return np.unique(points[(points >= low) & (points <= high)])


def near(points: np.ndarray, centres: list[float]) -> np.ndarray:
    """Whether each point is within ROOT_REACH of one of ``centres``."""
    mask = np.zeros(points.shape, bool)
    for c in centres:
        mask |= np.abs(points - c) < ROOT_REACH
    return mask
