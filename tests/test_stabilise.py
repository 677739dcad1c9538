"""The rewrite machinery: stabilising rules, regimes and the accuracy search."""

import numpy as np
import pytest
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from codegen.primitives import erfc, sigmoid, softplus
from codegen.search import (
    best_form,
    exact_values,
    float32_values,
    most_accurate,
    near_zero,
    ulp_errors,
)
from codegen.stabilise import rationalise, stabilise

x = sp.Symbol("x", real=True)
b = sp.Symbol("b", real=True)


@pytest.mark.parametrize(
    ("naive", "stable"),
    [
        (sp.log(1 + sp.exp(x)), softplus(x)),
        (log1p(sp.exp(2 * x)), softplus(2 * x)),
        (1 / (1 + sp.exp(-x)), sigmoid(x)),
        (sp.exp(x) / (1 + sp.exp(x)), sigmoid(x)),
        (1 - sigmoid(x), sigmoid(-x)),
        (sp.log(1 / (1 + sp.exp(-x))), -softplus(-x)),
        (1 + sp.tanh(x), 2 * sigmoid(2 * x)),
        (1 - sp.tanh(x), 2 * sigmoid(-2 * x)),
        (1 + sp.erf(x), erfc(-x)),
        (1 - sp.tanh(x) ** 2, 4 * sigmoid(2 * x) * sigmoid(-2 * x)),
        (1 / sp.cosh(x) ** 2, 4 * sigmoid(2 * x) * sigmoid(-2 * x)),
        (sp.sinh(x) / sp.cosh(x) ** 3, sp.tanh(x) / sp.cosh(x) ** 2),
        (sigmoid(x) - sigmoid(-x), sp.tanh(x / 2)),
        (x * sp.sign(x), sp.Abs(x)),
        (sp.exp(x) - 1, expm1(x)),
        (sp.log(1 + x), log1p(x)),
    ],
)
def test_rules_rewrite_naive_forms(naive, stable):
    assert stabilise(naive) == stabilise(stable)


def test_exp_minus_one_is_rewritten_termwise():
    # SymPy's own rule factors first and turns this into 1/expm1(x), which
    # overflows for large x.
    assert stabilise(sp.exp(-x) / (1 - sp.exp(-x))) == -sp.exp(-x) / expm1(-x)


def test_rationalise_splits_on_the_sign_where_the_sum_cancels():
    form = rationalise(x / 2 + sp.sqrt(x**2 + b) / 2)
    (stable, negative), (plain, otherwise) = form.args
    assert sp.simplify(stable - b / (2 * (sp.sqrt(x**2 + b) - x))) == 0
    assert (negative, plain, otherwise) == (x < 0, x / 2 + sp.sqrt(x**2 + b) / 2, sp.true)
    assert rationalise(form) == form  # the default branch is not rewritten again
    mirrored = rationalise(sp.sqrt(x**2 + 1) - x)
    assert mirrored.args[0] == (1 / (sp.sqrt(x**2 + 1) + x), x > 0)


def test_search_prefers_the_accurate_candidate_over_the_shorter_one():
    naive = sp.sqrt(x**2 + 1) - x  # cancels for large x
    careful = 1 / (sp.sqrt(x**2 + 1) + x)
    assert most_accurate([naive, careful], x, {}, (0.0, np.inf)) == careful


def test_search_scores_each_branch_where_it_is_taken():
    expr = sp.Piecewise((sp.sqrt(x**2 + 1) - x, x > 0), (x, True))
    chosen = best_form(expr, lambda e: [sp.together(1 / (sp.sqrt(x**2 + 1) + x))], x, {}, (-9, 9))
    assert chosen.args[0][0].has(1 / (sp.sqrt(x**2 + 1) + x))
    assert not chosen.args[0][0].has(sp.sqrt(x**2 + 1) - x)


def test_taylor_regime_fixes_cancellation_near_zero():
    expr = (1 - sp.cos(x)) / x**2  # 1 - cos(x) rounds to 0 for tiny x
    points = np.float32([1e-6, -1e-4, 1e-3, -2e-3])
    exact = exact_values(expr, x, points)
    before = ulp_errors(float32_values(expr, x, points), exact)
    regime = near_zero(expr, x, {}, (-np.inf, np.inf))
    after = ulp_errors(float32_values(regime, x, points), exact)
    assert isinstance(regime, sp.Piecewise)
    assert before.max() > 1e5
    assert after.max() < 1
