"""The formula as written, as a plain jax.numpy function with no custom rule.

This is the baseline that tests and benchmarks compare the generated code
with: JAX autodiff of the very same SymPy expression, without stabilising
rewrites, clamped branches or a closed-form derivative.
"""

import functools
import operator
from collections.abc import Callable

import jax
import jax.numpy as jnp
import sympy as sp
from jax import lax
from jax.scipy import special

from codegen.analysis.model import Activation, AxisActivation
from codegen.emit.printer import JnpPrinter
from codegen.numerics.primitives import Where
from codegen.spec.model import Spec

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


def jax_nn_function(spec: Spec) -> Callable | None:
    """jax.nn's counterpart of ``spec``'s function, if jax.nn has one.

    For a gated spec, with arrays besides x, it is ``jax.nn.<jax_nn>(x)``
    times them: ``jax.nn.silu(x) * gate`` for swiglu.
    """
    function = getattr(jax.nn, spec.jax_nn, None) if spec.jax_nn else None
    if function is None or len(spec.inputs) == 1:
        return function

    def gated(x, *gates, **flags):
        return functools.reduce(operator.mul, gates, function(x, **flags))

    return gated


def packed(function: Callable, inputs: int) -> Callable:
    """``function`` of one array split into its ``inputs`` along the last axis,
    as jax.nn.glu splits its input: a gated function as a tool times one array."""
    return lambda h, **flags: function(*jnp.split(h, inputs, axis=-1), **flags)


def forms(activation: Activation) -> list[tuple[str, dict[str, bool]]]:
    """A label and the keyword arguments that select each formula, in order."""
    switch = activation.spec.switch
    if switch is None:
        return [(activation.spec.name, {})]
    flags = [switch.default, not switch.default]
    return [(f"{activation.spec.name}({switch.name}={f})", {switch.name: f}) for f in flags]


def plain_axis_function(activation: AxisActivation) -> Callable:
    """``f(x, *params, axis=..., where=None, keepdims=False)`` as written.

    The reductions are plain jnp.sum and jnp.mean, with no max shift (m = 0)
    and no custom rule, so JAX differentiates the formulas itself.
    """
    spec = activation.spec

    def compile_(expr: sp.Expr) -> Callable:
        symbols = sorted(expr.free_symbols, key=lambda s: s.name)
        function = sp.lambdify(symbols, expr, modules=[_NAMESPACE], printer=JnpPrinter())
        return lambda values: function(*(values[s.name] for s in symbols))

    summands = [compile_(r.summand) for r in activation.reductions]
    formulas = [compile_(r.formula) for r in activation.reductions]
    output = compile_(activation.expr)

    variants = {value: plain_axis_function(a) for value, a in activation.variants}

    def plain(x, *params, axis=spec.axis.default, where=None, keepdims=False, **choice):
        if choice:  # the choice's value picks the variant's formulas, if not the default
            (value,) = choice.values()
            if value in variants:
                return variants[value](x, *params, axis=axis, where=where, keepdims=keepdims)
        values = {"m": 0.0}
        values.update({p.name: p.default for p in spec.params})
        values.update({p.name: value for p, value in zip(spec.params, params, strict=False)})
        parts = jnp.split(x, len(activation.inputs), axis) if spec.axis.split else [x]
        values.update({s.name: part for s, part in zip(activation.inputs, parts, strict=True)})
        for r, summand, formula in zip(activation.reductions, summands, formulas, strict=True):
            reduce = jnp.sum if r.kind == "sum" else jnp.mean
            values[r.inner.name] = reduce(summand(values), axis, keepdims=True, where=where)
            values[r.symbol.name] = formula(values)
        y = output(values)
        if not activation.reduces:  # a formula of the reductions alone, as standardize's
            y = jnp.broadcast_to(y, jnp.broadcast_shapes(*map(jnp.shape, values.values())))
        if spec.axis.masked is not None and where is not None:
            y = jnp.where(where, y, spec.axis.masked)
        if activation.reduces and not keepdims:
            y = jnp.squeeze(y, axis)
        return y

    return plain
