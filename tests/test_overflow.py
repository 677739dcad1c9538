"""Defects of overflow and tails found by unseen specs (issue 13): a formula
that overflows part-way, or near the largest float, keeps its value, its
limits and its derivatives finite and right.  Each test failed before its fix."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import codegen
import generated
from codegen.numerics.evaluate import exact_values
from codegen.spec.parse import parse_expression

pytestmark = pytest.mark.slow  # builds formulas from scratch


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("log(exp(-x) + exp(x))", [200.0, 200.0]),
        ("log(2 + exp(x))", [np.log(2), 200.0]),
        ("log(exp(x) + exp(2*x))", [-200.0, 400.0]),
    ],
)
def test_a_log_of_a_sum_of_exponentials_does_not_overflow(expression, expected):
    f = codegen.activation(expression)
    np.testing.assert_allclose(f(jnp.float32([-200.0, 200.0])), expected, rtol=1e-6)
    assert np.isfinite(jax.vmap(jax.grad(f))(jnp.float32([-200.0, 200.0]))).all()


def test_log_cosh_does_not_overflow():
    f = codegen.activation("log(cosh(x))")
    np.testing.assert_allclose(f(jnp.float32([100.0, -1e4])), [100 - np.log(2), 1e4 - np.log(2)])
    assert jax.grad(f)(1e4) == 1.0


@pytest.mark.parametrize(
    "expression",
    [
        "sigmoid(x + 1) - sigmoid(x - 1)",
        "softplus(x) - softplus(x - 1)",
        "tanh(x + 1) - tanh(x - 1)",
        "log((1 + exp(2*x))/(1 + exp(2*(x - 1))))/2",
    ],
)
def test_differences_keep_their_tails(expression):
    f = codegen.activation(expression)
    x = sp.Symbol("x", real=True)
    points = np.float32([-40.0, -25.0, -3.0, 0.5, 3.0, 25.0, 40.0])
    exact = exact_values(parse_expression(expression, {"x": x}), x, points, digits=60)
    np.testing.assert_allclose(f(points), exact, rtol=1e-5)


@pytest.mark.parametrize(
    ("dtype", "k", "xs"),
    [
        (jnp.float32, 1.0, [20.0, 50.0, 80.0]),
        (jnp.float32, 0.5, [100.0, 150.0]),
        (jnp.float64, 1.0, [400.0, 700.0]),
    ],
)
def test_a_product_that_overflows_and_underflows_is_taken_in_log_space(dtype, k, xs):
    # The third derivative holds exp(2kx) * sigmoid(-exp(kx)): inf * 0 where
    # the truth, about k**3 exp(kx), is finite.
    f = codegen.activation("softplus(exp(k*x))", k=1.0)
    x, s = sp.Symbol("x", real=True), sp.Symbol("k", real=True)
    third = sp.diff(parse_expression("softplus(exp(k*x))", {"x": x, "k": s}), x, 3)
    exact = exact_values(third.subs(s, sp.Rational(k)), x, np.asarray(xs))
    with jax.enable_x64(dtype == jnp.float64):
        d3 = jax.vmap(jax.grad(jax.grad(jax.grad(f))), (0, None))(jnp.asarray(xs, dtype), k)
    np.testing.assert_allclose(np.asarray(d3, np.float64), exact, rtol=1e-4)


@pytest.mark.parametrize(
    ("expression", "k", "x", "truth"),
    [
        # Brought over one denominator, (1 + k**2 x**2)**2 overflows: inf/inf.
        ("Max(atan(k*x), (x/2)*(k*x))", 0.01, 1e100, 0.01),
        ("Max(atan(k*x), (x/2)*(k*x))", 100.0, -1e100, 100.0),
        ("atan(k*x)/(1 + Abs(x/2))", 3.0, 1e100, 6.283185307e-300),
        # exp(x) * (tanh(exp(x/2))**2 - 1) is inf * 0: in log space it is not.
        ("tanh(exp(x/2)) + log1p(k*x**2)", 1.0, 1e3, -1.999994e-06),
        # (u')**2 * sigmoid(u) * sigmoid(-u) with u = k*x**3/4: inf * 0. In log
        # space the powers join the exponent: exp(2*log|u'| - softplus(u) - ...).
        ("softplus((x/2)*(k*x)*sqrt(1 + (x/2)**2))", 3.0, 1e100, 4.5e100),
        ("softplus((x/2)*(k*x)*sqrt(1 + (x/2)**2))", 0.03, -1e77, 4.5e75),
    ],
)
def test_second_derivatives_stay_finite_where_a_form_overflows(expression, k, x, truth):
    f = codegen.activation(expression, k=1.0)
    with jax.enable_x64(True):
        got = jax.grad(jax.grad(f))(jnp.float64(x), k)
    assert float(got) == pytest.approx(truth, rel=1e-6)


def test_a_product_of_tanh_terms_is_taken_in_log_space_in_float32():
    f = codegen.activation("tanh(exp(x/2)) + log1p(k*x**2)", k=1.0)
    got = jax.vmap(jax.grad(jax.grad(f)), (0, None))(jnp.float32([100.0, 200.0]), 1.0)
    np.testing.assert_allclose(got, [-1.9994e-04, -4.99963e-05], rtol=1e-4)
    g = codegen.activation("softplus((x/2)*(k*x)*sqrt(1 + (x/2)**2))", k=3.0)
    got = jax.vmap(jax.grad(jax.grad(g)), (0, None))(jnp.float32([1e10, -1e13]), 3.0)
    np.testing.assert_allclose(got, [4.5e10, 4.5e13], rtol=1e-5)


@pytest.mark.parametrize(
    ("dtype", "xs", "truth"),
    [
        (
            jnp.float32,
            [1e10, 1e20, -1e30],
            [[98.1034, 190.20681, 282.31021], [4e-10, 4e-20, -4e-30]],
        ),
        (
            jnp.float64,
            [1e80, 1e200, -1e300],
            [[742.82723, 1848.06807, 2769.10211], [4e-80, 4e-200, -4e-300]],
        ),
    ],
)
def test_a_ratio_whose_terms_overflow_is_not_silently_zero(dtype, xs, truth):
    # x**2*(x + k)**2/((x + k)**2 + 1)**2 as x**2*(x + k)**2*r**2, r = 1/(...),
    # gave 0 past the overflow of (x + k)**4, and f'' was off by 4k.
    f = codegen.activation("k*x**2*log1p((x + k)**2) + atan(k*x)", k=1.0)
    with jax.enable_x64(dtype == jnp.float64):
        d2 = jax.vmap(jax.grad(jax.grad(f)), (0, None))(jnp.asarray(xs, dtype), 1.0)
        d3 = jax.vmap(jax.grad(jax.grad(jax.grad(f))), (0, None))(jnp.asarray(xs, dtype), 1.0)
    np.testing.assert_allclose(np.asarray(d2, np.float64), truth[0], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(d3, np.float64), truth[1], rtol=1e-5)


def test_a_log_of_a_quadratic_that_overflows_stays_finite_in_log_space():
    # log|x**2 + 4| is 2 log|x| + log1p(4/x**2): as log|x**2 + 4| it was inf
    # past 1.8e19 in float32, and f' there 1% off, or NaN.
    f = codegen.activation("(x**2/2)/(1 + log1p(x**2/4))*tanh(x + k)", k=1.0)
    d1 = jax.vmap(jax.grad(f), (0, None))(jnp.float32([-1e20, 1e30]), 1.0)
    np.testing.assert_allclose(d1, [1.07842137e18, 7.20585054e27], rtol=1e-5)
    with jax.enable_x64(True):
        d2 = jax.vmap(jax.grad(jax.grad(f)), (0, None))(jnp.float64([-1e100, 1e200]), 1.0)
    np.testing.assert_allclose(d2, [-0.00215917, 0.00108266], rtol=1e-5)


def test_a_third_derivative_that_decays_as_a_power_is_not_nan_far_out():
    # (tanh**2 - 1)*x**4 is 0 * inf there. The tail's limit, 0, was refused:
    # the truth at the largest float32 and float64 are different subnormals.
    f = codegen.activation("(x**2/2)/(1 + log1p(x**2/4))*tanh(x + k)", k=1.0)
    d3 = jax.vmap(jax.grad(jax.grad(jax.grad(f))), (0, None))
    # The tail starts where the truth is below an ulp of f'''s scale, about 1.
    got = d3(jnp.float32([1e10, -1e20, 1e30]), 1.0)
    np.testing.assert_allclose(got, [-8.38586e-14, -2.2254e-24, 0.0], atol=1e-12)
    with jax.enable_x64(True):
        got = d3(jnp.float64([1e100, -1e250]), 1.0)
    np.testing.assert_allclose(got, [-9.32378221e-106, -1.502e-256], atol=1e-15)


@pytest.mark.parametrize(
    ("k", "values", "slopes"),
    [
        (1.0, [0.0, np.inf], [0.0, 1.0]),
        (0.01, [0.0, np.inf], [0.0, 1.0]),
        (-1.0, [-np.inf, 0.0], [1.0, 0.0]),
    ],
)
def test_a_limit_that_depends_on_a_parameters_sign_is_kept(k, values, slopes):
    # x*sigmoid(k*x) is inf * 0 at one infinity; its slope there tends to 1
    # for k > 0 and 0 for k < 0. Both tails were dropped, and gave NaN.
    f = codegen.activation("x*sigmoid(k*x)", k=1.0)
    xs = jnp.float32([-np.inf, np.inf])
    np.testing.assert_array_equal(jax.vmap(f, (0, None))(xs, k), values)
    np.testing.assert_array_equal(jax.vmap(jax.grad(f), (0, None))(xs, k), slopes)
    # At k = 0 the formula is x/2, whose slope is 1/2 at both infinities,
    # and which grows without bound: inf * sigmoid(0 * inf) was NaN.
    np.testing.assert_array_equal(jax.vmap(jax.grad(f), (0, None))(xs, 0.0), [0.5, 0.5])
    np.testing.assert_array_equal(jax.vmap(f, (0, None))(xs, 0.0), [-np.inf, np.inf])


def test_leaky_relu_with_a_zero_slope_is_zero_at_minus_infinity():
    # 0 * -inf is NaN; the function is 0 for every x < 0.
    assert float(generated.leaky_relu(-np.inf, 0.0)) == 0.0
    assert float(generated.leaky_relu(-np.inf, 0.5)) == -np.inf
    assert float(generated.leaky_relu(-np.inf, -0.5)) == np.inf


def test_a_tail_does_not_mask_where_the_formula_is_not_real():
    # squareplus with b < 0 is not real for |x| < sqrt(-b). That break was
    # taken for the start of a tail, and its derivative there was 0.
    assert np.isnan(jax.grad(generated.squareplus)(-1.5, -4.0))
    assert float(jax.grad(generated.squareplus)(-3.0, -4.0)) == pytest.approx((1 - 3 / 5**0.5) / 2)


def test_a_max_of_three_that_tie_in_floating_point_has_the_right_slope():
    # At 1e10 the three round alike; each of them took Heaviside(0) = 1/2.
    f = codegen.activation("Max(sqrt(1 + softplus(x/2)**2), softplus(x/2), x/2)")
    assert float(jax.grad(f)(1e10)) == 0.5


def test_squareplus_mixed_second_derivative_is_finite_far_out():
    d2 = jax.vmap(jax.grad(jax.grad(generated.squareplus), 1), (0, None))
    got = d2(jnp.float32([1e10, 1e20, 1e30, -1e20]), 4.0)
    np.testing.assert_allclose(got, [-2.5e-21, 0.0, 0.0, 0.0], rtol=1e-5, atol=1e-38)


def test_a_formula_sympy_cannot_solve_for_its_domain_keeps_the_real_line():
    # continuous_domain left tanh(x + k) + 1 = 0 unsolved: it has no real root.
    f = codegen.activation("tanh(x + k)/(1 + Abs(tanh(x + k)))", k=0.5)
    assert float(f(-40.0, 0.5)) == pytest.approx(-0.5)


def test_log1p_of_a_square_does_not_overflow():
    f = codegen.activation("log1p(((x/2)*(x + k))**2)", k=3.0)
    np.testing.assert_allclose(f(jnp.float32([1e10, -1e10]), 3.0), [90.71711, 90.71711])
    with jax.enable_x64(True):
        np.testing.assert_allclose(f(jnp.float64([1e100]), 3.0), [919.6477428], rtol=1e-9)


def test_a_quotient_whose_denominator_overflows_is_not_silently_zero():
    # f' = M*M'/sqrt(M**2 + 1): M**2 is inf at x = 1e10 in float32, and
    # 1e20*2e10/inf is 0, finite; the value, sqrt(inf), is inf.
    f = codegen.activation("sqrt(1 + (Max(sigmoid(x/2), x*(x + k)))**2)", k=3.0)
    xs = jnp.float32([1e10, -1e10, 0.0])
    np.testing.assert_allclose(f(xs, 3.0), [1e20, 1e20, 1.1180340], rtol=1e-5)
    got = jax.vmap(jax.grad(f), (0, None))(xs, 3.0)
    np.testing.assert_allclose(got, [2e10, -2e10, 0.0559017], rtol=1e-5)


@pytest.mark.parametrize(
    ("kernel", "point", "limit"),
    [
        # Each breaks between two far points of the tails' grid, 4 a decade:
        # the regime started at the broken one, and left NaN before it.
        (generated._squareplus._squareplus_d1, 2e19, 1.0),  # x**2 is inf from 1.8e19
        (generated._gelu._gelu_approximate_d1, 9.8e12, 1.0),  # x**3 from 7e12
        (generated._mish._mish_d2, 5e37, 0.0),
        (generated._silu._silu_d3, 2e38, 0.0),
    ],
)
def test_a_closed_form_that_breaks_between_far_points_returns_its_limit(kernel, point, limit):
    assert kernel(jnp.float32(point)) == limit


@pytest.mark.parametrize(
    ("formula", "dtype", "xs"),
    [
        ("atan(log1p(x**4)/100)", jnp.float32, [1e5, 1e10, -1e30]),
        ("atan(log1p(x**4)/100)", jnp.float64, [1e5, 1e100, -1e300]),
        ("atan(log1p(((Max(2*x, -x)/(1 + Abs(x)))*x)**2))", jnp.float32, [-1e12, 1e20]),
        ("atan(log1p(((Max(2*x, -x)/(1 + Abs(x)))*x)**2))", jnp.float64, [1e100, -1e200]),
    ],
)
def test_a_closed_form_that_is_finite_but_wrong_far_out_gives_way_to_log_space(formula, dtype, xs):
    # log1p(inf) is inf, and atan(inf) a finite pi/2: no check on inf or NaN
    # saw it. atan(log1p(x**4)/100) at 1e10 is 0.744, not 1.571.
    f = codegen.activation(formula)
    x = sp.Symbol("x", real=True)
    truth = exact_values(parse_expression(formula, {"x": x}), x, np.array(xs))
    with jax.enable_x64(dtype == jnp.float64):
        got = jax.vmap(f)(jnp.asarray(xs, dtype))
    np.testing.assert_allclose(np.asarray(got, np.float64), truth, rtol=1e-6)


def test_a_power_of_expm1_is_taken_in_log_space():
    # log1p(expm1(2x)**2) overflowed from x = 44 in float32 and 177 in
    # float64; its log is 2 max(2x, 0) + 2 log|expm1(-2|x|)| + log1p(...).
    f = codegen.activation("cbrt(log1p(expm1(2*x)**2))")
    np.testing.assert_allclose(f(jnp.float32(100.0)), 400 ** (1 / 3), rtol=1e-6)
    with jax.enable_x64(True):
        got = jax.vmap(jax.value_and_grad(f))(jnp.float64([1e3, 1e5]))
    np.testing.assert_allclose(got[0], np.cbrt([4e3, 4e5]), rtol=1e-12)
    np.testing.assert_allclose(got[1], [0.005291336839, 0.0002456020999], rtol=1e-9)


def test_a_ratio_of_sums_with_exponentials_falls_back_to_one_exponential():
    # inf/inf from x = 89 in float32: no log space for the log of a sum, but
    # in exp(-|x|) the value is 1/(x + x**2*exp(-x)) there.
    # f' was 0 there, from x = 85: log space mended only a few of its points.
    f = codegen.activation("exp(x)/(x*exp(x) + x**2)", closed_form_order=1)
    x, xs = sp.Symbol("x", real=True), jnp.float32([100.0, 1e5, 1e30, -3.0])
    same = 1 / (x + x**2 * sp.exp(-x))
    np.testing.assert_allclose(f(xs), exact_values(same, x, np.float64(xs)), rtol=1e-6)
    slopes = np.float32(exact_values(sp.diff(same, x), x, np.float64(xs)))  # 1e-60 is 0
    np.testing.assert_allclose(jax.vmap(jax.grad(f))(xs), slopes, rtol=1e-6)


def test_an_indicator_times_an_exponential_is_0_where_the_indicator_is():
    # d/dk exp(Min(x + k, x)) is exp(x)*Heaviside(-k): 0 * inf, NaN, from x = 89.
    f = codegen.activation("exp(Min(x + k, x))", k=0.5)
    xs = jnp.float32([100.0, 1e5, 1.0])
    np.testing.assert_array_equal(jax.vmap(jax.grad(f, 1), (0, None))(xs, 0.5), [0, 0, 0])
    slopes = jax.vmap(jax.grad(f, 1), (0, None))(xs, -0.5)  # exp(x + k) where k < 0
    np.testing.assert_allclose(slopes, [np.inf, np.inf, np.exp(0.5)], rtol=1e-6)
