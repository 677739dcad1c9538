"""The analysis model: what a spec says, and what the generator derives."""

from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class Param:
    """A keyword argument of the generated function."""

    name: str
    default: float | int
    doc: str
    optional: bool = False  # axis-wise specs: None in the signature stands for the default
    learnable: bool = False  # a parameter of the generated Flax modules


@dataclass(frozen=True)
class Switch:
    """A boolean keyword argument choosing between two formulas."""

    name: str
    default: bool
    expression: str  # the formula used when the switch is not its default
    doc: str


@dataclass(frozen=True)
class Choice:
    """A keyword-only string argument choosing other formulas for reductions.

    jax.nn's ``standardize(..., algorithm="stable")`` computes the variance
    in two passes; ``default`` names the formulas of ``[axis.reductions]``.
    """

    name: str
    default: str
    doc: str
    variants: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # value, replacements


@dataclass(frozen=True)
class Axis:
    """What an axis-wise spec reduces or splits along its axis."""

    default: int | tuple[int, ...] | None  # jax.nn's default axis; None for all axes
    reductions: tuple[tuple[str, str], ...] = ()  # name and formula, in order
    split: tuple[str, ...] = ()  # the parts x is split into, if any
    masked: float | None = None  # the output where ``where`` is False; None computes it
    input: str = "x"  # the name of the array argument
    overrides: tuple[tuple[str, str], ...] = ()  # reduction and the argument replacing it
    arguments: tuple[str, ...] = ()  # the keyword arguments, in signature order
    sign: str | None = None  # a reduction whose sign return_sign=True returns too
    choice: Choice | None = None


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
    axis: Axis | None = None  # set for softmax-like specs, which reduce along an axis
    module: str = ""  # the Flax module's name, for specs with learnable parameters
    domain_inferred: bool = False  # the domain is where the formula is real, not the spec's


@dataclass(frozen=True)
class Derivative:
    """d^k f / dx^k in stable form, and its own partial derivatives.

    ``partials`` follows ``Activation.inputs``: d/dx first, then one per
    parameter.  ``expr`` and ``partials`` are the formulas, with ``Piecewise``;
    ``lowered`` holds what is computed, ``expr`` first: the same expressions
    with Taylor and tail regimes, in selects.  The partials' selects are
    branch-safe, since JAX differentiates them; ``expr``'s, the kernel's own
    body, which JAX never differentiates, are not.
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


@dataclass(frozen=True)
class Reduction:
    """A named value reduced along the axis: ``formula`` of ``inner``.

    ``inner`` is ``kind`` ("sum" or "mean") of ``summand`` over the axis;
    ``formula`` may also use earlier reductions and the parameters.
    """

    symbol: sp.Symbol
    kind: str
    inner: sp.Symbol
    summand: sp.Expr
    formula: sp.Expr
    override: str | None  # the argument that can supply this value instead
    tangent: sp.Expr  # d(symbol), in the inputs' and earlier reductions' tangents


@dataclass(frozen=True)
class AxisActivation:
    """An axis-wise spec and its derived closed-form JVP.

    The inputs are x, or the parts it is split into.  With ``shifted``, each
    is the input minus its maximum along the axis (the symbol ``m``), which
    the formulas were rewritten for.  ``tangent`` is dy in the inputs'
    tangents and the reductions' (``<name>_dot``); where the formula could
    be solved for the input it uses ``y`` instead, so that y is the one
    array the backward pass keeps.
    """

    spec: Spec
    inputs: tuple[sp.Symbol, ...]
    params: tuple[sp.Symbol, ...]
    reductions: tuple[Reduction, ...]
    shifted: bool
    expr: sp.Expr
    tangent: sp.Expr
    variants: tuple[tuple[str, "AxisActivation"], ...] = ()  # by the choice's value

    @property
    def reduces(self) -> bool:
        """Whether the output is reduced along the axis (logsumexp), not elementwise."""
        return not self.expr.has(*self.inputs)
