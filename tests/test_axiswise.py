"""Axis-wise activations: softmax, log_softmax, logsumexp, logmeanexp, glu, standardize."""

import contextlib
import io
import re
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.ad_checkpoint import print_saved_residuals
from jax.test_util import check_grads

import generated
from codegen.build.pipeline import analyse
from codegen.tools.cli import main
from codegen.tools.reference import plain_axis_function
from conftest import GROUPS, import_package

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 4, 6)).astype(np.float32) * 3
WHERE = RNG.uniform(size=X.shape) > 0.3
B = RNG.uniform(0.1, 2.0, size=X.shape).astype(np.float32)

# Keyword arguments each function is checked with, beyond its defaults.
CALLS = {
    "softmax": [{}, {"axis": 0}, {"axis": (0, 2)}, {"axis": None}, {"where": WHERE}],
    "log_softmax": [{}, {"axis": 1}, {"axis": (1, 2)}, {"where": WHERE}],
    "logsumexp": [
        {},
        {"axis": -1},
        {"axis": (0, 1), "keepdims": True},
        {"axis": 1, "where": WHERE},
    ],
    "logmeanexp": [{}, {"axis": 2}, {"axis": 0, "keepdims": True}, {"axis": 2, "where": WHERE}],
    "glu": [{}, {"axis": 2}, {"axis": 1}],
    "standardize": [
        {},
        {"axis": 0},
        {"axis": (1, 2)},
        {"where": WHERE},
        {"epsilon": 0.5},
        {"algorithm": "stable"},
        {"algorithm": "stable", "axis": (0, 2), "where": WHERE},
    ],
}


def calls():
    return [(name, kwargs) for name in sorted(CALLS) for kwargs in CALLS[name]]


def test_every_axiswise_spec_is_checked():
    assert sorted(s.name for s in GROUPS["axiswise"]) == sorted(CALLS)


@pytest.mark.parametrize(("name", "kwargs"), calls())
def test_values_and_gradients_match_jax_nn(name, kwargs):
    mine, theirs = getattr(generated, name), getattr(jax.nn, name)
    x = jnp.asarray(X)
    np.testing.assert_allclose(mine(x, **kwargs), theirs(x, **kwargs), rtol=2e-5, atol=2e-6)
    y, pullback = jax.vjp(lambda x: mine(x, **kwargs), x)
    y_ref, pullback_ref = jax.vjp(lambda x: theirs(x, **kwargs), x)
    assert y.shape == y_ref.shape and y.dtype == y_ref.dtype
    cotangent = jnp.asarray(RNG.normal(size=y.shape), y.dtype)
    if "where" in kwargs and name in ("softmax", "log_softmax"):
        cotangent = jnp.where(kwargs["where"], cotangent, 0)  # jax.nn's masked -inf * 0
    (grad,), (grad_ref,) = pullback(cotangent), pullback_ref(cotangent)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("name", "kwargs"), calls())
def test_jvp_matches_autodiff_of_the_same_formula(name, kwargs, catalogue):
    activation = catalogue[name]
    plain = plain_axis_function(activation)
    mine = getattr(generated, name)
    with jax.enable_x64(True):
        x = jnp.asarray(X, jnp.float64)
        params = [jnp.float64(kwargs.get(p.name, p.default)) for p in activation.spec.params]
        rest = {
            k: v for k, v in kwargs.items() if k not in {p.name for p in activation.spec.params}
        }
        tangents = (jnp.asarray(RNG.normal(size=x.shape)), *(jnp.float64(0.3) for _ in params))
        names = [p.name for p in activation.spec.params]

        def f(x, *params):
            return mine(x, **rest, **dict(zip(names, params, strict=True)))

        y, y_dot = jax.jvp(f, (x, *params), tangents)
        y_ref, y_dot_ref = jax.jvp(lambda *a: plain(*a, **rest), (x, *params), tangents)
        y, y_dot, y_ref, y_dot_ref = map(np.atleast_1d, (y, y_dot, y_ref, y_dot_ref))
        finite = np.isfinite(y_ref)
        np.testing.assert_allclose(y[finite], y_ref[finite], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(y_dot[finite], y_dot_ref[finite], rtol=1e-8, atol=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kwargs"), calls())
def test_check_grads_to_order_two(name, kwargs):
    f = getattr(generated, name)
    with jax.enable_x64(True):
        x = jnp.asarray(X[:2, :2], jnp.float64)
        if "where" in kwargs:
            kwargs = {**kwargs, "where": kwargs["where"][:2, :2]}
        check_grads(lambda x: f(x, **kwargs), (x,), order=2, modes=["fwd", "rev"])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "standardize"])
@pytest.mark.parametrize("masked", [False, True])
def test_one_residual_of_the_output_size(name, masked):
    f = getattr(generated, name)
    x = jnp.asarray(X)
    where = jnp.asarray(WHERE) if masked else None
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        print_saved_residuals(lambda x: jnp.vdot(f(x, where=where), jnp.asarray(X)), x)
    saved = [line for line in report.getvalue().splitlines() if line.startswith("f32[3,4,6]")]
    computed = [line for line in saved if "from a constant" not in line]
    assert len(computed) == 1, report.getvalue()


def test_masked_entries_are_filled_and_never_nan():
    x = jnp.array([[1.0, 2.0, 1e4], [3.0, -1.0, 0.5]])
    where = jnp.array([[True, True, False], [False, False, False]])
    probabilities = generated.softmax(x, where=where)
    np.testing.assert_allclose(probabilities[0], [*jax.nn.softmax(x[0, :2]).tolist(), 0.0])
    assert (probabilities[1] == 0).all()
    logs = generated.log_softmax(x, where=where)
    assert np.isneginf(logs[0, 2]) and np.isneginf(logs[1]).all()
    assert np.isneginf(generated.logsumexp(x, axis=1, where=where)[1])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "logmeanexp"])
def test_a_huge_masked_entry_gets_exactly_zero_gradient(name):
    f = getattr(generated, name)
    x = jnp.array([1.0, 2.0, 1e4, 0.5])
    where = jnp.array([True, True, False, True])
    weights = jnp.array([0.3, -1.0, 0.0, 2.0])
    grad = jax.grad(lambda x: (jnp.where(where, f(x, where=where), 0) * weights).sum())(x)
    assert grad[2] == 0 and np.isfinite(grad).all()
    hessian = jax.hessian(lambda x: (jnp.where(where, f(x, where=where), 0) * weights).sum())(x)
    assert (hessian[2] == 0).all() and (hessian[:, 2] == 0).all()


def test_edge_inputs():
    np.testing.assert_allclose(generated.logsumexp(jnp.array([1000.0, 1000.0])), 1000 + np.log(2))
    assert generated.softmax(jnp.zeros((2, 0))).shape == (2, 0)
    assert generated.logsumexp(jnp.zeros((0,))) == -np.inf  # the sum of nothing is 0
    np.testing.assert_allclose(generated.softmax(jnp.full((5,), 7.0)), 0.2)
    with_minus_inf = generated.softmax(jnp.array([-jnp.inf, 0.0, 1.0]))
    assert with_minus_inf[0] == 0 and np.isclose(with_minus_inf.sum(), 1)
    grad = jax.grad(lambda x: generated.log_softmax(x)[1])(jnp.array([-jnp.inf, 0.0, 1.0]))
    assert np.isfinite(grad).all() and grad[0] == 0


def test_standardize_never_takes_the_root_of_a_negative_variance():
    """jax.nn's fast variance could round below 0 and give NaN (jax issue #30426)."""
    x = jnp.asarray(np.random.default_rng(0).uniform(1e4, 1e4 + 1, (4, 8)), jnp.float32)
    variance = jnp.mean(x**2, -1) - jnp.mean(x, -1) ** 2
    assert (variance < 0).any()  # the rounding the clip is there for
    y, grad = jax.value_and_grad(lambda x: generated.standardize(x).sum())(x)
    assert np.isfinite(y) and np.isfinite(grad).all()


def test_standardize_stable_algorithm_does_not_cancel():
    """jax.nn's testStandardizeStableAlgorithm: a large mean, eager and jitted."""
    x = jnp.array([1e6, 1e6 + 1, 1e6 + 2], dtype=jnp.float32)
    eager = generated.standardize(x, algorithm="stable")
    jitted = jax.jit(lambda x: generated.standardize(x, algorithm="stable"))(x)
    np.testing.assert_allclose(eager, [-1.2247, 0.0, 1.2247], rtol=1e-4)
    np.testing.assert_allclose(eager, jitted, atol=1e-5)
    with pytest.raises(ValueError, match="algorithm must be one of 'fast', 'stable'"):
        generated.standardize(x, algorithm="exact")


def test_standardize_takes_a_given_mean_and_variance():
    x = jnp.asarray(X)
    mean, variance = jnp.float32(0.5), jnp.float32(2.0)
    np.testing.assert_allclose(
        generated.standardize(x, mean=mean, variance=variance),
        jax.nn.standardize(x, mean=mean, variance=variance),
        rtol=1e-6,
    )
    grads = jax.grad(lambda m, v: generated.standardize(x, mean=m, variance=v).sum(), (0, 1))
    expected = jax.grad(lambda m, v: jax.nn.standardize(x, mean=m, variance=v).sum(), (0, 1))
    np.testing.assert_allclose(grads(mean, variance), expected(mean, variance), rtol=1e-5)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16, jnp.float32])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_narrow_types_are_computed_in_float32_and_rounded_once(name, dtype):
    f = getattr(generated, name)
    x = jnp.asarray(X, dtype)
    y = f(x)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, f(x.astype(jnp.float32)).astype(dtype))
    assert jax.grad(lambda x: f(x).astype(jnp.float32).sum())(x).dtype == dtype


@pytest.mark.parametrize("name", sorted(CALLS))
def test_jit_vmap_and_hessian(name, catalogue):
    f = getattr(generated, name)
    x = jnp.asarray(X[0])
    np.testing.assert_allclose(jax.vmap(f)(x), jnp.stack([f(row) for row in x]), rtol=1e-6)
    np.testing.assert_allclose(jax.jit(f)(x), f(x))
    row = x[0, :4]
    hessian = jax.hessian(lambda r: f(r).sum())(row)
    reference = jax.hessian(lambda r: plain_axis_function(catalogue[name])(r).sum())(row)
    np.testing.assert_allclose(hessian, reference, rtol=1e-4, atol=1e-5)


TEMPERATURE = """
    summary = "Softmax with a temperature."
    expression = "exp(x/T)/S"

    [params]
    T = { default = 2.0, doc = "temperature" }

    [axis]
    default = -1
    masked = 0.0

    [axis.reductions]
    S = "sum(exp(x/T))"
"""


@pytest.mark.slow
def test_unseen_axiswise_spec(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "tempered.toml").write_text(textwrap.dedent(TEMPERATURE))
    assert main(["--root", str(tmp_path)]) == 0
    package = import_package(tmp_path / "generated", "generated_tempered")
    (activation,) = analyse(tmp_path)
    assert activation.shifted  # found for exp(x/T) too
    x = jnp.asarray(X) * 100  # would overflow without the shift
    np.testing.assert_allclose(package.tempered(x, T=3.0), jax.nn.softmax(x / 3), rtol=1e-5)
    with jax.enable_x64(True):
        x = jnp.asarray(X, jnp.float64)
        plain = plain_axis_function(activation)
        for argnums in (0, 1):
            mine = jax.grad(lambda x, t: package.tempered(x, T=t)[..., 0].sum(), argnums)(x, 3.0)
            expected = jax.grad(lambda x, t: plain(x, t)[..., 0].sum(), argnums)(x, 3.0)
            np.testing.assert_allclose(mine, expected, rtol=1e-9)
        tempered = lambda x, t: package.tempered(x, T=t)  # noqa: E731
        check_grads(tempered, (x[0], 3.0), order=2, modes=["fwd", "rev"])


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ('[axis.reductions]\nS = "exp(x)"', "axis.reductions.S"),
        ('[axis.reductions]\nS = "sum(exp(S))"', "axis.reductions.S"),
        ('[axis.reductions]\nS = "sum(x)"\nU = "sum(x**2)"', "axis.reductions.U"),
        ('split = "a"', "axis.split"),
        ("masked = nan", "axis.masked"),
        ('default = "last"', "axis.default"),
        ('arguments = ["where"]\n[axis.reductions]\nS = "sum(exp(x))"', "axis.arguments"),
    ],
)
def test_bad_axiswise_spec_names_its_field(tmp_path, capsys, extra, field):
    (tmp_path / "specs").mkdir()
    text = f'summary = "s"\nexpression = "exp(x)/S"\n[axis]\n{extra}\n'
    (tmp_path / "specs" / "bad.toml").write_text(text)
    assert main(["--root", str(tmp_path)]) == 2
    assert f"specs/bad.toml: field '{field}'" in capsys.readouterr().err
    assert not (tmp_path / "generated").exists()


@pytest.mark.parametrize("axis", [None, 1])
def test_logsumexp_returns_the_sign_as_jax_nn_does(axis):
    a = jnp.asarray(X[0])
    b = np.random.default_rng(1).uniform(-1, 1, size=a.shape)
    b[np.unravel_index(np.argmax(X[0]), a.shape)] = -1  # the largest term is negative
    b = jnp.asarray(b, jnp.float32)

    def value(f):
        return lambda a, b: f(a, axis=axis, b=b, return_sign=True)[0].sum()

    mine = generated.logsumexp(a, axis=axis, b=b, return_sign=True)
    theirs = jax.nn.logsumexp(a, axis=axis, b=b, return_sign=True)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-5)
    np.testing.assert_array_equal(mine[1], theirs[1])
    assert (np.asarray(mine[1]) < 0).any()  # the case return_sign is for
    grads = jax.grad(value(generated.logsumexp), (0, 1))(a, b)
    expected = jax.grad(value(jax.nn.logsumexp), (0, 1))(a, b)
    for mine, theirs in zip(grads, expected, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)
    assert np.isnan(generated.logsumexp(a, b=-jnp.ones_like(a)))  # without it, as jax.nn


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_gradient_is_as_many_xla_fusions_as_jax_nn_s(name):
    # The guard on rows with no finite largest entry kept XLA's CPU from
    # fusing the max into the exponential: one fusion more, one more pass.
    ours, theirs = getattr(generated, name), getattr(jax.nn, name)
    x, w = jnp.asarray(np.random.default_rng(0).normal(size=(2, 512, 128)), jnp.float32)

    def fusions(f):
        text = jax.jit(jax.grad(lambda x: jnp.vdot(f(x), w))).lower(x).compile().as_text()
        return len(re.findall(r"= \S+ fusion\(", text[text.index("ENTRY") :]))

    assert fusions(ours) <= fusions(theirs)
    # A row of -inf is NaN without the guard, as with it and as jax.nn's; so
    # is a row with +inf, where the guard made its finite entries 0.
    for row in (jnp.full((3,), -jnp.inf), jnp.array([0.0, jnp.inf, 1.0])):
        assert np.isnan(ours(row)).all() and np.isnan(theirs(row)).all()
