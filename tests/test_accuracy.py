"""Accuracy against mpmath, on a smaller grid than docs/accuracy.md's."""

import math
import textwrap
from types import SimpleNamespace

import numpy as np
import pytest
import sympy as sp

import generated
from codegen.build.pipeline import analyse
from codegen.numerics.evaluate import TARGETS
from codegen.tools.accuracy import score, truth
from codegen.tools.cli import main
from conftest import import_package


def test_catalogue_meets_its_targets_or_beats_jax_nn(activation):
    """No derivative order may miss its target while also being worse than jax.nn."""
    for result in score(activation, generated, count=40):
        assert not result.misses(), result


def test_catalogue_beats_jax_nn_where_jax_nn_fails(catalogue):
    """The failures in jax.nn that motivate the project, fixed."""
    for name, order in [("sigmoid", 1), ("elu", 1), ("tanh", 1), ("softplus", 2), ("mish", 2)]:
        (result,) = score(catalogue[name], generated, count=40)
        assert result.ours[order] <= TARGETS[order] < result.theirs[order], (name, result)


NAIVE = {
    "naive_softplus": "log(1 + exp(x))",
    "naive_sigmoid": "exp(x)/(1 + exp(x))",
    "naive_tanh_gelu": "x*(1 + tanh(x))/2",
    "naive_squareplus": "(x + sqrt(x**2 + 4))/2",
    "naive_log_sigmoid": "log(1/(1 + exp(-x)))",
    "naive_overflowing_branches": "Piecewise((log(x), x > 1), (exp(-x) - exp(-1), True))",
    "naive_swish": "x/(1 + exp(-2*x))",
    "naive_sech": "1 - tanh(x)**2",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NAIVE))
def test_naive_specs_come_out_accurate(tmp_path, name):
    """Formulas written the obvious way, which no spec in the catalogue uses."""
    (tmp_path / "specs").mkdir()
    spec = f'summary = "Naive."\nexpression = "{NAIVE[name]}"\n'
    (tmp_path / "specs" / f"{name}.toml").write_text(textwrap.dedent(spec))
    assert main(["--root", str(tmp_path)]) == 0
    package = import_package(tmp_path / "generated", f"generated_{name}")
    (activation,) = analyse(tmp_path)
    (result,) = score(activation, package, count=40)
    for order, (error, target) in enumerate(zip(result.ours, TARGETS, strict=True)):
        assert error <= target, (name, order, result.ours)


def test_the_truth_takes_parameter_defaults_as_exact_numbers():
    # soft clipping's f' = sigmoid(a x) - sigmoid(a (x - 1)) at a = 50, x = 2:
    # with a = 50.0, SymPy folded exp(-50.0) to 15 digits, and the truth was
    # noise of 3.4e-17 where it is 1.9e-22.
    x, a = sp.symbols("x a", real=True)
    soft_clip = sp.log((1 + sp.exp(a * x)) / (1 + sp.exp(a * (x - 1)))) / a
    formula = SimpleNamespace(source=soft_clip)
    activation = SimpleNamespace(x=x, defaults={a: 50.0}, formulas=[formula])
    (value,) = truth(activation, 0, np.array([2.0]), 1)
    assert value == pytest.approx(math.exp(-50) - math.exp(-100), rel=1e-12, abs=0)
