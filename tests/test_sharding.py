"""Beyond one device: JAX's SPMD partitioner runs the generated functions.

The checks need 8 host devices, which XLA_FLAGS must ask for before JAX
starts, so they run in a process of their own: tests/sharding_check.py.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow  # a process of its own, with 8 devices

CHECK = Path(__file__).with_name("sharding_check.py")


def test_sharded_inputs_give_unsharded_results_and_keep_their_sharding():
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": str(ROOT),  # generated/ is this checkout's, not an installed package
    }
    result = subprocess.run(
        [sys.executable, str(CHECK)], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "on 8 devices" in result.stdout
