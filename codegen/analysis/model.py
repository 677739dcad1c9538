"""The analysis model: what the generator derives from a spec."""

import dataclasses
import math
from dataclasses import dataclass

import sympy as sp

from codegen.numerics.evaluate import parameter_samples
from codegen.numerics.exact import rounds_nowhere
from codegen.spec.model import Axis, Spec


@dataclass(frozen=True)
class Context:
    """What the analysis of a formula reads beside it, as one hashable value:
    the input x, each parameter's default in spec order, the domain to
    sample, and whether Taylor polynomials about roots serve every order
    (the spec's ``accuracy``).  lower, with_series and tails still take
    these as arguments."""

    x: sp.Symbol
    defaults: tuple[tuple[sp.Symbol, float | int], ...] = ()
    domain: tuple[float, float] = (-math.inf, math.inf)
    strict: bool = False

    @property
    def values(self) -> dict[sp.Symbol, float | int]:
        """The defaults as a mapping, for ``subs``."""
        return dict(self.defaults)

    @property
    def samples(self) -> tuple[tuple, ...]:
        """The defaults and scaled copies of them, where regimes are checked."""
        return parameter_samples(self.values)

    def within(self, domain: tuple[float, float]) -> "Context":
        """The same context on a part of the domain, such as a branch's."""
        return dataclasses.replace(self, domain=domain)


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
class SecondPartial:
    """d^2 f / dp dq for parameters p and q (``inputs`` indices, p <= q), in
    stable form and lowered with branch-safe selects, as a partial is: JAX
    differentiates it at the third order."""

    first: int
    second: int
    expr: sp.Expr
    lowered: sp.Expr


@dataclass(frozen=True)
class Formula:
    """A formula as written, and its tower of closed-form derivatives.

    ``tower[k]`` is the k-th derivative in x; each one's JVP calls the next,
    and the last one's JVP is its own partials, which autodiff takes further.
    With ``output``, the first JVP rule computes dy/dx from y instead.
    """

    source: sp.Expr
    tower: tuple[Derivative, ...]
    output: sp.Expr | None = None  # dy/dx in y (residual.Y), for the first JVP rule
    # Each gate's partial, with its own tower in x: the JVP rules of
    # ``tower[k]`` call ``gates[i].tower[k]`` for gate i's partial.
    gates: tuple["Formula", ...] = ()
    # The second partials in the parameters: the rules of d f / dp in them.
    seconds: tuple[SecondPartial, ...] = ()

    @property
    def expr(self) -> sp.Expr:
        return self.tower[0].expr

    @property
    def partials(self) -> tuple[sp.Expr, ...]:
        return self.tower[0].partials

    @property
    def rounds_nowhere(self) -> bool:
        """Whether every kernel of it and of its gates is exact in every float type."""
        computed = [e for d in self.tower for e in d.lowered]
        computed += [] if self.output is None else [self.output]
        computed += [s.lowered for s in self.seconds]
        return all(map(rounds_nowhere, computed)) and all(g.rounds_nowhere for g in self.gates)


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
    def gates(self) -> tuple[sp.Symbol, ...]:
        """The array inputs after x, such as swiglu's gate."""
        params = zip(self.params, self.spec.params, strict=True)
        return tuple(symbol for symbol, p in params if p.input)

    @property
    def defaults(self) -> dict[sp.Symbol, float | int]:
        """Each parameter's symbol and its default value."""
        return {s: p.default for s, p in zip(self.params, self.spec.params, strict=True)}

    @property
    def rounds_nowhere(self) -> bool:
        """Whether every kernel is exact in every float type, as relu's are."""
        return all(f.rounds_nowhere for f in self.formulas)

    @property
    def widens(self) -> bool:
        """Whether bfloat16 and float16 are computed in float32: as the spec
        says, unless no kernel rounds anywhere, when widening would change
        no bit and cost a float32 copy."""
        return self.spec.widen and not self.rounds_nowhere

    @property
    def context(self) -> Context:
        strict = self.spec.accuracy == "strict"
        return Context(self.x, tuple(self.defaults.items()), self.spec.domain, strict)


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
    def axis(self) -> Axis:
        """The spec's [axis] table, which every axis-wise spec has."""
        assert self.spec.axis is not None
        return self.spec.axis

    @property
    def reduces(self) -> bool:
        """Whether the output is reduced along the axis (logsumexp), not elementwise."""
        return not self.expr.has(*self.inputs)
