"""An element-wise activation's docstring: its formulas in LaTeX and a worked example."""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from codegen.analysis.model import Activation, Formula
from codegen.emit.environment import ENVIRONMENT, latex_name

EXAMPLE_POINTS = (-2.0, -0.5, 0.0, 0.5, 2.0, 1.0, 4.0)


def docstring(activation: Activation, package: str) -> str:
    """The public function's docstring; its example imports ``package``."""
    template = ENVIRONMENT.get_template("docstring.j2")
    forms, example = _forms(activation), _example(activation)
    return template.render(spec=activation.spec, forms=forms, example=example, package=package)


@dataclass(frozen=True)
class Form:
    intro: str
    formula: str
    derivative: str


@dataclass(frozen=True)
class Example:
    inputs: str
    output: str


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
    names = {s: rf"\mathrm{{{latex_name(s.name)}}}" for s in activation.params if "_" in s.name}
    return [
        Form(
            intro,
            sp.latex(f.source, symbol_names=names),
            sp.latex(f.partials[0], symbol_names=names),
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
    found = {p: _evaluate(activation, formula, p) for p in candidates if low < p < high}
    points = [p for p, v in found.items() if v is not None][:5]  # no pole or complex value
    values = np.array([found[p] for p in points], dtype=np.float32)
    inputs = "[" + ", ".join(repr(p) for p in points) + "]"
    return Example(inputs, np.array2string(values, precision=4, suppress_small=True))


def _evaluate(activation: Activation, formula: Formula, point: float) -> float | None:
    """The formula at ``point``, or None where it is not a finite real number."""
    values = dict(activation.defaults)
    values[activation.x] = sp.Float(point, 30)
    value = formula.expr.subs(values).evalf(30)
    return float(value) if value.is_real and value.is_finite else None
