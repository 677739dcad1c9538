"""The formula as written, as a plain jax.numpy function with no custom rule.

This is the baseline that tests and benchmarks compare the generated code
with: JAX autodiff of the very same SymPy expression, without stabilising
rewrites, clamped branches or a closed-form derivative.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import sympy as sp
from jax import lax
from jax.scipy import special

from codegen.model import Activation
from codegen.primitives import Where
from codegen.printer import JnpPrinter

_NAMESPACE = {"jnp": jnp, "lax": lax, "special": special}


def _naive_select(*pairs) -> sp.Expr:
    """Piecewise as plain nested selects, without clamping any branch."""
    result = sp.nan
    for branch, condition in reversed(pairs):
        result = branch if condition == sp.true else Where(condition, branch, result)
    return result


def plain_function(activation: Activation, formula: int = 0) -> Callable:
    """``f(x, *params)`` evaluating formula number ``formula`` as written.

    Parameters not passed take their spec defaults.
    """
    source = activation.formulas[formula].source
    naive = source.replace(sp.Piecewise, _naive_select)
    function = jax.jit(
        sp.lambdify(activation.inputs, naive, modules=[_NAMESPACE], printer=JnpPrinter())
    )
    defaults = [p.default for p in activation.spec.params]

    def plain(x, *params):
        return function(x, *params, *defaults[len(params) :])

    return plain


def forms(activation: Activation) -> list[tuple[str, dict[str, bool]]]:
    """A label and the keyword arguments that select each formula, in order."""
    switch = activation.spec.switch
    if switch is None:
        return [(activation.spec.name, {})]
    flags = [switch.default, not switch.default]
    return [(f"{activation.spec.name}({switch.name}={f})", {switch.name: f}) for f in flags]
