"""Property tests of gated formulas: an x-formula drawn from the generator's
grammar, gated in a drawn way, built in memory and checked against mpmath in
x and in the gate, at gates of both signs; or refused naming the spec."""

import functools

import jax
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_generator import BUDGET, FORMULAS
from unseen import mismatches, points

from codegen.build.pipeline import build_one
from codegen.build.runtime import load_module
from codegen.numerics.evaluate import exact_values
from codegen.spec.load import SpecError, read_spec

pytestmark = pytest.mark.slow  # builds formulas from scratch

GATINGS = ("({})*gate", "({})*sigmoid(gate)", "({})*(gate + x)")
GATES = (-2.0, 0.5, 3.0)
# (derivatives in gate, then in x): f, f', f'', df/dgate, d2f/dx dgate
ORDERS = ((0, 0), (0, 1), (0, 2), (1, 0), (1, 1))


@functools.cache
def built(formula: str):
    params = {"k": 1.0} if "k" in formula else {}
    data = {"summary": "s", "expression": formula, "inputs": ["x", "gate"], "params": params}
    spec = read_spec("<drawn>", data, "drawn")
    try:
        activation, text = build_one(spec, 2 * BUDGET)  # two towers
    except SpecError as error:
        return error
    return activation, load_module(text, "drawn").drawn


def computed(function, gate: float, in_gate: int, in_x: int, xs) -> np.ndarray:
    """As unseen.computed: each gradient of half, scaled back exactly."""
    with jax.enable_x64(True):
        f = function
        for _ in range(in_gate):
            f = jax.grad(lambda x, gate, f=f: f(x, gate) / 2, 1)
        g = lambda x: f(x, gate)  # noqa: E731  the gate a Python float
        for _ in range(in_x):
            g = jax.grad(lambda x, g=g: g(x) / 2)
        values = np.asarray(jax.vmap(g)(np.asarray(xs, np.float64)), np.float64)
        return values * 2 ** (in_gate + in_x)


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(FORMULAS, st.sampled_from(GATINGS))
def test_any_drawn_gated_formula_is_right_in_both_inputs_or_refused(formula, gating):
    result = built(gating.format(formula))
    if isinstance(result, SpecError):
        assert "<drawn>" in str(result)
        return
    activation, function = result
    x, gate = activation.x, activation.params[0]
    xs = points(activation)
    digits = 60 + int(np.log10(np.max(np.abs(xs)) + 1))
    problems = []
    for value in GATES:
        for in_gate, in_x in ORDERS:
            expr = activation.formulas[0].source
            for symbol in [gate] * in_gate + [x] * in_x:
                expr = sp.diff(expr, symbol)
            expr = expr.subs({gate: sp.Rational(value), **dict.fromkeys(activation.params[1:], 1)})
            exact = exact_values(expr, x, xs, digits=digits)
            got = computed(function, value, in_gate, in_x, xs)
            bad = mismatches(got, exact, xs, rtol=1e-6)
            problems += [f"gate {value}, d{in_gate} d{in_x}: {b}" for b in bad[:2]]
    assert not problems, "\n".join([gating.format(formula), *problems[:12]])
