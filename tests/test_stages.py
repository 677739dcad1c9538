"""One stage at a time: a small formula in, the exact SymPy or text out.

After CPython's cases_generator tests.  The whole module emitted for a
small spec, a golden record, is in test_emitted.py.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from sympy.codegen.cfunctions import expm1

import codegen
from codegen.analysis.derive import _factored_by_step
from codegen.analysis.lower import lower
from codegen.analysis.stabilise import stabilise
from codegen.emit.backend import Assignment, Body, JaxBackend
from codegen.emit.constants import ModuleConstants
from codegen.emit.format import width
from codegen.emit.printer import to_code
from codegen.numerics.evaluate import float32_values
from codegen.numerics.exact import rounds_nowhere
from codegen.numerics.primitives import Where, isfinite, offset, polynomial, sigmoid, softplus
from codegen.spec.parse import parse_expression

x = sp.Symbol("x", real=True)
a = sp.Symbol("a", real=True)


def test_parse_translates_without_evaluating():
    assert parse_expression("x/(1 + exp(-x))", {"x": x}) == x / (1 + sp.exp(-x))
    assert str(parse_expression("-1 < x < 1", {"x": x})) == "(-1 < x) & (x < 1)"


@pytest.mark.parametrize(
    ("formula", "stable"),
    [
        (x / (1 + sp.exp(-x)), x * sigmoid(x)),
        (sp.log(1 + sp.exp(x)), softplus(x)),
        (sp.exp(x) - 1, expm1(x)),
        # u*sign(u) as |u| where u is spread over the factors: it cancels.
        (-a * x * sp.sign(a * x) + sp.Abs(a * x) + 1, 1),
        # and where u is a sum: once |k + x|*(-k - x)/(k + x), NaN at x = -k.
        (sp.Mul(-1, x + a, sp.sign(x + a)) + sp.Abs(x + a) + 1, 1),
    ],
)
def test_stabilise_rewrites_into_stable_primitives(formula, stable):
    assert stabilise(formula) == stable


def test_a_max_s_derivative_is_one_factored_fraction_beside_each_step():
    d = sp.diff(sp.Max(sp.tanh(x), sp.sqrt(1 + (a * x) ** 2)), a, 2)
    d = d.replace(sp.DiracDelta, lambda *_: 0)  # x**2/s - a**2*x**4/s**3, times the step
    (step,) = d.atoms(sp.Heaviside)
    assert _factored_by_step(d) == x**2 * step / (a**2 * x**2 + 1) ** sp.Rational(3, 2)


def test_a_max_s_second_partial_does_not_cancel_far_out():
    """A drawn formula: x**2/s - k**2*x**4/s**3 was -3.8e-6 at x = 1e10, k = 1/2."""
    f = codegen.activation("Max(tanh(erf(x + k)), sqrt(1 + (k*x)**2))", k=0.5)
    with jax.enable_x64(True):
        got = jax.grad(jax.grad(f, 1), 1)(jnp.float64(1e10), jnp.float64(0.5))
    assert float(got) == pytest.approx(1e20 / 0.25e20**1.5, rel=1e-9)


def test_lower_clamps_the_untaken_branch():
    lowered = lower(sp.Piecewise((x, x > 0), (a * expm1(x), True)), x, {a: 1})
    assert lowered == Where(x > 0, x, a * expm1(Where(x > 0, 0, x)))


def test_lower_clamps_to_a_point_finite_at_every_parameter_value():
    # x = 1, the middle, is finite at the default a = 1/10, and a pole at a = 1.
    expr = sp.Piecewise((1 / (x - a), (x > 0) & (x < 2)), (0, True))
    lowered = lower(expr, x, {a: sp.Rational(1, 10)})
    clamped = Where((x >= 2) | (x <= 0), 0, x)
    assert lowered == Where((x > 0) & (x < 2), 1 / (clamped - a), 0)


@pytest.mark.parametrize(
    ("expr", "code"),
    [
        (Where(x > 0, x, a * expm1(Where(x > 0, 0, x))),
         "jnp.where(x > 0, x, a*jnp.expm1(jnp.where(x > 0, 0, x)))"),
        (sigmoid(x) * softplus(-x), "lax.logistic(x)*jnp.logaddexp(-x, 0.0)"),
        (sp.sqrt(2) * x, "1.4142135623730951*x"),
    ],
)  # fmt: skip
def test_printer_writes_jax_numpy(expr, code):
    assert to_code(expr) == code


def test_cse_names_temporaries_for_what_they_hold():
    s = sp.sqrt(x**2 + a)
    body = JaxBackend().body(sp.exp(-x) / s + s * sp.exp(-x) + 1 / s, [x, a])
    assert [(p.name, p.code) for p in body.assignments] == [
        ("s", "jnp.sqrt(a + x**2)"),
        ("r", "1 / s"),
        ("e", "jnp.exp(-x)"),
    ]


def test_cse_names_a_tanh_and_a_softplus_too():
    th, sp_ = sp.tanh(x / 2), softplus(x)
    body = JaxBackend().body(th**2 * sp_ + th * sp_**2, [x])
    assert [(p.name, p.code) for p in body.assignments] == [
        ("th", "jnp.tanh(x/2)"),
        ("sp", "jnp.logaddexp(x, 0.0)"),
    ]


def test_cse_names_a_square_for_its_base():
    body = JaxBackend().body(sp.exp(-(x**2)) + a * x**2, [x, a])
    assert body == Body((Assignment("x2", "x**2"),), "a*x2 + jnp.exp(-x2)")


def test_cse_shares_one_exponential():
    body = JaxBackend().body(lower(x * sigmoid(x) * sigmoid(-x), x, {}), [x])
    assert body == Body((Assignment("e", "jnp.exp(-jnp.abs(x))"),), "e*x/(e + 1)**2")


def test_constants_name_a_zero_the_series_about_it_its_mirror_and_a_threshold():
    def about(centre, *coefficients):
        return polynomial(offset(x, sp.Float(centre)), 2, *map(sp.Float, coefficients))

    # f'' even: its polynomial about 2 is the one about -2, of -u.
    series = about(-2.0, 0.5, 0.25, 0.125) + about(2.0, 0.5, -0.25, 0.125)
    guard = sp.And(sp.Abs(x) >= sp.Float(1e13), sp.Not(isfinite(series)))
    constants = ModuleConstants(JaxBackend())
    named = constants(Where(guard, 0, series), "f", 2)
    assert to_code(named.args[2]) == (
        "horner((-_F_D2_ROOT - x), _F_D2_SERIES, float32_terms=2)"
        " + horner((x - _F_D2_ROOT), _F_D2_SERIES, float32_terms=2)"
    )
    assert to_code(named.args[0].args[0]) == "jnp.abs(x) >= _F_D2_TAIL"
    assert [(c.name, c.value, c.lines) for c in constants.constants] == [
        ("_F_D2_ROOT", "-2.0", ()),
        ("_F_D2_SERIES", None, ("0.5, 0.25, 0.125,",)),
        ("_F_D2_TAIL", "1e13", ()),
    ]
    assert constants.constants[1].comment.endswith(
        "even, also about -_F_D2_ROOT, in -_F_D2_ROOT - x."
    )


def test_the_backend_imports_what_its_code_uses_and_nothing_else():
    backend = JaxBackend()
    assert backend.expression(sp.erf(x)) == "special.erf(x)"
    assert backend.imports() == [
        "import jax",
        "from jax import Array",
        "from jax.scipy import special",
        "from jax.typing import ArrayLike",
        "",
    ]
    backend.expression(sigmoid(x) + polynomial(x, 2, *map(sp.Float, (1, 2, 3))))
    backend.name("jnp.where")
    backend.name("narrow")
    backend.name("silu", module="_silu")
    backend.name("_silu_d1", module="_silu")
    assert backend.imports() == [
        "import jax",
        "import jax.numpy as jnp",
        "from jax import Array, lax",
        "from jax.scipy import special",
        "from jax.typing import ArrayLike",
        "",
        "from ._silu import _silu_d1, silu",
        "from ._support import horner, narrow",
    ]


def test_a_partial_as_a_factor_of_the_tangent_is_parenthesised_where_it_must_be():
    assert JaxBackend().factor(a + 1) == "(a + 1)"
    assert JaxBackend().factor(-a - 1) == "-(a + 1)"
    factors = (-a, a * x, sp.Rational(1, 2), sp.Integer(-1))
    assert [JaxBackend().factor(e) for e in factors] == ["-a", "a*x", "0.5", "-1"]


def test_a_partials_constants_are_named_for_its_kernel_and_its_input():
    guard = sp.And(x >= sp.Float(1e13), sp.Not(isfinite(x**3 * a)))
    constants = ModuleConstants(JaxBackend())
    named = constants(Where(guard, 0, x**3 * a), "f", 1, wrt="a")
    assert to_code(named.args[0].args[0]) == "x >= _F_D1_DA_TAIL"
    (constant,) = constants.constants
    assert constant.comment == "the partial in a of f' overflows past it: its limit is returned"


def test_a_bound_on_the_closed_form_is_named_for_the_log_space_past_it():
    inside = sp.And(isfinite(x**3), sp.Abs(x) < sp.Float(1e6))
    constants = ModuleConstants(JaxBackend())
    named = constants(Where(inside, x**3, sp.exp(3 * sp.log(x))), "f", 2)
    assert to_code(named.args[0]) == "(jnp.abs(x) < _F_D2_FAR) & jnp.isfinite(x**3)"
    (constant,) = constants.constants
    assert (constant.value, constant.comment) == ("1e6", "f'' is computed in log space past it")


def test_the_analysis_evaluates_a_product_in_the_order_it_is_emitted():
    # 3*x/4 is inf in float32 at 2e38, where 0.75*x is not: a tail found on
    # the one and emitted as the other left NaN between (squareplus's d3/db).
    expr = sp.Rational(3, 4) * x
    assert to_code(expr) == "3*x/4"
    assert np.isinf(float32_values(expr, x, np.array([2e38], np.float32)))
    # A parameter's exact sample is a fraction of huge terms: not p*x/q.
    cubed = sp.Rational(5764607523034235, 2**60) ** 3 * x  # k**3*x at k = 0.005
    assert float32_values(cubed, x, np.array([1.0], np.float32)) == np.float32(0.005**3)
    assert to_code(x**-2) == "1 / x**2"
    assert float32_values(x**-2, x, np.array([1e20], np.float32)) == 0  # not x**-2.0, 1e-40


@pytest.mark.parametrize(
    ("formula", "exact"),
    [
        (Where(x < -1, -1, Where(x > 1, 1, x)), True),  # hard_tanh
        (sp.Min(6, sp.Max(0, x)), True),  # relu6
        (Where(sp.Or(x > 1, x < -1), 0, 1), True),
        (-sp.Abs(x), True),
        (x / 100, False),  # leaky_relu's slope rounds
        (Where(x > 0, x, sp.Float(0.1)), False),  # 0.1 is no float exactly
        (sp.Max(x, 70000), False),  # past float16's largest
        (sp.Max(x, sp.Float(1.00390625)), False),  # 1 + 2**-8: float16's, not bfloat16's
        (x + 1, False),
        (sp.exp(x), False),
    ],
)
def test_a_formula_of_selects_and_exact_numbers_rounds_nowhere(formula, exact):
    assert rounds_nowhere(formula) == exact


def test_a_long_chain_of_selects_is_one_assignment_per_regime():
    closed = sp.exp(-sp.Abs(x)) / (1 + sp.exp(-sp.Abs(x))) ** 2
    chain = Where(sp.Abs(x) < 0.25, x**2, Where(sp.Abs(x - 3) < 0.5, (x - 3) ** 3, closed))
    body = JaxBackend().body(Where(sp.Abs(x) > 100, 0, chain), [x])
    assert body == Body(
        (
            Assignment("a", "jnp.abs(x)"),
            Assignment("t", "x - 3"),
            Assignment("e", "jnp.exp(-a)"),
            Assignment("t1", "jnp.where(jnp.abs(t) < 0.5, t**3, e/(e + 1)**2)"),
            Assignment("t2", "jnp.where(a < 0.25, x**2, t1)"),
        ),
        "jnp.where(a > 100, 0, t2)",
    )


def test_width_counts_the_spaces_black_puts_around_products_not_powers():
    # A return statement is split into y = ... and return when black would wrap it.
    assert width("e*r**2*x/(e + 1)") == len("e * r**2 * x / (e + 1)")
