"""Plots: each activation with its first two derivatives, a gallery, and
the benchmark's time ratios.

Values come from the stable forms of the analysis, evaluated by NumPy in
float64, so plotting needs neither JAX nor generated/.  matplotlib is the
``plot`` extra; without it nothing is drawn.
"""

import math
from pathlib import Path

import numpy as np
import sympy as sp

from codegen.analysis.model import Activation
from codegen.numerics.evaluate import NUMPY_FUNCTIONS

_WIDTH = 4.0  # x runs over [-4, 4], within the spec's domain
_COLOURS = ("C0", "C1", "C2")


def write_plots(folder: Path, activations) -> list[Path]:
    """plots/NAME.png for each elementwise activation, and gallery.png."""
    plt = _pyplot()
    if plt is None:
        return []
    elementwise = [a for a in activations if isinstance(a, Activation)]
    (folder / "plots").mkdir(parents=True, exist_ok=True)
    written = []
    for activation in elementwise:
        figure, axes = plt.subplots(figsize=(4.5, 3))
        _draw(axes, activation, legend=True)
        written.append(_save(plt, figure, folder / "plots" / f"{activation.spec.name}.png"))
    columns = 5
    rows = math.ceil(len(elementwise) / columns)
    figure, grid = plt.subplots(rows, columns, figsize=(3 * columns, 2.3 * rows), squeeze=False)
    for axes, activation in zip(grid.flat, elementwise, strict=False):
        _draw(axes, activation, legend=False)
    for axes in list(grid.flat)[len(elementwise) :]:
        axes.axis("off")
    written.append(_save(plt, figure, folder / "gallery.png"))
    return written


def write_ratios(rows, path: Path) -> bool:
    """The benchmark's bars: each activation's grad time ratios at the
    largest size.  False without matplotlib."""
    plt = _pyplot()
    if plt is None:
        return False
    largest = max(r.size for r in rows)
    rows = [r for r in rows if r.size == largest]
    figure, axes = plt.subplots(figsize=(7, 0.28 * len(rows) + 1.2))
    positions = np.arange(len(rows))
    for shift, baseline in ((-0.2, "jax.nn"), (0.2, "autodiff")):
        values = [r.backward.get(baseline, np.nan) for r in rows]
        axes.barh(positions + shift, values, height=0.4, label=f"vs {baseline}")
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.axvline(1.25, color="grey", linewidth=0.8, linestyle="--")
    axes.set_yticks(positions, [r.name for r in rows])
    axes.invert_yaxis()
    axes.set_xlabel(f"grad time, generated / baseline ({largest} float32 elements)")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    _save(plt, figure, path)
    return True


def curves(activation: Activation) -> tuple[np.ndarray, list[np.ndarray]]:
    """x, and f, f', f'' of the default formula at the parameters' defaults."""
    low, high = activation.spec.domain
    x = np.linspace(max(low, -_WIDTH), min(high, _WIDTH), 401)
    values = []
    for derivative in activation.formulas[0].tower[:3]:
        expr = derivative.expr.subs(activation.defaults)
        function = sp.lambdify(activation.x, expr, modules=[NUMPY_FUNCTIONS, "numpy"])
        with np.errstate(all="ignore"):
            values.append(np.broadcast_to(np.asarray(function(x), float), x.shape))
    return x, values


def _draw(axes, activation: Activation, legend: bool) -> None:
    x, values = curves(activation)
    for k, (y, colour) in enumerate(zip(values, _COLOURS, strict=False)):
        label = f"f{chr(39) * k}" if k else "f"
        axes.plot(x, np.where(np.isfinite(y), y, np.nan), colour, label=label, linewidth=1.4)
    finite = np.concatenate([y[np.isfinite(y)] for y in values])
    low, high = np.percentile(finite, [2, 98])  # a pole's spike would flatten the rest
    margin = 0.1 * (high - low) or 1.0
    axes.set_ylim(low - margin, high + margin)
    axes.axhline(0, color="grey", linewidth=0.5)
    axes.axvline(0, color="grey", linewidth=0.5)
    axes.set_title(_title(activation), fontsize=10)
    if legend:
        axes.legend(fontsize=8)


def _title(activation: Activation) -> str:
    """The name; a gated function's says the gates are 1, as plotted."""
    gates = activation.spec.inputs[1:]
    return activation.spec.name + (
        f"({', '.join(['x', *(f'{g}=1' for g in gates)])})" * bool(gates)
    )


def _pyplot():
    """matplotlib.pyplot, drawing to files, or None if it is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _save(plt, figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(figure)
    return path
