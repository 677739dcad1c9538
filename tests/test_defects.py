"""One test for each defect found by using unseen specs as a new user would
(issue 13): each failed before its fix."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import codegen
import generated
from codegen.numerics.evaluate import exact_values
from codegen.spec.load import SpecError
from codegen.spec.parse import parse_expression
from codegen.tools.cli import main

pytestmark = pytest.mark.slow  # builds formulas from scratch


def _grad(f, argnums, *args) -> float:
    with jax.enable_x64(True):
        return float(jax.grad(f, argnums)(*map(jnp.float64, args)))


@pytest.mark.parametrize(
    ("expression", "params", "argnums", "at", "truth"),
    [
        ("x*tanh(softplus(beta*x))", {"beta": 1.0}, 0, (20.0, 0.01), 0.7246245),
        # -k*x*sign(k*x) + |k*x| was left unsimplified in d/dk: 0 from |x| = 1e16.
        ("(x + k)*x*tanh(k*x/(1 + Abs(k*x)))", {"k": 3.0}, 1, (1e20, 3.0), 8.082579717e19),
        ("x*sigmoid(beta*x)", {"beta": 1.0}, 1, (200.0, 0.001), 9900.6629),
        ("a*tanh(x/a)", {"a": 2.0}, 1, (500.0, 1000.0), 0.0688933),
        # x sigmoid(k x)/k - softplus(k x)/k**2 cancelled: x/k - x/k (differences.py).
        ("log(1 + exp(beta*x))/beta", {"beta": 1.0}, 1, (60.0, 1.0), -5.34147156524e-25),
    ],
)
def test_derivatives_are_right_far_from_the_parameter_defaults(
    expression, params, argnums, at, truth
):
    f = codegen.activation(expression, **params)
    assert _grad(f, argnums, *at) == pytest.approx(truth, rel=1e-6)


@pytest.mark.parametrize(
    ("expression", "at", "truth"),
    [
        # mpmath's exp was inf past 2**20, so the reference took f''s limit,
        # exp(x)/sqrt(exp(2x) + 1) at x = 1e6, as 0: NaN from x = 710.
        ("asinh(exp(x))", 1000.0, 1.0),
        # The log-space fallback took log|exp(4x)|, which overflows: 0 from x = 178.
        ("sin(asinh(exp(2*x)))", 200.0, 0.279252283294255),
        # SymPy's cbrt is the principal root, complex for x < 0: NaN there.
        ("cbrt(x)", -8.0, 1 / 12),
    ],
)
def test_derivatives_past_an_exponentials_overflow_and_of_a_negative_cube_root(
    expression, at, truth
):
    assert _grad(codegen.activation(expression), 0, at) == pytest.approx(truth, rel=1e-9)


def test_the_cube_root_of_a_cube_is_its_base():
    # cbrt((2x**2)**3) is 2x**2, whose third derivative is 0: through cbrt's
    # chain rule it was 3e-13 of rounding at x = 0.124.
    f = codegen.activation("cbrt((2*x**2)**3)")
    with jax.enable_x64(True):
        assert float(jax.grad(f)(0.123978)) == 4 * 0.123978
        assert float(jax.grad(jax.grad(jax.grad(f)))(0.123978)) == 0.0


def test_an_algebraic_derivative_is_taken_as_one_fraction_where_its_terms_cancel():
    # pflu'' summed terms in x**4 that cancel: 0 in float32 from x = 2600.
    # As one fraction, it is (2 - x**2)/(2(x**2 + 1)**(5/2)).
    second = jax.grad(jax.grad(codegen.activation("x*(1 + x/sqrt(1 + x**2))/2")))
    assert float(second(jnp.float32(2652.9485))) == pytest.approx(-2.67783168e-11, rel=1e-5, abs=0)


def test_a_stable_form_that_breaks_where_its_tail_mends_it_is_scored_as_mended():
    # TanhExp'' as -4 sigmoid(2u) sigmoid(-2u) terms, u = exp(x), is inf * 0
    # past x = 44, where its tail returns 0; scored bare, it lost to
    # tanh(u)**2 - 1, which cancels: 183 ulps near x = 1 in float32.
    second = jax.grad(jax.grad(codegen.activation("x*tanh(exp(x))")))
    assert float(second(jnp.float32(1.0))) == pytest.approx(-0.11215119, rel=1e-6, abs=0)
    assert float(second(jnp.float32(60.0))) == 0.0


def test_a_term_that_breaks_where_it_vanishes_is_zero_there():
    # u'/(1 + u**2) with u = x - exp(7x) is inf/inf past x = 101 in float64,
    # though it tends to 0: f' and f'' were NaN, where the sum is pi/(2x**2)-like.
    f = codegen.activation("atan(x - exp(k*x))/(1 + Abs(x + k))", k=7.0)
    assert _grad(f, 0, 200.0, 7.0) == pytest.approx(3.630723758e-05, rel=1e-9, abs=0)
    with jax.enable_x64(True):
        second = float(jax.grad(jax.grad(f))(200.0, 7.0))
    assert second == pytest.approx(-3.491080537e-07, rel=1e-9, abs=0)


def test_the_closed_form_order_is_an_option_in_memory_too():
    with pytest.raises(SpecError, match="closed_form_order"):
        codegen.activation("tanh(x)", closed_form_order=9)
    f = codegen.activation("tanh(x)", closed_form_order=1)
    with jax.enable_x64(True):
        third = jax.grad(jax.grad(jax.grad(f)))(0.5)  # past the closed forms: autodiff
    assert float(third) == pytest.approx(-0.5652092882597704, rel=1e-9)


def test_a_parameters_partial_differentiated_in_x_is_the_next_closed_form():
    # It was autodiff of the partial's own stable form, which cancelled here:
    # 1.56e-14, twice the truth. Soft clipping's was NaN at x = -3.
    f = codegen.activation("a*tanh(x/a)", a=2.0)
    with jax.enable_x64(True):
        mixed = jax.grad(lambda x: jax.grad(f, 1)(x, 0.2))(3.912)
        other_order = jax.grad(lambda a: jax.grad(f)(3.912, a))(0.2)
    assert float(mixed) == pytest.approx(8.01361935540e-15, rel=1e-9)
    assert float(mixed) == float(other_order)


@pytest.mark.xdist_group("soft_clip")  # one build of it, on one worker
@pytest.mark.parametrize(
    ("expression", "default", "x", "a", "dtype", "truth"),
    [
        # Autodiff of d/da's stable form: NaN at every x in float32, from its
        # branch for a < 0, whose exp(a) overflows at a = 50.
        ("log((1 + exp(a*x))/(1 + exp(a*(x - 1))))/a", 50.0, -0.5, 50.0, jnp.float32, 7.52171e-14),
        # ... and twice the truth here, in float64.
        ("a*tanh(x/a)", 2.0, 3.912, 0.2, jnp.float64, -1.56746394592e-13),
    ],
)
def test_a_second_derivative_in_a_parameter_is_its_closed_form(
    expression, default, x, a, dtype, truth
):
    # Order 1 for soft clipping, whose build to order 3 takes twice as long:
    # the second partials are the value's, at any order.
    options = {"closed_form_order": 1} if dtype == jnp.float32 else {}
    f = codegen.activation(expression, **options, a=default)
    with jax.enable_x64(dtype == jnp.float64):
        second = jax.grad(jax.grad(f, 1), 1)(dtype(x), dtype(a))
        hessian = jax.hessian(f, 1)(dtype(x), dtype(a))
    assert float(second) == pytest.approx(truth, rel=1e-5 if dtype == jnp.float32 else 1e-9)
    assert float(hessian) == float(second)


@pytest.mark.xdist_group("soft_clip")
@pytest.mark.parametrize(
    ("x", "truth"), [(1.0, 6.654212933375475e-07), (-0.5, -3.923288589871956e-14)]
)
def test_a_third_derivative_in_a_parameter_past_the_closed_forms_is_finite(x, truth):
    # Reverse mode through d2/da2's closed form was NaN at every x: a branch
    # not taken divides by 1 + expm1(-a)/(1 + exp(-a*x)), which is 0 at a = 50.
    f = codegen.activation(
        "log((1 + exp(a*x))/(1 + exp(a*(x - 1))))/a", closed_form_order=1, a=50.0
    )
    third = jax.grad(jax.grad(jax.grad(f, 1), 1), 1)(jnp.float32(x), jnp.float32(50.0))
    assert float(third) == pytest.approx(truth, rel=1e-5)


@pytest.mark.xdist_group("soft_clip")
def test_soft_clip_is_accurate_at_a_small_sharpness():
    text = "log((1 + exp(a*x))/(1 + exp(a*(x - 1))))/a"
    f = codegen.activation(text, closed_form_order=1, a=50.0)  # as above: values only
    x, a = sp.symbols("x a", real=True)
    xs = np.linspace(5.0, 15.0, 11)
    exact = exact_values(
        sp.log((1 + sp.exp(a * x)) / (1 + sp.exp(a * (x - 1)))).subs(a, 0.02) / 0.02, x, xs
    )
    with jax.enable_x64(True):
        np.testing.assert_allclose(f(xs, 0.02), exact, rtol=1e-9)


@pytest.mark.parametrize("name", ["mish", "gelu", "silu", "softplus", "elu", "squareplus"])
def test_higher_derivatives_accept_python_floats(name):
    f = getattr(generated, name)
    assert np.isfinite(jax.hessian(f)(1.0))
    assert np.isfinite(jax.grad(jax.grad(jax.grad(f)))(1.0))
    assert np.isfinite(jax.jacfwd(jax.jacrev(f))(np.float32(1.0)))


def test_a_pole_gives_inf_not_an_exception():
    f = codegen.activation("x/(x - 3)")
    assert np.isinf(f(3.0)) and np.isinf(jax.grad(f)(3.0))


def test_second_order_reverse_mode_has_no_nan_past_exp_overflow():
    for f in (generated.elu, generated.celu, generated.selu):
        assert jax.grad(jax.grad(f))(100.0) == 0.0
        assert np.isfinite(jax.grad(jax.grad(jax.grad(f)))(1e4))


def test_mish_at_minus_infinity_agrees_with_its_derivative():
    assert generated.mish(-jnp.inf) == 0.0 and jax.grad(generated.mish)(-jnp.inf) == 0.0
    assert np.isnan(generated.mish(jnp.nan))  # NaN still propagates


@pytest.mark.parametrize(
    ("expression", "domain"), [("sqrt(x)", (0.0, np.inf)), ("log(x)", (0.0, np.inf))]
)
def test_a_formula_real_on_a_half_line_gets_that_domain(expression, domain, tmp_path, capsys):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "half.toml").write_text(f'summary = "s"\nexpression = "{expression}"\n')
    assert main(["--root", str(tmp_path), "--no-cache"]) == 0
    assert "real only on [0, inf]" in capsys.readouterr().out
    assert codegen.activation(expression)(4.0) > 0


def test_a_formula_with_an_isolated_pole_builds():
    assert codegen.activation("1/x")(2.0) == 0.5


def test_a_sigmoid_is_real_wherever_its_argument_is():
    # As 1/(1 + exp(-u)), SymPy took more than the 45 s budget to find where
    # this is real, and the build was refused in its domain stage.
    f = codegen.activation("sigmoid((x + k)*(x/2) + sqrt(1 + x**2))", k=3.0)
    assert float(f(0.0, 3.0)) == pytest.approx(0.7310585786)


def test_a_formula_real_on_two_pieces_is_refused_with_a_hint():
    with pytest.raises(SpecError, match=r"real only on .*domain = \[low, high\]"):
        codegen.activation("sqrt(x**2 - 1)")


@pytest.mark.parametrize("param", ["dtype", "cast", "x_dot", "dy_dx", "horner", "sum"])
def test_a_parameter_may_not_shadow_the_generated_code(param):
    with pytest.raises(SpecError, match=f"params.{param}"):
        codegen.activation(f"x*{param}", **{param: 1.0})


@pytest.mark.parametrize("name", ["cast", "widen", "jnp", "lax", "linen", "nnx", "support", "sum"])
def test_an_activation_may_not_shadow_the_package(name):
    with pytest.raises(SpecError, match="field 'name'"):
        codegen.activation("x*sigmoid(x)", name=name)


def test_a_traceback_needs_debug(tmp_path, capsys):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "slow.toml").write_text('summary = "s"\nexpression = "tanh(tanh(x))"\n')
    assert main(["--root", str(tmp_path), "--budget", "0.01"]) == 2
    err = capsys.readouterr().err
    assert "specs/slow.toml" in err and "Traceback" not in err and "Nothing was written" in err


def test_tanh_squared_minus_one_does_not_cancel_at_a_large_parameter():
    # f'' holds tanh(k*x)**2 - 1, which at k = 100, x = 0.124 is 1 - 1 in any
    # precision: off by 1.6e-7 of f'' in float64.  -4 sigmoid(2u) sigmoid(-2u) is not.
    formula = "log1p((x + k)**2)/(1 + Abs(erf(k*x)))/(1 + Abs(tanh(k*x)))"
    f = codegen.activation(formula, seconds=600, k=1.0)
    x, k = sp.symbols("x k", real=True)
    exact = sp.diff(parse_expression(formula, {"x": x, "k": k}), x, 2).subs(k, 100)
    (truth,) = exact_values(exact, x, np.array([0.123978]))
    with jax.enable_x64(True):
        got = float(jax.grad(jax.grad(f))(0.123978, 100.0))
    assert got == pytest.approx(truth, rel=1e-12)


@pytest.mark.parametrize("expression", ["(k*x) + (x + k)", "k - (k + 1)*x"])
def test_a_derivative_that_is_a_sum_multiplies_the_whole_tangent(expression):
    # The rule read `lambda g, ans, x, k: k + 1 * g`: right only for g = 1.
    f = codegen.activation(expression, k=0.5)
    slope = 1.5 if expression.startswith("(") else -1.5
    _, tangent = jax.jvp(f, (jnp.float32(2.0),), (jnp.float32(4.0),))
    assert tangent == 4 * slope
    assert jax.vjp(f, jnp.float32(2.0))[1](jnp.float32(3.0))[0] == 3 * slope


def test_tanh_of_a_scaled_input_keeps_its_third_derivative_accurate():
    # The form search scored every form NaN at a parameter's exact samples
    # (p*x/q with p and q past float32's range), and so kept tanh(k*x)**2 - 1,
    # which cancels: 0.9% off at k*x = 6 in float32.
    f = codegen.activation("tanh(k*x)", k=0.5)
    x, k = sp.symbols("x k", real=True)
    exact = sp.diff(sp.tanh(k * x), x, 3).subs(k, sp.Rational(1, 2))
    (truth,) = exact_values(exact, x, np.array([12.0]))
    got = float(jax.grad(jax.grad(jax.grad(f)))(jnp.float32(12.0)))
    assert got == pytest.approx(truth, rel=1e-5)


@pytest.mark.parametrize("order", [1, 2])
def test_a_gated_formula_with_a_parameter_calls_its_gates_derivative_in_x(order):
    # d/dx of g(x)*gate called g's partial in k, which comes between g's
    # kernels in x: gate*x at x = -1000 for Max(k*x, x + k)*gate at k = 1/2,
    # where the truth is gate*k.
    f = codegen.activation("Max(k*x, x + k)*gate", inputs=("x", "gate"), k=0.5)
    derivative = lambda x: f(x, -2.0)  # noqa: E731
    for _ in range(order):
        derivative = jax.grad(derivative)
    assert derivative(-1000.0) == (-1.0 if order == 1 else 0.0)


def test_a_build_prints_no_numpy_warnings(tmp_path, monkeypatch):
    # The residual policy's local scale took nanmax of an all-NaN window and
    # cast a value past float32's range: two RuntimeWarnings for the user.
    monkeypatch.setenv("SYMJVP_CACHE", str(tmp_path))  # analysed, not read back
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = codegen.activation("exp(softplus(k*x))", k=3.0)
    assert float(f(0.0)) == pytest.approx(2.0)
