"""The emitted module: a golden record of a small spec, byte for byte, and
the JVP rules that call each next kernel, as jax.nn writes relu's.

Rerun with SYMJVP_UPDATE_GOLDEN=1 to rewrite the record after a deliberate
change.
"""

import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from codegen.analysis.model import Context
from codegen.build.pipeline import build_one
from codegen.emit.support import defjvps_lazy, forward_autodiff
from codegen.spec.load import read_spec

x = sp.Symbol("x", real=True)
a = sp.Symbol("a", real=True)
GOLDEN = Path(__file__).with_name("golden")


def test_emitted_module_matches_its_golden_record():
    data = {
        "summary": "A leaky unit with a learnable slope.",
        "expression": "Piecewise((x, x >= 0), (a*x, True))",
        "params": {"a": {"default": 0.1, "learnable": True}},
        "closed_form_order": 1,
    }
    spec = read_spec("specs/leaky.toml", data, default_name="leaky")
    _, text = build_one(spec, package="acts")
    golden = GOLDEN / "leaky.py.txt"  # not .py: neither linted nor collected
    if os.environ.get("SYMJVP_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_each_rule_calls_the_next_kernel_as_jax_nn_writes_relu_s():
    data = {"summary": "A soft sign.", "expression": "x/(1 + Abs(x))", "closed_form_order": 2}
    _, text = build_one(read_spec("specs/soft.toml", data, default_name="soft"), package="acts")
    assert "\nsoft.defjvps(lambda g, ans, x: _soft_d1(x) * g)\n" in text
    assert "\n_soft_d1.defjvps(lambda g, ans, x: _soft_d2(x) * g)\n" in text
    assert "\n_soft_d2.defjvps(lambda g, ans, x: _soft_d3(x) * g)\n" in text
    # The last derivative's own derivatives are forward-mode autodiff of its body.
    assert "\n\n@forward_autodiff\n@jax.jit\ndef _soft_d3(x: ArrayLike) -> Array:" in text
    assert "_jvp(" not in text


def test_a_parameter_s_partial_is_a_function_skipped_when_not_differentiated():
    data = {
        "summary": "A scaled sign.",
        "expression": "a*x/(1 + Abs(x))",
        "params": {"a": {"default": 2.0, "learnable": True}},
        "closed_form_order": 1,
    }
    _, text = build_one(read_spec("specs/s.toml", data, default_name="s"), package="acts")
    assert "lambda g, ans, x, a: _s_da(x, a) * g" in text
    assert "def _s_da(x: ArrayLike, a: ArrayLike = 2.0) -> Array:" in text
    # The last rule's partial in x is the next derivative's own function.
    assert "lambda g, ans, x, a: _s_d2(x, a) * g" in text and "def _s_d1_da(" in text


def test_a_partial_s_rules_in_the_parameters_are_the_second_partials():
    data = {
        "summary": "S.",
        "expression": "a*x/(1 + Abs(b*x))",
        "params": {"a": 2.0, "b": 0.5},
        "closed_form_order": 1,
    }
    _, text = build_one(read_spec("specs/s.toml", data, default_name="s"), package="acts")
    mixed = "lambda g, ans, x, a, b: _s_da_db(x, a, b) * g"
    # d/da: in x the next partial, in a 0 (s is linear in a), in b the mixed one.
    in_x = "lambda g, ans, x, a, b: _s_d1_da(x, a, b) * g"
    assert f"(\n    _s_da,\n    {in_x},\n    None,\n    {mixed},\n)" in text
    # d/db: the same mixed kernel, one for both orders, then d^2/db^2.
    assert f"    _s_db,\n    lambda g, ans, x, a, b: _s_d1_db(x, a, b) * g,\n    {mixed},\n" in text
    assert "def _s_db_db(" in text and "def _s_da_da(" not in text
    assert '"""Second partial derivative in a and b of :func:`s`, in closed form."""' in text
    # Past the value's partials, autodiff: f' has no second partials of its own.
    assert "through" not in text and "\n@jax.jit\ndef _s_d1_da(" in text


def test_an_input_named_g_renames_the_rule_s_tangent_and_constant_partials_are_in_place():
    data = {"summary": "S.", "expression": "x*tanh(x) + g", "inputs": ["x", "g"]}
    _, text = build_one(read_spec("specs/s.toml", data, default_name="s"), package="acts")
    compile(text, "s.py", "exec")  # a lambda with two arguments named g would not
    assert "lambda g_dot, ans, x, g: _s_d1(x, g) * g_dot" in text
    assert "defjvps_lazy(_s_d1, lambda g_dot, ans, x, g: _s_d2(x, g) * g_dot, None)" in text
    # d/dg is 1: no kernel, whose array of ones the backward pass would keep.
    assert "lambda g_dot, ans, x, g: g_dot" in text and "_s_dg" not in text


def test_defjvps_lazy_runs_only_the_rules_of_differentiated_inputs():
    calls = []

    def rule_a(g, ans, x, a):
        calls.append("a")
        return x * g

    f = jax.custom_jvp(lambda x, a: a * x)
    defjvps_lazy(f, lambda g, ans, x, a: a * g, rule_a)
    assert float(jax.grad(f)(3.0, 2.0)) == 2.0 and calls == []
    assert float(jax.grad(f, 1)(3.0, 2.0)) == 3.0 and calls == ["a"]
    # None is a zero partial; with no other term the tangent is 0.
    h = jax.custom_jvp(lambda x, a: a)
    defjvps_lazy(h, None, lambda g, ans, x, a: g)
    assert float(jax.grad(h)(3.0, 2.0)) == 0.0 and float(jax.grad(h, 1)(3.0, 2.0)) == 1.0


def test_forward_autodiff_does_not_send_nan_back_from_a_branch_not_taken():
    def body(x, a):  # exp(x)**2 overflows at x = 100, where the other branch is taken
        return jnp.where(x > 50, a * x, jnp.exp(x) ** 2)

    plain, forward = jax.jit(body), forward_autodiff(jax.jit(body))
    assert np.isnan(jax.grad(plain)(100.0, 3.0))  # 0 * inf, transposing the select
    assert float(jax.grad(forward)(100.0, 3.0)) == 3.0
    assert float(jax.grad(jax.grad(forward))(100.0, 3.0)) == 0.0  # every order
    assert float(jax.grad(jax.grad(forward, 1))(100.0, 3.0)) == 1.0
    # A scalar parameter's partial over an array of x sums, as autodiff's does.
    xs = jnp.array([1.0, 2.0, 100.0])
    assert float(jax.grad(lambda a: forward(xs, a).sum())(3.0)) == 100.0
    assert float(jax.grad(lambda a: plain(xs, a).sum())(3.0)) == 100.0


def test_the_analysis_context_is_one_hashable_value():
    context = Context(x, ((a, 0.5),), (-1.0, 1.0))
    assert hash(context) == hash(Context(x, ((a, 0.5),), (-1.0, 1.0)))
    part = context.within((0.0, 1.0))
    assert (part.x, part.defaults, part.domain) == (x, ((a, 0.5),), (0.0, 1.0))
    assert context.values == {a: 0.5}
    assert [float(dict(s)[a]) for s in context.samples[:2]] == [0.5, 0.005]


def test_a_derivative_equal_to_the_one_before_reuses_its_kernel():
    # exp(x) - 1 for x <= 0: the second and third derivatives are both exp(x).
    data = {
        "summary": "An elu.",
        "expression": "Piecewise((x, x > 0), (exp(x) - 1, True))",
        "closed_form_order": 3,
    }
    _, text = build_one(read_spec("specs/e.toml", data, default_name="e"), package="acts")
    assert "\n_e_d2.defjvps(lambda g, ans, x: _e_d2(x) * g)\n" in text
    assert "_e_d3" not in text
