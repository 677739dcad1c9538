"""What a spec says: the validated contents of one spec file."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    """A keyword argument of the generated function."""

    name: str
    default: float | int
    doc: str
    optional: bool = False  # axis-wise specs: None in the signature stands for the default
    learnable: bool = False  # a parameter of the generated Flax modules
    # An array input after x (a gate): positional and required in the
    # signature; ``default`` is only the value the analysis samples it at.
    input: bool = False


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


# Derivatives that are custom_jvp functions; the next is a closed form too.
# With 2, jax.grad three deep is closed form.  Each order more took a long
# formula three times as long to build or more, and half the drawn formulas
# refused for time had stopped in the fourth derivative.
CLOSED_FORM_ORDER = 2


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
    closed_form_order: int = CLOSED_FORM_ORDER
    widen: bool = True
    residual: str = "auto"  # what the backward pass keeps: auto, output or derivative
    accuracy: str = "standard"  # "strict" adds the polynomials about roots to the gradient
    axis: Axis | None = None  # set for softmax-like specs, which reduce along an axis
    module: str = ""  # the Flax module's name, for specs with learnable parameters
    domain_inferred: bool = False  # the domain is where the formula is real, not the spec's

    @property
    def inputs(self) -> tuple[str, ...]:
        """The array arguments, x first: a gated activation has more than one."""
        return ("x", *(p.name for p in self.params if p.input))

    @property
    def keywords(self) -> tuple[Param, ...]:
        """The parameters proper: keyword arguments with a default."""
        return tuple(p for p in self.params if not p.input)
