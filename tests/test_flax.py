"""Generated Flax modules: interchangeable with Flax's, and from unseen specs."""

import importlib.util
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import ROOT, import_package

flax = pytest.importorskip("flax")
from flax import linen, nnx  # noqa: E402

import codegen  # noqa: E402
import generated.linen  # noqa: E402
import generated.nnx  # noqa: E402
from codegen.build.pipeline import analyse  # noqa: E402
from codegen.tools.cli import main  # noqa: E402
from codegen.tools.reference import plain_function  # noqa: E402

X = jnp.asarray(np.random.default_rng(0).normal(size=(4, 6)) * 3, jnp.float32)


def assert_same_tree(mine, theirs, rtol=1e-6):
    assert jax.tree.structure(mine) == jax.tree.structure(theirs)
    for a, b in zip(jax.tree.leaves(mine), jax.tree.leaves(theirs), strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(np.asarray(a, np.float32), np.asarray(b, np.float32), rtol=rtol)


@pytest.mark.parametrize("fields", [{}, {"negative_slope_init": 0.2, "param_dtype": jnp.bfloat16}])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_linen_prelu_is_interchangeable_with_flax(fields, dtype):
    mine, theirs = generated.linen.PReLU(**fields), linen.PReLU(**fields)
    x = X.astype(dtype)
    variables = theirs.init(jax.random.key(0), x)
    assert_same_tree(mine.init(jax.random.key(0), x), variables)
    y, y_ref = mine.apply(variables, x), theirs.apply(variables, x)
    assert y.dtype == y_ref.dtype == dtype
    np.testing.assert_array_equal(y, y_ref)
    grads = jax.grad(lambda v, x: mine.apply(v, x).astype(jnp.float32).sum(), (0, 1))
    expected = jax.grad(lambda v, x: theirs.apply(v, x).astype(jnp.float32).sum(), (0, 1))
    # In bfloat16 ours sums the slope's gradient in float32 and rounds once.
    rtol = 1e-6 if dtype == jnp.float32 and "param_dtype" not in fields else 2e-2
    assert_same_tree(grads(variables, x), expected(variables, x), rtol)


@pytest.mark.parametrize("kwargs", [{}, {"dtype": jnp.bfloat16}])
def test_nnx_prelu_is_interchangeable_with_flax(kwargs):
    mine = generated.nnx.PReLU(negative_slope_init=0.02, **kwargs)
    theirs = nnx.PReLU(negative_slope_init=0.02, **kwargs)
    assert_same_tree(nnx.state(mine, nnx.Param), nnx.state(theirs, nnx.Param))
    np.testing.assert_array_equal(mine(X), theirs(X))

    def loss(module, x):
        return module(x).astype(jnp.float32).sum()

    value, grads = nnx.value_and_grad(loss)(mine, X)
    value_ref, grads_ref = nnx.value_and_grad(loss)(theirs, X)
    np.testing.assert_allclose(value, value_ref, rtol=1e-6)
    assert_same_tree(grads, grads_ref, rtol=2e-2 if kwargs else 1e-6)  # as for linen
    np.testing.assert_array_equal(nnx.jit(loss)(mine, X), nnx.jit(loss)(theirs, X))


def prelu_reference(x, slope):
    return jnp.where(x >= 0, x, slope * x)


CHANNELS = jnp.asarray(np.random.default_rng(1).normal(size=(64, 6)), jnp.float32)
SLOPES = jnp.linspace(0.1, 0.6, 6)


def per_channel_loss(apply):
    """A regression whose best slopes differ by channel: 0.1, 0.2, ... 0.6."""
    target = prelu_reference(CHANNELS, SLOPES)
    return lambda params: jnp.mean((apply(params, CHANNELS) - target) ** 2)


def test_linen_prelu_learns_one_slope_per_channel():
    layer = generated.linen.PReLU(negative_slope_init=0.3, param_shape=(6,))
    variables = layer.init(jax.random.key(0), CHANNELS)
    assert variables["params"]["negative_slope"].shape == (6,)
    loss = per_channel_loss(layer.apply)
    # The partial sums over the batch axis, the axis the slope broadcasts along.
    expected = jax.grad(
        per_channel_loss(lambda v, x: prelu_reference(x, v["params"]["negative_slope"]))
    )
    assert_same_tree(jax.grad(loss)(variables), expected(variables))
    for _ in range(30):
        variables = jax.tree.map(lambda v, g: v - 3.0 * g, variables, jax.grad(loss)(variables))
    np.testing.assert_allclose(variables["params"]["negative_slope"], SLOPES, atol=1e-3)


def test_nnx_prelu_learns_one_slope_per_channel():
    layer = generated.nnx.PReLU(0.3, param_shape=(6,))
    loss = per_channel_loss(lambda module, x: module(x))
    reference = nnx.PReLU(0.3)  # Flax's scalar slope, broadcast by hand as ours is
    reference.negative_slope = nnx.Param(jnp.full(6, 0.3))
    assert_same_tree(nnx.grad(loss)(layer), nnx.grad(loss)(reference))
    first = loss(layer)
    for _ in range(30):
        grads = nnx.grad(loss)(layer)
        layer.negative_slope[...] -= 3.0 * grads["negative_slope"][...]
    assert loss(layer) < first / 100
    np.testing.assert_allclose(layer.negative_slope[...], SLOPES, atol=1e-3)


def test_a_gated_learnable_activation_gets_modules_taking_the_gate():
    function = codegen.activation(
        "x*sigmoid(beta*gate)", inputs=("x", "gate"), learnable=["beta"], beta=1.0
    )
    gate = jnp.cos(CHANNELS)

    def expected(beta):
        return jnp.sum(CHANNELS * jax.nn.sigmoid(beta * gate))

    beta = jnp.full(6, 1.0)
    linen_module = function.linen(param_shape=(6,))
    variables = linen_module.init(jax.random.key(0), CHANNELS, gate)
    grads = jax.grad(lambda v: linen_module.apply(v, CHANNELS, gate).sum())(variables)
    np.testing.assert_allclose(grads["params"]["beta"], jax.grad(expected)(beta), rtol=1e-5)

    nnx_module = function.nnx(param_shape=(6,))
    grads = nnx.grad(lambda m: m(CHANNELS, gate).sum())(nnx_module)
    np.testing.assert_allclose(grads["beta"][...], jax.grad(expected)(beta), rtol=1e-5)


LEARNABLE_SWISH = """
    summary = "Swish with a learned steepness."
    expression = "x/(1 + exp(-beta*x))"
    module = "LearnableSwish"

    [params.beta]
    default = 1.0
    learnable = true
"""


@pytest.mark.slow
def test_unseen_learnable_spec_gets_modules_with_closed_form_gradients(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "learnable_swish.toml").write_text(textwrap.dedent(LEARNABLE_SWISH))
    assert main(["--root", str(tmp_path)]) == 0
    package = import_package(tmp_path / "generated", "generated_swish")
    (activation,) = analyse(tmp_path)
    plain = plain_function(activation)
    expected = jax.grad(lambda beta: plain(X, beta).sum())(jnp.float32(1.5))

    linen_module = importlib.import_module("generated_swish.linen").LearnableSwish(beta_init=1.5)
    variables = linen_module.init(jax.random.key(0), X)
    assert variables["params"]["beta"] == 1.5
    grads = jax.grad(lambda v: linen_module.apply(v, X).sum())(variables)
    np.testing.assert_allclose(grads["params"]["beta"], expected, rtol=1e-5)

    nnx_module = importlib.import_module("generated_swish.nnx").LearnableSwish(beta_init=1.5)
    grads = nnx.grad(lambda m: m(X).sum())(nnx_module)
    np.testing.assert_allclose(grads["beta"][...], expected, rtol=1e-5)
    np.testing.assert_allclose(nnx_module(X), package.learnable_swish(X, 1.5), rtol=1e-6)


def load_example():
    spec = importlib.util.spec_from_file_location("cnn_example", ROOT / "examples" / "cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_cnn_example_matches_flax_activations_and_learns():
    cnn = load_example()
    images, labels = cnn.dataset(jax.random.key(0), count=64)
    ours = cnn.CNN()
    reference = cnn.CNN(activation=lambda: jax.nn.relu, log_softmax=jax.nn.log_softmax)
    params = ours.init(jax.random.key(1), images[:1])
    np.testing.assert_allclose(
        ours.apply(params, images), reference.apply(params, images), rtol=1e-5, atol=1e-6
    )
    with_prelu = cnn.CNN(activation=generated.linen.PReLU)
    flax_prelu = cnn.CNN(activation=linen.PReLU, log_softmax=jax.nn.log_softmax)
    params = with_prelu.init(jax.random.key(1), images[:1])
    np.testing.assert_allclose(
        with_prelu.apply(params, images), flax_prelu.apply(params, images), rtol=1e-5, atol=1e-6
    )
    _, losses = cnn.train(with_prelu, params, images, labels, steps=20)
    assert losses[-1] < 0.8 * losses[0]
