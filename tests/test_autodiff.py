"""Closed-form derivatives against JAX autodiff of the same formula.

The reference is ``codegen.tools.reference.plain_function``: the spec's formula as
written, printed to jax.numpy with no custom rule.  Comparisons run in
float64, where both sides are accurate, so any algebra slip in a derivative
shows up far above the tolerance.
"""

import contextlib
import functools
import io

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.ad_checkpoint import print_saved_residuals
from jax.test_util import check_grads

import generated
from codegen.tools.reference import plain_function
from conftest import sample

RTOL = 1e-9


def formulas(activation):
    """(generated function, plain function) for each formula of the spec."""
    f = getattr(generated, activation.spec.name)
    switch = activation.spec.switch
    if switch is None:
        return [(f, plain_function(activation))]
    return [
        (functools.partial(f, **{switch.name: flag}), plain_function(activation, i))
        for i, flag in enumerate([switch.default, not switch.default])
    ]


def summed(function):
    return lambda *args: function(*args).sum()


def arguments(activation, count=48, seed=0):
    """x and every parameter as float64 arrays, parameters near their defaults."""
    rng = np.random.default_rng(seed + 1)
    x = jnp.asarray(sample(activation, count, seed), jnp.float64)
    params = [
        jnp.full_like(x, p.default) * rng.uniform(0.5, 1.5, x.shape) for p in activation.spec.params
    ]
    return x, params


def assert_close_where_finite(actual, expected):
    expected = np.asarray(expected)
    finite = np.isfinite(expected)
    assert finite.mean() > 0.9, "the reference overflows almost everywhere"
    np.testing.assert_allclose(np.asarray(actual)[finite], expected[finite], rtol=RTOL, atol=1e-12)


@pytest.fixture(autouse=True)
def float64():
    with jax.enable_x64(True):
        yield


def test_jvp_matches_autodiff(activation):
    x, params = arguments(activation)
    rng = np.random.default_rng(2)
    tangents = [jnp.asarray(rng.normal(size=x.shape)) for _ in (x, *params)]
    for f, plain in formulas(activation):
        y, y_dot = jax.jvp(f, (x, *params), tuple(tangents))
        y_ref, y_dot_ref = jax.jvp(plain, (x, *params), tuple(tangents))
        assert_close_where_finite(y, y_ref)
        assert_close_where_finite(y_dot, y_dot_ref)


def test_vjp_matches_autodiff_for_every_input(activation):
    x, params = arguments(activation)
    cotangent = jnp.asarray(np.random.default_rng(3).normal(size=x.shape))
    for f, plain in formulas(activation):
        _, pullback = jax.vjp(f, x, *params)
        _, pullback_ref = jax.vjp(plain, x, *params)
        for mine, reference in zip(pullback(cotangent), pullback_ref(cotangent), strict=True):
            assert_close_where_finite(mine, reference)


def test_second_derivative_matches_autodiff(activation):
    x, _ = arguments(activation, count=24)
    for f, plain in formulas(activation):
        mine = jax.vmap(jax.grad(jax.grad(f)))(x)
        reference = jax.vmap(jax.grad(jax.grad(plain)))(x)
        assert_close_where_finite(mine, reference)


def test_scalar_parameter_gradient_matches_autodiff(parameterised):
    x, _ = arguments(parameterised)
    defaults = [jnp.float64(p.default) for p in parameterised.spec.params]
    for f, plain in formulas(parameterised):
        for argnums in range(1, len(defaults) + 1):
            mine = jax.grad(summed(f), argnums)(x, *defaults)
            reference = jax.grad(summed(plain), argnums)(x, *defaults)
            np.testing.assert_allclose(mine, reference, rtol=1e-8)
            assert mine.shape == ()


def test_hessian_in_x_and_the_parameters_matches_autodiff(parameterised):
    """Both orders of the mixed partial, jacfwd over jacrev: the partial's
    derivative in x is the next derivative's closed-form partial."""
    x, _ = arguments(parameterised, count=12)
    values = [jnp.float64(1.3 * p.default + 0.2) for p in parameterised.spec.params]
    argnums = tuple(range(len(values) + 1))
    for f, plain in formulas(parameterised):
        for i in range(len(x)):
            mine = jax.hessian(f, argnums)(x[i], *values)
            reference = jax.hessian(plain, argnums)(x[i], *values)
            for row, expected in zip(mine, reference, strict=True):
                assert_close_where_finite(row, expected)


def test_a_second_derivative_in_a_parameter_at_integer_x_is_jax_nns():
    # The partial is x itself there, an integer array: it has no tangent.
    x = jnp.array([-2, -1, 0, 3])
    ours, theirs = (lambda s, f=f: f(x, s).sum() for f in (generated.leaky_relu, jax.nn.leaky_relu))
    assert jax.grad(jax.grad(ours))(0.1) == jax.grad(jax.grad(theirs))(0.1) == 0.0
    assert jax.grad(ours)(0.1) == jax.grad(theirs)(0.1) == -3.0


def test_derivatives_near_zero_follow_the_parameters(parameterised):
    """Series regimes near 0 must not freeze a parameter at its default."""
    x = jnp.linspace(-0.3, 0.3, 13)
    values = [jnp.float64(1.7 * p.default + 0.5) for p in parameterised.spec.params]
    for f, plain in formulas(parameterised):
        for _ in range(3):
            f, plain = jax.grad(f), jax.grad(plain)
            mine = jax.vmap(f, (0, *[None] * len(values)))(x, *values)
            reference = jax.vmap(plain, (0, *[None] * len(values)))(x, *values)
            assert_close_where_finite(mine, reference)


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_check_grads_to_order_two(activation, mode):
    x, params = arguments(activation, count=8)
    for f, _ in formulas(activation):
        check_grads(f, (x, *params), order=2, modes=[mode])


def test_undifferentiated_parameter_costs_nothing(parameterised):
    """With symbolic zeros, the rule skips a parameter's partial entirely."""
    x, params = arguments(parameterised, count=4)
    f, _ = formulas(parameterised)[0]

    def equations(function, *args) -> int:
        return len(jax.make_jaxpr(function)(*args).eqns)

    zero = [jnp.zeros_like(p) for p in params]
    only_x = equations(lambda t: jax.jvp(lambda x: f(x, *params), (x,), (t,)), x)
    everything = equations(lambda t, *u: jax.jvp(f, (x, *params), (t, *u)), x, *zero)
    assert only_x < everything


def test_one_residual_is_saved(activation):
    """The backward pass keeps one array, the derivative, and nothing else."""
    x = jnp.asarray(sample(activation, count=256), jnp.float32)
    f = getattr(generated, activation.spec.name)
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        print_saved_residuals(lambda x: f(x).sum(), x)
    saved = [line for line in report.getvalue().splitlines() if "[256]" in line]
    assert len(saved) <= 1, saved
