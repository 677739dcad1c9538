"""Shared fixtures: the analysed catalogue, parametrised by activation.

Collection reads only the spec files; the catalogue is analysed once, by the
session fixture ``catalogue``, when the first test that needs it runs.
"""

import fcntl
import importlib.util
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from codegen.analysis.model import Activation, AxisActivation
from codegen.build import cache
from codegen.build.layout import find_layout
from codegen.build.pipeline import analyse
from codegen.spec.load import load_spec
from codegen.tools.grid import kinks

ROOT = Path(__file__).resolve().parents[1]

# XLA's compiled programs persist between runs, in JAX's own cache beside the
# build cache: the quick tier's time is mostly compiling, 2:27 cold, 1:19 warm.
if not jax.config.jax_compilation_cache_dir:  # unless the user chose one
    jax.config.update("jax_compilation_cache_dir", str(cache.folder() / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
SPECS = [load_spec(path, ROOT) for path in find_layout(ROOT).spec_paths()]

# Fixture name -> the specs a test taking it runs on.
# Gated specs, with more than one array input, have their own tests: the
# others call f(x).
_SINGLE = [s for s in SPECS if len(s.inputs) == 1]
GROUPS = {
    "activation": [s for s in _SINGLE if not s.axis],  # the elementwise ones
    "paired": [s for s in _SINGLE if not s.axis and s.jax_nn],
    "parameterised": [s for s in _SINGLE if not s.axis and s.params],
    "axiswise": [s for s in SPECS if s.axis],
    "counterpart": [s for s in _SINGLE if s.jax_nn],  # either kind, with a jax.nn counterpart
    "gated": [s for s in SPECS if len(s.inputs) > 1],
}


@pytest.fixture(scope="session")
def catalogue(tmp_path_factory) -> dict[str, Activation | AxisActivation]:
    """Every spec analysed (from the cache where it can be), by name.

    The first xdist worker to get here derives what the cache lacks while the
    others wait for it, then read the cache: on a fresh machine each worker
    would otherwise derive the whole catalogue at once.
    """
    lock = tmp_path_factory.getbasetemp().parent / "catalogue.lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        return {a.spec.name: a for a in analyse(ROOT)}


def pytest_generate_tests(metafunc):
    """Run a test once per spec of each group fixture it takes."""
    for name, specs in GROUPS.items():
        if name in metafunc.fixturenames:
            names = [s.name for s in specs]
            metafunc.parametrize(name, names, ids=names, indirect=True)


def _member(request, catalogue):
    return catalogue[request.param]


activation = pytest.fixture(_member, name="activation")
paired = pytest.fixture(_member, name="paired")
parameterised = pytest.fixture(_member, name="parameterised")
axiswise = pytest.fixture(_member, name="axiswise")
counterpart = pytest.fixture(_member, name="counterpart")
gated = pytest.fixture(_member, name="gated")


def sample(
    activation: Activation, count: int = 64, seed: int = 0, margin: float = 1e-3
) -> np.ndarray:
    """Points spread over the domain, at least ``margin`` away from every kink."""
    rng = np.random.default_rng(seed)
    points = np.concatenate(
        [rng.normal(0.0, 3.0, count // 2), rng.uniform(-12.0, 12.0, count // 2)]
    )
    low, high = activation.spec.domain
    if np.isfinite(low):
        points = low + np.abs(points) + margin
    if np.isfinite(high):
        points = np.minimum(points, high - margin)
    for kink in kinks(activation):
        points = np.where(np.abs(points - kink) < margin, points + 2 * margin, points)
    return points


def import_package(folder: Path, name: str):
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def simd_features() -> str:
    """The CPU features NumPy dispatches on here, beyond its baseline: set as
    NPY_DISABLE_CPU_FEATURES, NumPy computes as on a machine without them."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return " ".join(f for f in __cpu_dispatch__ if __cpu_features__.get(f))
