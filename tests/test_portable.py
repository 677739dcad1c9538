"""The float32 and float64 functions the analysis scores forms with: the
same on every machine, within 1.5 ulps, exact where the result is."""

import os
import subprocess
import sys

import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from codegen.numerics.portable import FUNCTIONS, integer_power
from conftest import simd_features

POINTS = np.float32(np.linspace(-20, 20, 4001))


_DIGEST = (
    "import hashlib, numpy as np; from codegen.numerics.portable import FUNCTIONS; "
    "x = np.float32(np.linspace(-20, 20, 4001)); "
    "print(hashlib.sha256(b''.join(FUNCTIONS[f](x.astype(t)).tobytes() "
    "for f in ('exp', 'tanh', 'expm1', 'log1p', 'sin') for t in (np.float32, np.float64)))"
    ".hexdigest())"
)


def test_values_do_not_depend_on_the_simd_features_of_the_cpu():
    # NumPy's own np.tanh differs in the last bit with and without AVX-512.
    runs = [
        subprocess.run(
            [sys.executable, "-c", _DIGEST],
            env={**os.environ, "NPY_DISABLE_CPU_FEATURES": disabled},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for disabled in ("", simd_features())
    ]
    assert runs[0] == runs[1]


@pytest.mark.parametrize("name", ["exp", "tanh", "expm1", "log1p", "sin"])
def test_within_one_and_a_half_ulps_and_moved_off_the_nearest_somewhere(name):
    points = np.abs(POINTS) if name == "log1p" else POINTS
    got = FUNCTIONS[name](points)
    exact = getattr(mpmath, name)
    with mpmath.workdps(30):
        truth = np.array([float(exact(mpmath.mpf(float(p)))) for p in points])
    nearest = truth.astype(np.float32)
    ulps = np.abs(got - truth) / np.spacing(np.abs(nearest))
    assert ulps.max() <= 1.5
    assert (got != nearest).mean() > 0.25  # no more accurate than XLA's own


def test_exact_results_stay_exact_and_odd_functions_stay_odd():
    assert FUNCTIONS["exp"](np.float32([0.0]))[0] == 1
    assert FUNCTIONS["tanh"](np.float32([0.0]))[0] == 0
    assert np.array_equal(FUNCTIONS["tanh"](-POINTS), -FUNCTIONS["tanh"](POINTS))
    assert np.isinf(FUNCTIONS["exp"](np.float32([100.0]))[0])  # overflow is not moved back


def test_an_integer_power_rounds_as_jax_s():
    x = np.float32(np.linspace(0.5, 3, 1001))
    for n in (3, 5, 7):
        assert np.array_equal(integer_power(x, n), np.asarray(jnp.asarray(x) ** n)), n
