"""``show`` and ``list``: one activation's formulas, and the catalogue, as text."""

import sympy as sp

from codegen.analysis.axiswise import dot
from codegen.analysis.model import Activation, AxisActivation
from codegen.spec.model import Spec


def show(activation: Activation | AxisActivation, path: str, source: str) -> str:
    """The formula, its derivatives, the stable forms chosen, then the code."""
    spec = activation.spec
    lines = [f"{spec.name}: {spec.summary}", f"spec: {spec.path}", ""]
    if isinstance(activation, Activation):
        lines += _elementwise(activation)
    else:
        lines += _axiswise(activation)
    return "\n".join([*lines, "", f"generated: {path}", "", source.rstrip(), ""])


def _elementwise(activation: Activation) -> list[str]:
    spec = activation.spec
    x = activation.x
    lines = []
    for index, formula in enumerate(activation.formulas):
        if spec.switch is not None:
            flag = spec.switch.default if index == 0 else not spec.switch.default
            lines += [f"with {spec.switch.name}={flag}:"]
        lines.append(f"  {'f(x)':8} = {formula.source}")
        for derivative in formula.tower[1:]:
            k = derivative.order
            exact = sp.simplify(sp.diff(formula.source, x, k))
            lines.append(f"  {f'f{_primes(k)}(x)':8} = {exact}")
        lines.append("  stable forms, as generated:")
        for derivative in formula.tower:
            lines.append(f"    f{_primes(derivative.order)}: {derivative.expr}")
        for symbol, partial in zip(activation.params, formula.tower[0].partials[1:], strict=True):
            lines.append(f"    df/d{symbol}: {partial}")
        for second in formula.seconds:
            p, q = (activation.inputs[i] for i in (second.first, second.second))
            wrt = f"d{p}**2" if p == q else f"d{p} d{q}"
            lines.append(f"    d2f/{wrt}: {second.expr}")
    return lines


def _axiswise(activation: AxisActivation) -> list[str]:
    lines = [f"  y = {activation.expr}"]
    if activation.shifted:
        lines.append("  with x shifted by m = max(x), held constant")
    for r in activation.reductions:
        kind = "sum" if r.kind == "sum" else "mean"
        inner = sp.Symbol(f"{kind}({r.summand})")
        lines.append(f"  {r.symbol} = {r.formula.xreplace({r.inner: inner})}")
    lines.append(f"  {dot(sp.Symbol('y')).name} = {activation.tangent}")
    return lines


def _primes(order: int) -> str:
    return "'" * order if order <= 3 else f"^({order})"


def listing(specs: list[Spec], jax_nn: set[str]) -> str:
    """A table: name, parameters, the jax.nn function it matches, formula."""
    header = ("name", "parameters", "jax.nn", "formula")  # the arrays are in the formula
    rows = [header]
    for spec in specs:
        params = ", ".join(f"{p.name}={p.default:g}" for p in spec.keywords) or "-"
        matched = f"jax.nn.{spec.jax_nn}" if spec.jax_nn in jax_nn else "-"
        if len(spec.inputs) > 1 and matched != "-":  # gated: jax.nn's function times the gates
            matched = " * ".join([f"{matched}(x)", *spec.inputs[1:]])
        rows.append((spec.name, params, matched, " ".join(spec.expression.split())))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )
