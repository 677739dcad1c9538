"""The project's own checks, in CI: ruff with the project's configuration,
mypy on the generator, and pyflakes' rules on the generated package."""

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
        # pyflakes' rules on the emitted code: it imports what it reads, no more.
        ["ruff", "check", "--no-cache", "--isolated", "--select", "F", "generated"],
    ],
    ids=["ruff", "ruff-format", "mypy", "generated-names"],
)
def test_the_code_passes(command):
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
