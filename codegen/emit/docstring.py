"""An element-wise activation's docstring: its formulas in LaTeX and a worked example."""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from codegen.analysis.model import Activation, Formula
from codegen.emit.environment import ENVIRONMENT, latex_name

EXAMPLE_POINTS = (-2.0, -0.5, 0.0, 0.5, 2.0, 1.0, 4.0)
# A second array input's example values, one per point: both signs, and 0.
GATE_POINTS = (1.0, -1.0, 2.0, 0.5, -0.5, 1.0, 1.0)


def docstring(activation: Activation, package: str) -> str:
    """The public function's docstring; its example imports ``package``."""
    template = ENVIRONMENT.get_template("docstring.j2")
    forms, example = _forms(activation), _example(activation)
    return template.render(
        spec=activation.spec, forms=forms, example=example, package=package, call=_call(activation)
    )


@dataclass(frozen=True)
class Form:
    intro: str
    formula: str
    derivatives: tuple[tuple[str, str], ...]  # the operator and the formula, per array input


@dataclass(frozen=True)
class Example:
    inputs: tuple[tuple[str, str], ...]  # each array input's name and values
    output: str


def _names(activation: Activation) -> dict[sp.Symbol, str]:
    """LaTeX for the symbols whose names SymPy would print as subscripts or italics."""
    return {s: rf"\mathrm{{{latex_name(s.name)}}}" for s in activation.params if "_" in s.name}


def _call(activation: Activation) -> str:
    """The function applied to its array inputs, in LaTeX."""
    names = _names(activation)
    arrays = [names.get(s, s.name) for s in [activation.x, *activation.gates]]
    return rf"\mathrm{{{latex_name(activation.spec.name)}}}({', '.join(arrays)})"


def _forms(activation: Activation) -> list[Form]:
    spec = activation.spec
    if spec.switch is None:
        intros = ["Computes the element-wise function"]
    else:
        flag, default = spec.switch.name, spec.switch.default
        intros = [
            f"With ``{flag}={value}`` it computes the element-wise function"
            for value in (default, not default)
        ]
    names, arrays = _names(activation), [activation.x, *activation.gates]
    if len(arrays) == 1:
        operators = [r"\frac{d}{dx}"]
    else:
        operators = [rf"\frac{{\partial}}{{\partial {names.get(s, s.name)}}}" for s in arrays]
    return [
        Form(
            intro,
            sp.latex(f.source, symbol_names=names),
            tuple(
                (operator, sp.latex(f.partials[activation.inputs.index(s)], symbol_names=names))
                for operator, s in zip(operators, arrays, strict=True)
            ),
        )
        for intro, f in zip(intros, activation.formulas, strict=True)
    ]


def _example(activation: Activation) -> Example:
    """Inputs, and the correctly rounded outputs printed to 4 decimals.

    Printed to 4 decimals, because the float32 result may differ from the
    correctly rounded value in its last bit; to 4 decimals both print alike.
    """
    formula = activation.formulas[0]
    low, high = activation.spec.domain
    offsets = [p - min(EXAMPLE_POINTS) for p in EXAMPLE_POINTS]  # for a domain far from 0
    candidates = [p for p in EXAMPLE_POINTS if low < p < high] or [low + d for d in offsets]
    gates = list(activation.gates)
    found = {}
    for p, gate in zip(candidates, GATE_POINTS, strict=False):
        values = {activation.x: p, **{s: gate for s in gates}}
        found[p] = (gate, _evaluate(activation, formula, values))
    points = [p for p, (_, v) in found.items() if v is not None][:5]  # no pole or complex value
    outputs = np.array([found[p][1] for p in points], dtype=np.float32)
    inputs = [("x", _list(points))] + [
        (s.name, _list([found[p][0] for p in points])) for s in gates
    ]
    return Example(tuple(inputs), np.array2string(outputs, precision=4, suppress_small=True))


def _list(values: list[float]) -> str:
    return "[" + ", ".join(repr(v) for v in values) + "]"


def _evaluate(activation: Activation, formula: Formula, inputs: dict) -> float | None:
    """The formula at ``inputs``, or None where it is not a finite real number."""
    values = dict(activation.defaults)
    values.update({s: sp.Float(v, 30) for s, v in inputs.items()})
    value = formula.expr.subs(values).evalf(30)
    return float(value) if value.is_real and value.is_finite else None
