"""The project's own checks, in CI: ruff with the project's configuration,
and mypy on the generator."""

import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "codegen", "tests", "examples"],
        ["ruff", "format", "--check", "codegen", "tests", "examples"],
        ["mypy", "codegen"],
    ],
    ids=["ruff", "ruff-format", "mypy"],
)
def test_the_code_passes(command):
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
