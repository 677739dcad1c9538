"""Specs the catalogue has never seen, built by the command into a fresh
folder, imported and differentiated against plain autodiff to order 2."""

import functools
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from codegen.build.pipeline import analyse
from codegen.tools.cli import main
from codegen.tools.reference import plain_function
from conftest import import_package

UNSEEN = {
    "bumpy": """
        summary = "A made-up activation with parameters, kinks and special functions."
        expression = '''
            Piecewise((scale*asinh(x) + erf(x/width), x > 0),
                      (scale*x*exp(x) - Abs(x)/(1 + x**2), True))'''
        [params]
        scale = 1.5
        width = 2.0
    """,
    "wobbly": """
        summary = "Trigonometric and hyperbolic functions, constants, Max and Min."
        expression = '''
            atan(x)*cosh(x/4)/E + sqrt(x**2 + pi) - sign(x)*log(1 + x**2)
            + Max(x, -1)*Min(x, 2) + shift'''
        [params]
        shift = 0.25  # d/dshift = 1 does not depend on x: its tangent must be broadcast
    """,
    "bounded": """
        summary = "Inverse functions on a bounded domain, and Heaviside."
        expression = "asin(x)*acos(x/2) + atanh(x/2) + Heaviside(x)*x**2 + sin(x)*cos(x) + tan(x/2)"
        domain = [-1, 1]
    """,
    "rational": """
        summary = "Rational constants, powers and a switch whose default is false."
        expression = "x**3/6 - 2*x/3 + tanh(k*x)"
        [params]
        k = { default = 0.5, doc = "steepness" }
        [switch]
        name = "smooth"
        default = false
        expression = "x**3/6 - 2*x/3 + erfc(-k*x)"
    """,
}


def variants(activation, f):
    """(generated function, plain function) for each formula of the spec."""
    switch = activation.spec.switch
    if switch is None:
        return [(f, plain_function(activation))]
    flags = [switch.default, not switch.default]
    return [
        (functools.partial(f, **{switch.name: flag}), plain_function(activation, i))
        for i, flag in enumerate(flags)
    ]


def summed(function):
    return lambda *args: function(*args).sum()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(UNSEEN))
def test_unseen_spec_builds_imports_and_differentiates_correctly(tmp_path, name):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / f"{name}.toml").write_text(textwrap.dedent(UNSEEN[name]))
    assert main(["--root", str(tmp_path)]) == 0
    names = ["ruff", "check", "--no-cache", "--isolated", "--select", "F401,F821", "generated"]
    result = subprocess.run([sys.executable, "-m", *names], cwd=tmp_path, capture_output=True)
    assert result.returncode == 0, result.stdout.decode()  # it imports what it reads, no more
    package = import_package(tmp_path / "generated", f"generated_{name}")
    (activation,) = analyse(tmp_path)
    low, high = max(activation.spec.domain[0], -4.0), min(activation.spec.domain[1], 4.0)
    with jax.enable_x64(True):
        x = jnp.linspace(low, high, 43)[1:-1] + 0.0013
        params = [jnp.float64(p.default) for p in activation.spec.params]
        arrays = [jnp.full_like(x, p) for p in params]
        for f, plain in variants(activation, getattr(package, name)):
            mine = jax.vmap(jax.grad(f))(x, *arrays)
            reference = jax.vmap(jax.grad(plain))(x, *arrays)
            np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)
            for argnums in range(1, len(params) + 1):
                mine = jax.grad(summed(f), argnums)(x, *params)
                reference = jax.grad(summed(plain), argnums)(x, *params)
                np.testing.assert_allclose(mine, reference, rtol=1e-10)
            if params:  # the closed-form second partials, mixed ones included
                argnums = tuple(range(1, len(params) + 1))
                mine = jax.hessian(summed(f), argnums)(x, *params)
                reference = jax.hessian(summed(plain), argnums)(x, *params)
                np.testing.assert_allclose(np.array(mine), np.array(reference), rtol=1e-10)
            check_grads(f, (x, *params), order=2, modes=["fwd", "rev"])
