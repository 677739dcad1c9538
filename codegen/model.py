"""The analysis model: what a spec says, and what the generator derives."""

from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class Param:
    """A keyword argument of the generated function."""

    name: str
    default: float | int
    doc: str


@dataclass(frozen=True)
class Switch:
    """A boolean keyword argument choosing between two formulas."""

    name: str
    default: bool
    expression: str  # the formula used when the switch is not its default
    doc: str


@dataclass(frozen=True)
class Spec:
    """One validated spec file."""

    path: str  # as written in headers and messages, e.g. "specs/elu.toml"
    name: str
    summary: str
    expression: str
    description: str = ""
    params: tuple[Param, ...] = ()
    switch: Switch | None = None
    aliases: tuple[str, ...] = ()
    jax_nn: str | None = None
    references: tuple[str, ...] = ()
    domain: tuple[float, float] = (float("-inf"), float("inf"))
    closed_form_order: int = 3
    widen: bool = True


@dataclass(frozen=True)
class Derivative:
    """d^k f / dx^k in stable form, and its own partial derivatives.

    ``partials`` follows ``Activation.inputs``: d/dx first, then one per
    parameter.  ``expr`` and ``partials`` are the formulas, with ``Piecewise``;
    ``lowered`` holds what is computed, ``expr`` first: the same expressions
    with Taylor regimes where they cancel, in branch-safe selects.
    """

    order: int
    expr: sp.Expr
    partials: tuple[sp.Expr, ...]
    lowered: tuple[sp.Expr, ...]


@dataclass(frozen=True)
class Formula:
    """A formula as written, and its tower of closed-form derivatives.

    ``tower[k]`` is the k-th derivative in x; each one's JVP calls the next,
    and the last one's JVP is its own partials, which autodiff takes further.
    """

    source: sp.Expr
    tower: tuple[Derivative, ...]

    @property
    def expr(self) -> sp.Expr:
        return self.tower[0].expr

    @property
    def partials(self) -> tuple[sp.Expr, ...]:
        return self.tower[0].partials


@dataclass(frozen=True)
class Activation:
    """A spec together with everything derived from it."""

    spec: Spec
    inputs: tuple[sp.Symbol, ...]  # x, then the parameters in spec order
    formulas: tuple[Formula, ...]  # the default formula, then the switch's

    @property
    def x(self) -> sp.Symbol:
        return self.inputs[0]

    @property
    def params(self) -> tuple[sp.Symbol, ...]:
        return self.inputs[1:]

    @property
    def defaults(self) -> dict[sp.Symbol, float | int]:
        """Each parameter's symbol and its default value."""
        return {s: p.default for s, p in zip(self.params, self.spec.params, strict=True)}
