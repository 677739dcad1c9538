"""The kinds of spec, each with its checks, analysis and emitter, in one
table, so that the pipeline does not branch on the kind.

Element-wise specs (x and any gates, element by element) and axis-wise ones
(reductions along an axis, as softmax's) share this protocol; a new kind is
a new entry.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from codegen.analysis.axiswise import derive_axiswise
from codegen.analysis.derive import check, derive
from codegen.analysis.model import Activation, AxisActivation
from codegen.emit.activation import emit_activation
from codegen.emit.axiswise import emit_axiswise
from codegen.spec.model import Spec

Model = Activation | AxisActivation


@dataclass(frozen=True)
class Kind:
    """What the pipeline does with one kind of spec."""

    name: str
    check: Callable[[Spec], object]  # the cheap checks, before any analysis
    analyse: Callable[[Spec], Model]
    # The module's text, from this kind's own model, the package's name and
    # its other activations.
    emit: Callable[[Any, str, Sequence[Model]], str]


def _no_check(spec: Spec) -> None:
    """Axis-wise formulas are parsed by their analysis, which is quick."""


ELEMENTWISE = Kind("element-wise", check, derive, emit_activation)
AXISWISE = Kind(
    "axis-wise",
    _no_check,
    derive_axiswise,
    lambda activation, package, others: emit_axiswise(activation, package),
)


def kind(spec: Spec) -> Kind:
    """The kind of ``spec``: axis-wise if it names an axis."""
    return AXISWISE if spec.axis else ELEMENTWISE
