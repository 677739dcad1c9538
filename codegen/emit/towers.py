"""The names of each formula's kernels, and the towers a gate's partial can
share with another activation of the same package.

swiglu's partial in its gate is silu(x): with silu in the package, swiglu's
rules call silu's kernels instead of repeating their bodies.
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from codegen.analysis.model import Activation, AxisActivation, Formula


@dataclass(frozen=True)
class Link:
    """The kernels of another module that compute a formula and its derivatives."""

    module: str  # such as "_silu"
    names: tuple[str, ...]  # the kernel of order k is names[k]


def bases(activation: Activation) -> list[tuple[bool | None, str]]:
    """Each formula's switch value (None without a switch) and its first kernel's name."""
    spec = activation.spec
    if spec.switch is None:
        return [(None, spec.name)]
    flag, default = spec.switch.name, spec.switch.default
    return [
        (key, f"_{spec.name}_{flag}" if key else f"_{spec.name}_not_{flag}")
        for key in (default, not default)  # the order of the formulas
    ]


def kernel_names(formula: Formula, base: str, x: sp.Symbol) -> list[str]:
    """The kernels emitted for ``formula``: one per derivative, up to the first
    whose derivative in x is constant, or is itself (see ``repeats``).  A
    constant is written in place: as an array from a kernel, it would be one
    more array kept for the backward pass."""
    names = [base]
    for level, (derivative, following) in enumerate(itertools.pairwise(formula.tower)):
        if not derivative.lowered[1].has(x) or repeats(formula, level):
            break
        names.append(f"_{base.lstrip('_')}_d{following.order}")
    return names


def repeats(formula: Formula, level: int) -> bool:
    """Whether the derivative after ``level`` is computed as that one is, as
    elu's third is its second for x < 0: its kernel's rule calls itself."""
    tower = formula.tower
    return level + 1 < len(tower) and tower[level + 1].lowered == tower[level].lowered


def links(
    activation: Activation, package: Sequence[Activation | AxisActivation]
) -> dict[sp.Expr, Link]:
    """For each gate partial of ``activation`` that another activation of
    ``package`` computes (the same formula, no parameters), that one's kernels."""
    wanted = {gate.source for formula in activation.formulas for gate in formula.gates}
    found = {}
    for other in package:
        if not isinstance(other, Activation) or other.spec.params or other is activation:
            continue
        if other.widens != activation.widens and not other.rounds_nowhere:
            continue  # the kernels would round differently
        for (_, base), formula in zip(bases(other), other.formulas, strict=True):
            if formula.source in wanted:
                names = kernel_names(formula, base, other.x)
                found[formula.source] = Link(f"_{other.spec.name}", tuple(names))
    return found
