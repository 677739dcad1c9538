"""How accurate f and f' are beside their roots: Taylor polynomials there
only where the spec's ``accuracy`` (or ``symjvp --accuracy``) is strict,
since they cost a polynomial per element in every training step."""

from pathlib import Path

import jax
import numpy as np
import pytest
import sympy as sp

import codegen
import generated
from codegen.numerics.evaluate import exact_values, ulp_errors
from codegen.spec.load import SpecError, read_spec
from codegen.tools.cli import main

SILU = "x*sigmoid(x)"
ROOT_OF_SILU_D1 = -1.2784645  # where silu' = 0: its two terms cancel


def _d1_errors(function) -> np.ndarray:
    """ulps of silu' in float32 at 1e-4 and 1e-3 either side of its root."""
    points = np.float32(ROOT_OF_SILU_D1 + np.array([-1e-3, -1e-4, 1e-4, 1e-3]))
    x = sp.Symbol("x", real=True)
    truth = exact_values(sp.diff(x * sp.exp(x) / (1 + sp.exp(x)), x), x, points)
    return ulp_errors(np.float64(jax.vmap(jax.grad(function))(points)), truth)


def test_strict_accuracy_keeps_the_first_derivative_right_beside_its_root():
    strict = codegen.activation(SILU, name="silu_strict", accuracy="strict")
    standard = codegen.activation(SILU, name="silu_standard")
    assert _d1_errors(strict).max() <= 4
    # Without the polynomial f' cancels as every closed form does: its terms
    # are 0.2, the result 4e-5 to 4e-4, so their rounding is thousands of ulps.
    assert _d1_errors(standard).max() > 100


def test_the_catalogue_keeps_polynomials_only_where_training_does_not_go():
    source = Path(generated._silu.__file__).read_text()
    assert "_SILU_D1_SERIES" not in source  # f': every training step
    assert "_SILU_D2_SERIES" in source  # f'': hessians only


def test_the_build_flag_makes_every_spec_strict(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SYMJVP_CACHE", str(tmp_path / "cache"))
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "swish.toml").write_text(f'summary = "s"\nexpression = "{SILU}"\n')
    module = tmp_path / "generated" / "_swish.py"
    assert main(["--root", str(tmp_path), "--accuracy", "strict"]) == 0
    assert "_SWISH_D1_SERIES" in module.read_text()
    assert main(["--root", str(tmp_path)]) == 0
    assert "_SWISH_D1_SERIES" not in module.read_text()


def test_a_bad_accuracy_is_refused():
    data = {"summary": "s", "expression": "x", "accuracy": "exact"}
    with pytest.raises(SpecError) as refused:
        read_spec("specs/bad.toml", data, default_name="bad")
    assert str(refused.value) == (
        "specs/bad.toml: field 'accuracy' must be one of standard, strict, not 'exact'"
    )
