"""Spec files -> Spec objects: defaults, optional fields, and refusals."""

from pathlib import Path

import pytest

import codegen
from codegen.emit.backend import SUPPORT_FUNCTIONS
from codegen.spec.load import SpecError, load_spec


def write(tmp_path: Path, text: str, name: str = "act") -> Path:
    (tmp_path / "specs").mkdir(exist_ok=True)
    path = tmp_path / "specs" / f"{name}.toml"
    path.write_text(text)
    return path


def test_minimal_spec_takes_its_name_from_the_file(tmp_path):
    spec = load_spec(write(tmp_path, 'summary = "S."\nexpression = "x"'), tmp_path)
    assert (spec.name, spec.path, spec.params, spec.switch) == ("act", "specs/act.toml", (), None)


def test_every_optional_field_is_read(tmp_path):
    text = """
name = "renamed"
summary = "S."
description = "More."
expression = "a*x + b"
aliases = ["other"]
jax_nn = "relu"
references = ["A paper"]
domain = [0, inf]
[params]
a = 1.5
b = { default = 2, doc = "offset" }
[switch]
name = "fast"
default = true
expression = "a*x"
doc = "use the fast form"
"""
    spec = load_spec(write(tmp_path, text), tmp_path)
    assert spec.name == "renamed"
    assert [(p.name, p.default, p.doc) for p in spec.params] == [("a", 1.5, ""), ("b", 2, "offset")]
    assert (spec.switch.name, spec.switch.default, spec.switch.expression) == ("fast", True, "a*x")
    assert spec.aliases == ("other",)
    assert spec.domain == (0.0, float("inf"))
    assert (spec.description, spec.jax_nn, spec.references) == ("More.", "relu", ("A paper",))


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('summary = "S."\nexpression = "x"\nname = "not valid"', "name"),
        ('summary = "S."\nexpression = "x"\nname = "_private"', "name"),
        ('summary = 3\nexpression = "x"', "summary"),
        ('summary = "S."\nexpression = "x"\ndomain = [1, 0]', "domain"),
        ('summary = "S."\nexpression = "x"\naliases = "swish"', "aliases"),
        ('summary = "S."\nexpression = "x"\n[params]\nx = 1.0', "params.x"),
        ('summary = "S."\nexpression = "x"\n[params]\na = true', "params.a"),
        (
            'summary = "S."\nexpression = "x"\n[params]\na = { default = 1.0, learn = true }',
            "params.a",
        ),
        (
            'summary = "S."\nexpression = "x"\n[switch]\nname = "s"\ndefault = 1\nexpression = "x"',
            "switch.default",
        ),
        (
            'summary = "S."\nexpression = "x"\n[switch]\nname = "s"\ndefault = true',
            "switch.expression",
        ),
        ('summary = "S."\nexpression = "x*g"\ninputs = ["g", "x"]', "inputs"),
        ('summary = "S."\nexpression = "x*g"\ninputs = ["x", "g", "g"]', "inputs"),
        ('summary = "S."\nexpression = "x*g"\ninputs = ["x", "exp"]', "inputs"),
        ('summary = "S."\nexpression = "x*g"\ninputs = ["x", "g"]\n[params]\ng = 1.0', "params.g"),
        (
            'summary = "S."\nexpression = "x*g"\ninputs = ["x", "g"]\nresidual = "output"',
            "residual",
        ),
    ],
)
def test_invalid_fields_are_named(tmp_path, text, field):
    with pytest.raises(SpecError) as error:
        load_spec(write(tmp_path, text), tmp_path)
    assert error.value.field == field
    assert str(error.value).startswith(f"specs/act.toml: field '{field}'")


def test_inputs_come_first_positional_and_keep_the_residual_from_x(tmp_path):
    text = 'summary = "S."\nexpression = "x*g*a"\ninputs = ["x", "g"]\n[params]\na = 2.0'
    spec = load_spec(write(tmp_path, text), tmp_path)
    assert spec.inputs == ("x", "g")
    assert [(p.name, p.input) for p in spec.params] == [("g", True), ("a", False)]
    assert [p.name for p in spec.keywords] == ["a"]
    assert spec.residual == "derivative"  # y = x*g alone does not give dy/dx


@pytest.mark.parametrize("helper", SUPPORT_FUNCTIONS)
def test_a_parameter_may_not_shadow_a_support_function(helper):
    # The generated modules import these by name from the support module.
    with pytest.raises(SpecError, match=f"params.{helper}"):
        codegen.activation(f"x*{helper}", **{helper: 1.0})
