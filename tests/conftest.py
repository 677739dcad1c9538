"""Shared fixtures: the analysed catalogue, parametrised by activation."""

from pathlib import Path

import numpy as np

from codegen.accuracy import kinks
from codegen.build import analyse
from codegen.model import Activation, AxisActivation

ROOT = Path(__file__).resolve().parents[1]
ANALYSED = analyse(ROOT)
CATALOGUE = [a for a in ANALYSED if isinstance(a, Activation)]  # the elementwise ones
AXISWISE = [a for a in ANALYSED if isinstance(a, AxisActivation)]


PAIRED = [a for a in CATALOGUE if a.spec.jax_nn]
PARAMETERISED = [a for a in CATALOGUE if a.spec.params]


def pytest_generate_tests(metafunc):
    """Run a test on every spec (``activation``), on those with a jax.nn
    counterpart (``paired``) or on those with parameters (``parameterised``)."""
    groups = [("activation", CATALOGUE), ("paired", PAIRED), ("parameterised", PARAMETERISED)]
    for name, activations in groups:
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, activations, ids=[a.spec.name for a in activations])


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
