"""A formula rational in exp(x) computed from the one exponential exp(-|x|):
mish' from one transcendental where it took five, as accurate, finite
wherever the formula as written is."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import generated
from codegen.analysis.exponential import breaks_no_more, in_one_exponential
from codegen.analysis.lower import lower
from codegen.analysis.model import Context
from codegen.analysis.search import as_accurate
from codegen.numerics.evaluate import exact_values, float32_values, sample_points, ulp_errors
from codegen.numerics.primitives import reciprocal, sigmoid, softplus
from codegen.tools.memory import cost

x = sp.Symbol("x", real=True)
k = sp.Symbol("k", real=True)
MISH = x * sp.tanh(softplus(x))
MISH_D1 = 4 * x * sigmoid(x) * sigmoid(-2 * softplus(x)) * sigmoid(2 * softplus(x)) + sp.tanh(
    softplus(x)
)
CALLS = (sp.exp, sp.log, sp.tanh, sigmoid, softplus)


@pytest.mark.parametrize("formula", [MISH, MISH_D1, sp.tanh(softplus(x)) + sigmoid(x)])
def test_a_rational_function_of_exp_x_becomes_one_exponential_and_one_division(formula):
    cheaper = in_one_exponential(formula, x)
    assert cheaper.atoms(*CALLS) == {sp.exp(-sp.Abs(x))}
    points = sample_points((-np.inf, np.inf))
    exact = exact_values(formula, x, points)
    worst = [
        ulp_errors(float32_values(lower(f, x, {}), x, points), exact).max()
        for f in (cheaper, formula)
    ]
    # As the search scores it (as_accurate): the model's primitives are 1.5 ulps out,
    # so the worst of two forms differs by an ulp or two.
    assert worst[0] <= max(4.0, 1.5 * worst[1])


@pytest.mark.parametrize(
    "formula",
    [
        x * sigmoid(x),  # one exponential already
        sigmoid(x) * sigmoid(-x) + x,  # the same, as lowering computes it
        sp.tanh(x / 3) * sigmoid(x),  # exp(2x/3) is no power of exp(x)
        sp.tanh(x) * sigmoid(x) + sp.exp(-x),  # one exp(-|x|) and one exp(-2|x|)
        sp.tanh(k * x) * sigmoid(x),  # nor is exp(k*x)
        sp.exp(-(x**2)) * sigmoid(x),
        softplus(x) * sigmoid(x),  # log(1 + exp(x)) is not rational
    ],
)
def test_other_formulas_are_left_as_they_are(formula):
    assert in_one_exponential(formula, x) is None


def test_a_form_that_cancels_where_the_formula_does_not_is_not_as_accurate():
    # tanh(x/2) = (1 - e)/(1 + e) for x >= 0: 1 - e cancels near 0.
    formula = x * sp.tanh(x / 2) * sigmoid(x)
    context = Context(x, (), (-np.inf, np.inf))
    assert not as_accurate(in_one_exponential(formula, x), formula, context, ulps=4.0)
    assert as_accurate(in_one_exponential(MISH_D1, x), MISH_D1, context, ulps=4.0)


def test_the_polynomials_clamp_x_so_that_4x_never_meets_a_zero_exponential():
    # Unclamped, 4x in mish''s polynomial is inf past 8.5e37 in float32,
    # where exp(-|x|) is 0: inf * 0 is NaN, where the formula gives 1.
    cheaper = in_one_exponential(MISH_D1, x)
    context = Context(x, (), (-np.inf, np.inf))
    assert breaks_no_more(cheaper, MISH_D1, context)
    far = np.array([-np.inf, -3e38, -9e37, 9e37, 3e38, np.inf], np.float32)
    assert np.array_equal(float32_values(lower(cheaper, x, {}), x, far), [0, 0, 0, 1, 1, 1])


def test_a_form_that_breaks_where_the_formula_does_not_is_refused():
    context = Context(x, (), (0.0, np.inf))
    # x/x is inf/inf at infinity, where exp(-x) is 0.
    assert not breaks_no_more(sp.exp(-x) * x * reciprocal(x), sp.exp(-x), context)
    assert breaks_no_more(sp.exp(-x) * 2 * reciprocal(2), sp.exp(-x), context)


def test_generated_mish_derivative_takes_one_transcendental_and_matches_autodiff():
    mish_d1 = generated._mish._mish_d1
    xs = jnp.linspace(-30.0, 30.0, 4096)
    assert cost(mish_d1, xs)["transcendentals"] == 1
    with jax.enable_x64(True):
        wide = np.linspace(-30.0, 30.0, 601)
        autodiff = jax.vmap(jax.grad(lambda v: v * jnp.tanh(jax.nn.softplus(v))))(wide)
        np.testing.assert_allclose(mish_d1(wide), autodiff, rtol=1e-12, atol=1e-15)
