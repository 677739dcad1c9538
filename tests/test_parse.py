"""The expression parser: SymPy objects from text, with no eval."""

import pytest
import sympy as sp

from codegen.numerics.primitives import erfc, sigmoid
from codegen.spec.parse import ExpressionError, parse_expression

x = sp.Symbol("x", real=True)
alpha = sp.Symbol("alpha", real=True)
SYMBOLS = {"x": x, "alpha": alpha}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alpha*(exp(x) - 1)", alpha * (sp.exp(x) - 1)),
        ("x/2", x / 2),
        ("0.044715*x**3", sp.Float("0.044715") * x**3),
        ("Piecewise((x, x > 0), (0, True))", sp.Piecewise((x, x > 0), (0, True))),
        ("Piecewise((1, -1 < x < 1), (0, True))", sp.Piecewise((1, (x > -1) & (x < 1)), (0, True))),
        (
            "Piecewise((1, (x < -1) | (x > 1)), (0, ~(x > 5)))",
            sp.Piecewise((1, (x < -1) | (x > 1)), (0, x <= 5)),
        ),
        ("Heaviside(x, 0)", sp.Heaviside(x, 0)),
        ("abs(x) + Abs(x)", 2 * sp.Abs(x)),
        ("sigmoid(x) + erfc(-x)", sigmoid(x) + erfc(-x)),
        ("sqrt(2/pi)*E", sp.sqrt(2 / sp.pi) * sp.E),
        ("Max(x, 0) - Min(x, 1)", sp.Max(x, 0) - sp.Min(x, 1)),
    ],
)
def test_valid_formulas_translate_to_sympy(text, expected):
    assert parse_expression(text, SYMBOLS) == expected


def test_erfc_keeps_the_sign_of_its_argument():
    # sympy.erfc(-x) would become 2 - erfc(x), which cancels for large x.
    assert parse_expression("erfc(-x)", SYMBOLS) == erfc(-x)


@pytest.mark.parametrize(("name", "order"), [("Max", [3, 1]), ("Min", [1, 3])])
def test_a_three_way_max_or_min_shares_its_derivative_at_a_tie(name, order):
    # SymPy gives each tied argument Heaviside(0) = 1/2: a weight of 3/2 in all.
    g = parse_expression(f"{name}(x, x + alpha, x - alpha)", SYMBOLS)
    assert g.diff(x).subs(alpha, 0) == 1
    f = parse_expression(f"{name}(x, 2*x, 3*x)", SYMBOLS)
    assert [f.diff(x).subs(x, sp.Rational(s, 10)) for s in (1, -1)] == order
    assert parse_expression(f"{name}(-1, 0, 2)", SYMBOLS) == (2 if name == "Max" else -1)


HOSTILE = [
    ("__import__('pathlib').Path('CANARY').touch()", "only named functions"),
    ("__import__('os')", "unknown function '__import__'"),
    ("x.__class__", "not allowed"),
    ("(lambda: 1)()", "only named functions"),
    ("[x for x in range(3)]", "not allowed"),
    ("'x'", "only numbers"),
    ("x[0]", "not allowed"),
    ("exp", "without calling it"),
    ("exp(x=1)", "keyword"),
    ("x if x else 1", "not allowed"),
    ("x == 1", "comparison"),
    ("x % 2", "operator"),
    ("x; import os", "not a valid formula"),
    ("9**9**9", "exponent"),
    ("(10**30)**60", "digits"),
    ("1" * 50, "digits"),
    ("exp(" * 60 + "x" + ")" * 60, "nested"),
    ("-" * 1999 + "x", "nested"),
    ("(" * 500 + "x" + ")" * 500, "not a valid formula"),
    ("x+" * 1200 + "x", "characters"),
    ("eval('1')", "unknown function"),
    ("x and 1", "not allowed"),
]


@pytest.mark.parametrize(("text", "message"), HOSTILE)
def test_hostile_text_is_refused_and_never_run(text, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExpressionError, match=message):
        parse_expression(text, SYMBOLS)
    assert not (tmp_path / "CANARY").exists()


def test_unknown_symbol_suggests_close_names():
    with pytest.raises(
        ExpressionError,
        match=r"did you mean 'alpha'\? Declare arrays in inputs, parameters under \[params\]",
    ):
        parse_expression("alhpa*x", SYMBOLS)
