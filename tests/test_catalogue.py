"""The generated catalogue as a drop-in for jax.nn: values, gradients, dtypes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import generated
from codegen.analysis.residual import Y
from codegen.emit.towers import kernel_names
from codegen.numerics.evaluate import exact_values
from codegen.numerics.primitives import Where
from conftest import kinks, sample


def ours(activation):
    return getattr(generated, activation.spec.name)


def theirs(activation):
    return getattr(jax.nn, activation.spec.jax_nn)


def elementwise_grad(f):
    return jax.vmap(jax.grad(f))


def test_catalogue_covers_jax_nn():
    expected = {
        "relu", "relu6", "sigmoid", "log_sigmoid", "softplus", "sparse_plus", "soft_sign",
        "silu", "swish", "elu", "celu", "selu", "gelu", "leaky_relu", "hard_tanh",
        "hard_sigmoid", "hard_silu", "hard_swish", "mish", "squareplus", "sparse_sigmoid",
        "tanh", "identity", "log1mexp",
    }  # fmt: skip
    assert expected <= set(generated.__all__)
    assert generated.swish is generated.silu
    assert generated.hard_swish is generated.hard_silu


def test_signature_matches_jax_nn(paired):
    import inspect

    mine = inspect.signature(ours(paired)).parameters
    reference = inspect.signature(theirs(paired)).parameters
    assert list(mine)[1:] == list(reference)[1:]
    for name in list(reference)[1:]:
        assert mine[name].default == reference[name].default


def test_values_and_gradients_match_jax_nn(paired):
    x = jnp.asarray(sample(paired), jnp.float32)
    f, g = ours(paired), theirs(paired)
    np.testing.assert_allclose(f(x), g(x), rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(elementwise_grad(f)(x), elementwise_grad(g)(x), rtol=2e-5, atol=1e-6)


def test_edge_points_match_jax_nn_or_beat_it(paired):
    """At 0, kinks, ±1e4 and ±inf: as jax.nn, or closer to the exact value."""
    low, high = paired.spec.domain
    points = [0.0, *kinks(paired), 1e4, -1e4, np.inf, -np.inf]
    x = jnp.asarray([p for p in points if low <= p <= high], jnp.float32)
    f, g = ours(paired), theirs(paired)
    for order, (mine, reference) in enumerate(
        [(f(x), g(x)), (elementwise_grad(f)(x), elementwise_grad(g)(x))]
    ):
        mine, reference = np.asarray(mine, np.float64), np.asarray(reference, np.float64)
        derivative = sp.diff(paired.formulas[0].source, paired.x, order).subs(paired.defaults)
        exact = exact_values(derivative, paired.x, x)
        exact = np.where(np.isnan(exact), reference, exact)  # ±inf inputs: no mpmath value
        agree = np.isclose(mine, reference, rtol=1e-6, atol=1e-6) | (mine == reference)
        with np.errstate(invalid="ignore"):  # inf - inf
            closer = np.abs(mine - exact) < np.abs(reference - exact)
        defined = ~np.isnan(reference)
        assert (agree | closer)[defined].all(), (order, x, mine, reference, exact)


def test_nan_propagates(activation):
    """NaN fails every comparison; no branch may turn it into a number."""
    assert np.isnan(ours(activation)(jnp.float32(np.nan)))


# Gradients at kinks, as measured on jax.nn (shared/FIELD.md).
KINK_GRADIENTS = [
    ("relu", 0.0, 0.0),
    ("relu6", 0.0, 0.0),
    ("relu6", 6.0, 0.0),
    ("hard_sigmoid", 3.0, 0.0),
    ("hard_sigmoid", -3.0, 0.0),
    ("sparse_plus", -1.0, 0.0),
    ("sparse_plus", 1.0, 1.0),
    ("sparse_sigmoid", -1.0, 0.25),
    ("sparse_sigmoid", 1.0, 0.25),
    ("softplus", 0.0, 0.5),
    ("log_sigmoid", 0.0, 0.5),
    ("squareplus", 0.0, 0.5),
    ("leaky_relu", 0.0, 1.0),
    ("elu", 0.0, 1.0),
    ("celu", 0.0, 1.0),
    ("hard_tanh", -1.0, 1.0),
    ("hard_tanh", 1.0, 1.0),
    ("hard_silu", 3.0, 1.0),
]


@pytest.mark.parametrize(("name", "point", "expected"), KINK_GRADIENTS)
def test_gradient_at_kinks_follows_jax_nn(name, point, expected):
    f = getattr(generated, name)
    assert jax.grad(f)(point) == expected
    assert jax.grad(getattr(jax.nn, name))(point) == expected


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16, jnp.float32])
def test_dtype_is_preserved(activation, dtype):
    f = ours(activation)
    x = jnp.asarray(sample(activation, count=8), dtype)
    assert f(x).dtype == dtype
    assert jax.grad(lambda x: f(x).sum())(x).dtype == dtype


def test_float64_is_preserved(activation):
    with jax.enable_x64(True):
        x = jnp.asarray(sample(activation, count=8), jnp.float64)
        f = ours(activation)
        assert f(x).dtype == jnp.float64
        assert jax.grad(lambda x: f(x).sum())(x).dtype == jnp.float64


def test_python_float_parameters_do_not_upcast_bfloat16(parameterised):
    x = jnp.asarray(sample(parameterised, count=8), jnp.bfloat16)
    params = {p.name: float(p.default) for p in parameterised.spec.params}
    f = ours(parameterised)
    assert f(x, **params).dtype == jnp.bfloat16
    assert jax.grad(lambda x: f(x, **params).sum())(x).dtype == jnp.bfloat16


def test_integer_inputs_behave_as_in_jax_nn(paired):
    x = jnp.arange(-3, 4, dtype=jnp.int32)
    try:
        expected = theirs(paired)(x)
    except TypeError:
        with pytest.raises(TypeError):
            ours(paired)(x)
        return
    result = ours(paired)(x)
    assert result.dtype == expected.dtype
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-6, equal_nan=True)


def test_transformations_agree(activation):
    f = ours(activation)
    x = jnp.asarray(sample(activation, count=6), jnp.float32)
    grads = elementwise_grad(f)(x)
    np.testing.assert_allclose(jax.jit(f)(x), f(x), rtol=1e-6)
    np.testing.assert_allclose(jax.vmap(f)(x), f(x), rtol=1e-6)
    np.testing.assert_allclose(jnp.diag(jax.jacfwd(f)(x)), grads, rtol=1e-6)
    np.testing.assert_allclose(jnp.diag(jax.jacrev(f)(x)), grads, rtol=1e-6)
    second = jax.vmap(jax.grad(jax.grad(f)))(x)
    np.testing.assert_allclose(
        jnp.diag(jax.hessian(lambda v: f(v).sum())(x)), second, rtol=1e-5, atol=1e-6
    )


def test_tracing_does_not_materialise(activation):
    jaxpr = jax.make_jaxpr(lambda: ours(activation)(jnp.ones(10**12)))()
    assert jaxpr.out_avals[0].shape == (10**12,)


def derivatives(f, order):
    for _ in range(order):
        f = jax.grad(f)
    return jax.vmap(f)


@pytest.mark.parametrize("order", [0, 1, 2, 3, 4])
def test_untaken_branches_never_leak_inf_or_nan(activation, order):
    """Far from 0 one branch overflows; the select must hide it at every order,
    the fourth too, which is autodiff of the closed form of f'''."""
    low, high = activation.spec.domain
    points = [-1e4, -100.0, -30.0, 30.0, 100.0, 1e4, *kinks(activation)]
    x = jnp.asarray([p for p in points if low < p < high], jnp.float32)
    values = derivatives(ours(activation), order)(x)
    assert np.isfinite(values).all(), x[~np.isfinite(values)]


@pytest.mark.parametrize(("name", "x"), [("gelu", 1e10), ("gelu", -1e10), ("mish", 3e38)])
def test_the_fourth_derivative_far_out_is_its_limit_0(name, x):
    # It was NaN: reverse mode through the selects of the third derivative's
    # kernel sent 0 * inf back from the branches not taken; they are now
    # differentiated forward.
    f = getattr(generated, name)
    assert float(derivatives(f, 4)(jnp.asarray([x], jnp.float32))[0]) == 0.0


def test_the_fourth_derivative_past_the_closed_forms_matches_mpmath(activation):
    """Autodiff of the closed form of f''', through its selects and series, in
    float64: within 1e-6 of the truth, or 1e-9 of its largest magnitude."""
    x = sample(activation, count=32)
    derivative = sp.diff(activation.formulas[0].source, activation.x, 4)
    exact = exact_values(derivative.subs(activation.defaults), activation.x, x)
    with jax.enable_x64(True):
        got = np.asarray(derivatives(ours(activation), 4)(jnp.asarray(x)))
    scale = np.max(np.abs(exact), initial=1.0)
    np.testing.assert_allclose(got, exact, rtol=1e-6, atol=1e-9 * scale)


def test_derivatives_stay_closed_form_to_third_order(activation):
    """Each order's JVP calls the next generated derivative, not autodiff,
    unless that derivative is constant in x and written in place, or equal to
    the one before, whose kernel then serves both (elu's third)."""
    f = ours(activation)
    x = jnp.float32(0.3)
    formula = activation.formulas[0]
    last = len(kernel_names(formula, "f", activation.x)) - 1
    for order in range(1, 4):
        f = jax.grad(f)
        jaxpr = str(jax.make_jaxpr(f)(x))
        if not formula.tower[order - 1].lowered[1].has(activation.x):
            assert f"_d{order}" not in jaxpr, (order, jaxpr)
            break
        assert jaxpr.count("custom_jvp_call") >= 1, (order, jaxpr)
        assert f"_d{min(order, last)}" in jaxpr, (order, jaxpr)


def _computed_from_y(form: sp.Expr) -> bool:
    """Whether dy/dx from y is a value computed from y, not a constant that
    comparisons of y select (relu's 1 and 0)."""
    if isinstance(form, Where):
        return any(_computed_from_y(branch) for branch in form.args[1:])
    return form.has(Y)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_narrow_floats_are_computed_in_float32_and_rounded_once(activation, dtype):
    f = ours(activation)
    x = jnp.asarray(sample(activation, count=32), dtype)
    wide = x.astype(jnp.float32)
    np.testing.assert_array_equal(f(x), f(wide).astype(dtype))
    grad, rounded = elementwise_grad(f)(x), elementwise_grad(f)(wide).astype(dtype)
    output = activation.formulas[0].output
    if output is not None and _computed_from_y(output):
        # dy/dx from the narrow output y, which is rounded once already, to
        # half an ulp.  The relative condition of dy/dx in y is at most 1 for
        # softplus's -expm1(-y) and sparse_plus's sqrt(y), and 2 for
        # squareplus's 1/(1 + b/(4y**2)); its own rounding adds half an ulp.
        eps = float(jnp.finfo(dtype).eps)
        np.testing.assert_allclose(np.float32(grad), np.float32(rounded), rtol=1.5 * eps, atol=0)
    else:
        np.testing.assert_array_equal(grad, rounded)
