"""What the backward pass keeps: dy/dx from the output y where the spec or
the automatic policy says so (codegen/analysis/residual.py)."""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from unseen import check

import codegen
from codegen.analysis.model import Activation, Context
from codegen.analysis.residual import Y, _inverses, output_form
from codegen.build.pipeline import build_one
from codegen.build.runtime import load_module
from codegen.numerics.primitives import Where, sigmoid
from codegen.spec.load import SpecError, read_spec
from codegen.tools.cli import main
from conftest import ROOT

x = sp.Symbol("x", real=True)
b = sp.Symbol("b", real=True)
ALL = (-np.inf, np.inf)


@pytest.mark.parametrize(
    ("expr", "policy", "form"),
    [
        (sigmoid(x), "output", Y * (1 - Y)),
        (sigmoid(x), "auto", None),  # 0 beyond x = 17, where sigmoid' is 4e-8
        (sigmoid(x), "derivative", None),
        (sp.tanh(x), "output", 1 - Y**2),  # of SymPy's two inverses, the real one
        (sp.Piecewise((x, x > 0), (0, True)), "auto", Where(Y > 0, 1, 0)),
        (x * sigmoid(x), "output", None),  # silu is not one-to-one
        # squareplus, x twice: x = y - b/(4y) and sqrt((b + 4y**2)**2/(16y**2)) = (b + 4y**2)/(4y),
        # as 1/(1 + b/(4y**2)), not 4y**2/(b + 4y**2), which is NaN where y**2 overflows.
        ((x + sp.sqrt(x**2 + b)) / 2, "auto", 1 / (b / (4 * Y**2) + 1)),
        (x / (1 + x**2), "output", None),  # not one-to-one
        # a stable form's Piecewise inside a product, folded out to be solved branch by branch
        (
            sp.Piecewise((4 / (sp.sqrt(x**2 + 4) - x), x < 0), (x + sp.sqrt(x**2 + 4), True))
            / (2 * b),
            "auto",
            1 / (b + 1 / (b * Y**2)),
        ),
        # sparse_plus: of x = -1 -+ 2*sqrt(y) on the middle branch, the second
        (
            sp.Piecewise((0, x <= -1), (x, x >= 1), ((x + 1) ** 2 / 4, True)),
            "auto",
            Where(Y <= 0, 0, Where(Y >= 1, 1, sp.sqrt(Where((Y >= 1) | (Y <= 0), sp.S.Half, Y)))),
        ),
    ],
)
def test_output_form(expr, policy, form):
    assert output_form(expr, Context(x, ((b, 4.0),), ALL), policy) == form


def test_auto_keeps_the_output_where_that_is_exact_and_cheap(catalogue):
    elementwise = [a for a in catalogue.values() if isinstance(a, Activation)]
    kept = {a.spec.name for a in elementwise if a.formulas[0].output is not None}
    # softplus by its spec's residual = "output": -expm1(-y) is accurate, not arithmetic.
    assert kept == {
        *("identity", "relu", "relu6", "leaky_relu", "hard_sigmoid", "softplus", "sparse_plus"),
        "squareplus",
    }


def _temp_memory(act, layers=4, width=64, batch=256) -> int:
    """XLA's planned temp bytes for value_and_grad of an MLP: deterministic."""
    key = jax.random.key(0)
    weights = [jax.random.normal(jax.random.fold_in(key, i), (width, width)) for i in range(layers)]

    def loss(weights, h):
        for w in weights:
            h = act(h @ w)
        return h.sum()

    inputs = jnp.ones((batch, width))
    compiled = jax.jit(jax.value_and_grad(loss)).lower(weights, inputs).compile()
    return compiled.memory_analysis().temp_size_in_bytes


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "softplus", "sparse_plus", "squareplus"])
def test_keeping_the_output_costs_an_mlp_less_memory_than_jax_nn(name):
    import generated

    assert _temp_memory(getattr(generated, name)) < _temp_memory(getattr(jax.nn, name))


def test_sigmoid_from_its_output_matches_jax_nn_memory_and_keeps_its_tower():
    f = codegen.activation("1/(1 + exp(-x))", name="sigmoid_y", residual="output")
    assert _temp_memory(f) <= _temp_memory(jax.nn.sigmoid)
    points = jnp.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    np.testing.assert_allclose(
        jax.vmap(jax.grad(f))(points), jax.vmap(jax.grad(jax.nn.sigmoid))(points), rtol=1e-6
    )
    # The second derivative is the closed-form kernel's, not autodiff of
    # y*(1 - y), which is 0 at x = 30: the truth is -9.4e-14.
    second = float(jax.grad(jax.grad(f))(30.0))
    assert second == pytest.approx(
        -np.exp(-30.0) * (1 - np.exp(-30.0)) / (1 + np.exp(-30.0)) ** 3, rel=1e-5
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"expression": "x", "residual": "kept"}, "residual"),
        (
            {"expression": "x", "residual": "output", "axis": {"reductions": {"S": "sum(x)"}}},
            "residual",
        ),
    ],
)
def test_bad_residual_is_refused(data, field):
    with pytest.raises(SpecError, match=f"field '{field}'"):
        read_spec("specs/bad.toml", {"summary": "Bad.", **data}, default_name="bad")


def test_the_build_flag_sets_auto_specs(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("SYMJVP_CACHE", str(tmp_path / "cache"))
    (tmp_path / "specs").mkdir()
    for name in ("sigmoid", "elu"):
        (tmp_path / "specs" / f"{name}.toml").write_text(
            (ROOT / "specs" / f"{name}.toml").read_text()
        )
    assert main(["--root", str(tmp_path), "--residual", "output"]) == 0
    assert (
        "def _sigmoid_d1_from_output(y, x):" in (tmp_path / "generated" / "_sigmoid.py").read_text()
    )
    assert "_elu_d1_from_output(ans, x, alpha)" in (tmp_path / "generated" / "_elu.py").read_text()
    assert main(["--root", str(tmp_path)]) == 0
    assert "from_output" not in (tmp_path / "generated" / "_sigmoid.py").read_text()


@pytest.mark.parametrize("alpha", [0.01, 1.0, 100.0])
def test_unseen_formula_from_its_output_keeps_every_order(alpha):
    """A scaled elu the catalogue lacks, with residual="output", at Python
    floats: f' from y, f'' and f''' and d2f/dx dalpha from the closed-form tower."""
    import mpmath

    text = "Piecewise((x, x > 0), (alpha*expm1(x/alpha), True))"
    f = codegen.activation(text, name="scaled_elu_y", residual="output", alpha=1.0)

    def truth(x, k):
        x, a = mpmath.mpf(x), mpmath.mpf(alpha)
        if x > 0:
            return [x, 1, 0, 0][k]
        return [a * mpmath.expm1(x / a), *(mpmath.exp(x / a) / a ** (j - 1) for j in (1, 2, 3))][k]

    with jax.enable_x64(True):
        for x in (-3.0, -0.5, 2.0):
            g = f
            for k in (1, 2, 3):
                g = jax.grad(g)
                # f' from y loses the tail below f''s scale, 1: alpha + y rounds.
                atol = 1e-15 if k == 1 else 0
                assert float(g(x, alpha)) == pytest.approx(float(truth(x, k)), rel=1e-12, abs=atol)
            mixed = float(jax.grad(jax.grad(f), argnums=1)(x, alpha))
            want = 0.0 if x > 0 else float(mpmath.exp(x / alpha) * (-x / alpha**2))
            assert mixed == pytest.approx(want, rel=1e-12, abs=0)


def test_a_formula_sympy_cannot_invert_keeps_its_derivative():
    # SymPy's simplify raised "Invalid NaN comparison" on Abs(k*x)'s inverse.
    f = codegen.activation("Abs(k*x)", k=3.0)
    grad = jax.vmap(jax.grad(f), (0, None))
    np.testing.assert_allclose(grad(jnp.float32([-2.0, 2.0]), 3.0), [-3.0, 3.0])
    np.testing.assert_allclose(grad(jnp.float32([-2.0, 2.0]), -0.5), [-0.5, 0.5])


def test_a_chain_s_inverse_is_peeled_at_once():
    """sp.solve took 90 s to invert tanh(tanh(tanh(x + k))); each tanh's
    inverse is known."""
    x, k = sp.symbols("x k", real=True)
    inverse = -k + sp.atanh(sp.atanh(sp.atanh(Y)))
    assert _inverses(sp.tanh(sp.tanh(sp.tanh(x + k))), x) == [inverse]
    assert _inverses(1 / (1 + sp.exp(-x)), x) == [-sp.log(-1 + 1 / Y)]


def test_squareplus_from_its_output_is_right_where_y_squared_overflows():
    import generated

    xs = np.array([-1e10, -562.0, -1.0, 1e19, 1e20, 3e38])
    truth = [
        4 / (4e20 + 4),
        0.5 * (1 + xs[1] / np.sqrt(xs[1] ** 2 + 4)),
        0.5 - 0.5 / 5**0.5,
        1,
        1,
        1,
    ]
    grads = jax.vmap(jax.grad(generated.squareplus))(jnp.float32(xs))
    np.testing.assert_allclose(grads, truth, rtol=4e-7)


@pytest.mark.slow
@pytest.mark.parametrize(
    "formula",
    ["sqrt(x**2 + k) - x", "(2*x + sqrt(4*x**2 + k))/(1 + k**2)", "(x + sqrt(x**2 + 4))/(2*k)"],
)
def test_an_algebraic_formula_with_x_twice_keeps_its_output_and_is_right(formula):
    spec = read_spec("<drawn>", {"summary": "s", "expression": formula, "params": {"k": 2.0}}, "f")
    activation, text = build_one(spec)
    assert activation.formulas[0].output.has(Y)  # dy/dx from y
    check(activation, load_module(text, "f").f, orders=(0, 1, 2, 3), rtol=1e-6)
