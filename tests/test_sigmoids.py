"""Sigmoids in derivatives: exponentials as sigmoids, and polynomials in a
sigmoid factored where they vanish (codegen/analysis/sigmoids.py)."""

import jax
import jax.numpy as jnp
import pytest
import sympy as sp

import codegen
from codegen.analysis.stabilise import stabilise
from codegen.numerics.primitives import sigmoid

x = sp.Symbol("x", real=True)
c, d = sp.symbols("c d", positive=True)


@pytest.mark.parametrize(
    ("formula", "stable"),
    [
        # A whole power of a sigmoid, as written by the quotient rule.
        (sp.exp(4 * x) / (sp.exp(2 * x) + 1) ** 2, sigmoid(2 * x) ** 2),
        # exp(x)*sqrt(sigmoid(-2x)): inf * 0 past x = 89 in float32.
        (sp.exp(x) * sp.sqrt(sigmoid(-2 * x)), sp.sqrt(sigmoid(2 * x))),
        # c*(s**(3/2) - sqrt(s)) beside a term that does not vanish at s = 1.
        (
            c * sigmoid(2 * x) ** sp.Rational(3, 2)
            - c * sp.sqrt(sigmoid(2 * x))
            + d * sigmoid(2 * x),
            -c * sp.sqrt(sigmoid(2 * x)) * sigmoid(-2 * x) + d * sigmoid(2 * x),
        ),
    ],
)
def test_stabilise_writes_sigmoids_where_they_stay_finite(formula, stable):
    assert stabilise(formula) == stable


@pytest.mark.slow  # builds a formula
def test_a_polynomial_in_a_sigmoid_is_factored_where_it_vanishes():
    # asinh(exp(x))''' is sqrt(s)(1 - 4s + 3s**2) with s = sigmoid(2x), which
    # cancelled: 4.8e-7 in float32 at x = 10, where the truth is -4.1e-9.
    third = jax.grad(jax.grad(jax.grad(codegen.activation("asinh(exp(x))"))))
    assert float(third(jnp.float32(10.0))) == pytest.approx(-4.1223072e-09, rel=1e-5, abs=0)


@pytest.mark.slow  # builds a formula
def test_a_whole_power_of_a_sigmoid_is_one_and_its_polynomial_is_factored():
    # In the third derivative of sqrt(1 + x**2)*asinh(exp(x)), sigmoid(2x)**2
    # stayed exp(4x)/(exp(2x) + 1)**2, so 1 - 4s + 3s**2 was not factored:
    # NaN in float32 from x = 40, where exp(4x) overflows, and in float64 from 178.
    third = jax.grad(jax.grad(jax.grad(codegen.activation("sqrt(1 + x**2)*asinh(exp(x))"))))
    assert float(third(jnp.float32(60.0))) == pytest.approx(-1.56484019e-07, rel=1e-4)
    with jax.enable_x64(True):
        assert float(third(1000.0)) == pytest.approx(-2.07643635e-12, rel=1e-8)


@pytest.mark.slow  # builds a formula
def test_an_exponential_outside_a_sum_of_sigmoid_terms_is_taken_into_it():
    # f'' held (c*sqrt(s-)*s - c*sqrt(s-) + ...)*exp(x), with s = sigmoid(2x)
    # and s- = sigmoid(-2x): inf * 0 in float32 from x = 89 (as in the drawn
    # sqrt(1 + (x + k)**2)/(1 + Abs(asinh(exp(x))))).  Distributed, exp(x)*sqrt(s-)
    # is sqrt(s), and c*(s**(3/2) - sqrt(s)) is -c*sqrt(s)*s-.
    f = codegen.activation("sqrt(1 + x**2)/(1 + asinh(exp(x)))")
    second = jax.grad(jax.grad(f))
    assert float(second(jnp.float32(100.0))) == pytest.approx(-3.19094419e-06, rel=1e-4)
    with jax.enable_x64(True):
        assert float(jax.grad(second)(200.0)) == pytest.approx(6.10205199e-09, rel=1e-8)
