"""Helpers shared by the generated functions and their custom_jvp rules."""

import functools
import inspect
import operator

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax
from jax.custom_derivatives import SymbolicZero

_NARROW = (jnp.dtype(jnp.bfloat16), jnp.dtype(jnp.float16))


def widen(*inputs):
    """The inputs to compute with, as arrays, then the dtype of the result.

    A JVP rule is not jitted, so its primals can be Python floats: as arrays
    (weakly typed, like the floats) they divide by 0 and have a dtype.

    bfloat16 and float16 are computed in float32 and rounded once at the end,
    so that a narrow result is within half an ulp of the float32 one.  They
    are widened behind an optimization barrier: without it XLA folds the
    widening into the matmul before, which then writes float32 where it
    wrote bfloat16 (an 8-layer bfloat16 MLP of sigmoid planned 70 MiB, with
    the barrier 58, and its training step took 0.91 of the time).
    """
    dtype = jnp.result_type(*inputs)
    if dtype in _NARROW:
        inputs = lax.optimization_barrier(tuple(map(jnp.asarray, inputs)))
        return (*(value.astype(jnp.float32) for value in inputs), dtype)
    return (*map(jnp.asarray, inputs), dtype)


def apart(*inputs):
    """The inputs behind an optimization barrier, for a derivative kernel.

    A JVP rule's kernel runs in the forward pass, beside the function.
    Without the barrier XLA merges what both compute (squareplus's
    sqrt(b + x**2)) and keeps that as one more array rather than compute it
    twice: 8 layers of squareplus planned 368 MiB, where apart they plan 112.
    """
    return lax.optimization_barrier(inputs)


def native(*inputs):
    """The inputs as arrays, then the dtype of the result: no widening."""
    return (*map(jnp.asarray, inputs), jnp.result_type(*inputs))


def narrow(value: Array, dtype) -> Array:
    """``value`` rounded to ``dtype`` if that is bfloat16 or float16.

    Other dtypes are left as computed, so that integer inputs give what
    jax.nn gives: integers for relu, floats for gelu.
    """
    return value.astype(dtype) if dtype in _NARROW else value


def cast(value: Array, dtype, *inputs) -> Array:
    """``value`` with ``dtype`` and the inputs' broadcast shape.

    A derivative has the type and shape of its input even where it is a
    constant, such as identity's 1 or relu's 0 and 1.
    """
    shape = jnp.broadcast_shapes(*(jnp.shape(value) for value in inputs))
    return jnp.broadcast_to(jnp.asarray(value, dtype), shape)


def horner(x: Array, coefficients: tuple[float, ...], float32_terms: int | None = None) -> Array:
    """The polynomial with ``coefficients``, constant term first, at ``x``.

    float32 needs only the first ``float32_terms``; float64 needs them all.
    Python floats are weakly typed, so the result keeps ``x``'s dtype.

    Only |x| <= 1 is evaluated, and x is 0 elsewhere: a Taylor regime reaches
    less far, and past it x**n overflows, which the select that drops the
    polynomial hides from the value but not from autodiff (0 * inf is NaN).
    """
    x = jnp.where(jnp.abs(x) <= 1, x, 0)
    if float32_terms is not None and jnp.result_type(x) == jnp.float32:
        coefficients = coefficients[:float32_terms]
    result: Array | float = coefficients[-1]
    for coefficient in reversed(coefficients[:-1]):
        result = result * x + coefficient
    return jnp.asarray(result)


def shifted(x: Array, axis, where, guarded: bool = True) -> tuple[Array, Array]:
    """``x`` minus its largest entry along ``axis``, and that entry, held constant.

    Masked entries become 0, so they stay finite.  Where ``guarded``, a row
    with no finite largest entry (all masked, empty, or all -inf) is shifted
    by 0, as jax.nn's logsumexp does: logsumexp adds the shift back.  Without
    the guard, softmax's and log_softmax's rows of -inf are NaN as with it,
    and XLA's CPU fuses the max into the exponential: log_softmax's gradient
    took 0.73 to 0.79 of the time, and softmax's moved 40 bytes an element
    to 44 and took 0.95 to 1.06 of jax.nn's time, to 1.01 to 1.25.
    """
    m = jnp.max(x, axis, keepdims=True, where=where, initial=-jnp.inf)
    m = lax.stop_gradient(jnp.where(jnp.isfinite(m), m, 0) if guarded else m)
    x = x - m
    return (x if where is None else jnp.where(where, x, 0)), m


def masked(y: Array, where, fill: float) -> Array:
    """``y`` where ``where`` holds, ``fill`` elsewhere."""
    return y if where is None else jnp.where(where, y, fill)


def zeroed(tangent: Array, where) -> Array:
    """``tangent`` where ``where`` holds, 0 elsewhere.

    The zeros are ``tangent * 0``, linear in the tangent: zeros made from
    ``where`` alone would be an array kept for the backward pass.
    """
    return tangent if where is None else jnp.where(where, tangent, tangent * 0)


def axis_sum(tangent: Array, axis, where) -> Array:
    """The sum of ``tangent`` along ``axis`` where ``where`` holds, keeping dimensions."""
    return jnp.sum(zeroed(tangent, where), axis, keepdims=True)


def axis_mean(tangent: Array, axis, where) -> Array:
    """The mean of ``tangent`` along ``axis`` where ``where`` holds, keeping dimensions."""
    if where is None:
        return jnp.mean(tangent, axis, keepdims=True)
    count = jnp.sum(jnp.broadcast_to(where, tangent.shape), axis, keepdims=True)
    return axis_sum(tangent, axis, where) / count


def reduced(y: Array, axis, keepdims: bool) -> Array:
    """``y``, computed with the reduced axes kept, without them unless ``keepdims``."""
    if keepdims:
        return y
    axes = range(y.ndim) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    return jnp.squeeze(y, tuple(a % y.ndim for a in axes)) if y.ndim else y


def defjvps_lazy(function, *jvps) -> None:
    """``function.defjvps(*jvps)``, except that an input not differentiated costs nothing.

    As for ``defjvps``, ``jvps`` holds one rule per input, ``jvp(g, ans,
    *primals)``, or None where that partial is 0.  Unlike ``defjvps``, the rule
    of an input whose tangent is a symbolic zero, such as a parameter held
    fixed, is not run.
    """

    def rule(primals, tangents):
        ans = function(*primals)
        if not jnp.issubdtype(jnp.result_type(ans), jnp.inexact):
            # A parameter's partial at integer x, as leaky_relu's is x: no tangent.
            return ans, np.zeros(jnp.shape(ans), jax.dtypes.float0)
        terms = [
            jvp(tangent, ans, *primals)
            for jvp, tangent in zip(jvps, tangents, strict=True)
            if jvp is not None and not is_zero(tangent)
        ]
        return ans, sum_tangents(ans, terms)

    function.defjvp(rule, symbolic_zeros=True)


def through(function, index: int):
    """The ``defjvps`` rule of input ``index`` of the custom_jvp ``function``
    where it has no closed form: forward-mode autodiff of its own body.

    A parameter's partial derivative takes its derivative in x from the next
    derivative's partial (the two commute), and this rule in the parameters.
    """
    return _rule(function.fun, index)


def forward_autodiff(function):
    """``function``, whose derivatives are forward-mode autodiff of its body.

    For the last closed-form kernel of each tower.  Reverse-mode autodiff of
    a select sends a zero cotangent into the branch not taken, and 0 * inf is
    NaN where that branch overflows; here each partial is computed forward,
    with a unit tangent, as an array that multiplies the cotangent.  The
    functions are element-wise, so that array is the whole Jacobian.
    """
    differentiable = jax.custom_jvp(function)
    count = len(inspect.signature(function).parameters)
    defjvps_lazy(differentiable, *(_rule(function, i) for i in range(count)))
    return differentiable


def _rule(function, index: int):
    def rule(g, ans, *primals):
        return _partial(function, index)(*primals) * g

    return rule


@functools.cache
def _partial(function, index: int):
    """The partial of ``function`` in input ``index``, itself differentiated forward."""

    def partial(*primals):
        def along(value):
            return function(*primals[:index], value, *primals[index + 1 :])

        value = jnp.asarray(primals[index])
        if not jnp.issubdtype(value.dtype, jnp.inexact):  # an integer x: its real extension
            value = value.astype(jnp.result_type(float))
        return jax.jvp(along, (value,), (jnp.ones_like(value),))[1]

    functools.update_wrapper(partial, function)
    return forward_autodiff(partial)


def is_zero(tangent) -> bool:
    """Whether ``tangent`` is a symbolic zero: its input is not differentiated."""
    return isinstance(tangent, SymbolicZero)


def sum_tangents(primal_out: Array, terms: list[Array]) -> Array:
    """The sum of ``terms``, with the shape and dtype of ``primal_out``; 0 without terms.

    A term can be smaller than the output (a scalar parameter's partial that
    does not depend on ``x``) or of a wider type (an array parameter, or a
    float32 partial of a bfloat16 input), so the sum is broadcast and cast.
    """
    if not terms:
        return jnp.zeros_like(primal_out)
    total = functools.reduce(operator.add, terms)
    return jnp.broadcast_to(total, jnp.shape(primal_out)).astype(jnp.result_type(primal_out))
