"""An axis-wise activation's docstring: its formulas in LaTeX, what it
returns and a worked example."""

import numpy as np
import sympy as sp

from codegen.analysis.model import AxisActivation
from codegen.emit.environment import latex_name
from codegen.numerics.evaluate import NUMPY_FUNCTIONS

EXAMPLE_INPUT = (0.5, 2.0, -1.0, 4.0)


def returns(activation: AxisActivation) -> str:
    axis = activation.axis
    if activation.reduces:
        return "An array reduced along the axis, unless ``keepdims``."
    if axis.split:
        return f"An array {len(axis.split)} times smaller than ``{axis.input}`` along the axis."
    return f"An array of the same shape as ``{axis.input}``."


def latex(activation: AxisActivation) -> list[str]:
    """The formula, then each reduction, as LaTeX."""
    spec = activation.spec
    args = ", ".join(s.name for s in activation.inputs)
    name = latex_name(spec.name)
    lines = [rf"\mathrm{{{name}}}({args}) = {sp.latex(activation.expr)}"]
    if activation.shifted:
        lines.append(r"m = \max x \text{ (held constant)}")
    for r in activation.reductions:
        total = r"\sum" if r.kind == "sum" else r"\frac{1}{n} \sum"
        inner = sp.Symbol(rf"{total} {sp.latex(r.summand)}")
        lines.append(rf"{sp.latex(r.symbol)} = {sp.latex(r.formula.xreplace({r.inner: inner}))}")
    return lines


def example(activation: AxisActivation) -> str:
    """The output at EXAMPLE_INPUT, along the last axis, printed to 4 decimals."""
    x = np.array(EXAMPLE_INPUT)
    values = {p.name: p.default for p in activation.spec.params}
    parts = np.split(x, len(activation.inputs))
    values.update({s.name: part for s, part in zip(activation.inputs, parts, strict=True)})
    if activation.shifted:
        values["m"] = x.max()
        values["x"] = x - x.max()
    for r in activation.reductions:
        reduce = np.sum if r.kind == "sum" else np.mean
        values[r.inner.name] = reduce(_numpy(r.summand, values))
        values[r.symbol.name] = _numpy(r.formula, values)
    y = np.asarray(_numpy(activation.expr, values), np.float32)
    if activation.reduces:
        return f"{float(y):.4f}"
    return np.array2string(y, precision=4, suppress_small=True)


def _numpy(expr: sp.Expr, values: dict):
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    function = sp.lambdify(symbols, expr, modules=[NUMPY_FUNCTIONS, "numpy"])
    return function(*(values[s.name] for s in symbols))
