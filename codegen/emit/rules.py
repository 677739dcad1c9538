"""A kernel's JVP rule, written as jax.nn writes relu's: ``defjvps`` of one
rule per input, each the tangent times that input's partial."""

from dataclasses import dataclass

import sympy as sp

from codegen.analysis.model import Activation
from codegen.analysis.residual import Y
from codegen.emit.backend import JaxBackend


@dataclass(frozen=True)
class FromOutput:
    """dy/dx computed from y, whose own derivative is the next kernel's."""

    name: str
    docstring: str
    code: str  # in y and the inputs
    following: str  # the kernel of the second derivative


def rule(
    backend: JaxBackend, activation: Activation, code: str | None, partial: sp.Expr
) -> str | None:
    """One input's rule for ``defjvps``, in the tangent, the output and the
    primals; None for a zero partial of several inputs."""
    g, ans = rule_names(activation)
    if code is None:  # the partial is a number
        if partial == 0 and len(activation.inputs) > 1:
            return None
        if partial == 0:
            return f"lambda {g}, {ans}, x: {backend.name('jnp.zeros_like')}({g})"
        code = backend.factor(partial)
    product = g if code == "1" else f"{code} * {g}"
    return f"lambda {g}, {ans}, {argument_list(activation.inputs)}: {product}"


def rule_names(activation: Activation) -> tuple[str, str]:
    """The names of a rule's tangent and output: g and ans, as in JAX's
    documentation, unless an input or parameter has that name."""
    taken = {s.name for s in activation.inputs}
    return ("g" if "g" not in taken else "g_dot"), ("ans" if "ans" not in taken else "y")


def output_partial(
    backend: JaxBackend, activation: Activation, output: sp.Expr, name: str, following: str | None
):
    """The x partial's code from y, as a rule names it: inline if the
    derivative is piecewise constant (no next kernel), else a call to a helper
    whose own derivative is the next kernel's."""
    ans = rule_names(activation)[1]
    if following is None:
        return backend.factor(output.xreplace({Y: sp.Symbol(ans, real=True)})), None
    helper = f"_{name.lstrip('_')}_d1_from_output"
    doc = f"The derivative of :func:`{name}` from its output y, which a network keeps."
    code = f"{helper}({ans}, {argument_list(activation.inputs)})"
    return code, FromOutput(helper, doc, backend.expression(output), following)


def argument_list(inputs) -> str:
    return ", ".join(s.name for s in inputs)
