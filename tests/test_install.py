"""The installed wheel, used from a folder outside this repository, as the
README's "Use it in your own project" section says."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("install")]  # one wheel, one worker


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """symjvp's wheel, built from this checkout and installed into a folder of its own."""
    wheels = tmp_path_factory.mktemp("wheels")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True)
    target = tmp_path_factory.mktemp("site")
    install = [*pip, "install", "--no-deps", "--target", str(target), *map(str, wheels.iterdir())]
    subprocess.run(install, check=True, capture_output=True)
    return target


@pytest.fixture
def user(site, tmp_path) -> dict:
    """A user's empty project folder, with symjvp importable from ``site`` only."""
    path = f"{site / 'bin'}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "PYTHONPATH": str(site), "PATH": path, "SYMJVP_CACHE": str(tmp_path / "c")}
    (tmp_path / "project").mkdir()
    return {"cwd": tmp_path / "project", "env": env}


def shell(user: dict, command: str) -> str:
    result = subprocess.run(
        command, shell=True, capture_output=True, text=True, timeout=600, **user
    )
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


def readme_blocks() -> dict[str, list[str]]:
    """The code blocks of the README's "Use it in your own project", by language."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Use it in your own project\n")[1].split("\n### ")[0]
    blocks: dict[str, list[str]] = {}
    for language, body in re.findall(r"```(\w+)\n(.*?)```", section, re.S):
        blocks.setdefault(language, []).append(body)
    return blocks


def test_the_readme_project_flow_works_from_the_wheel(site, user):
    blocks = readme_blocks()
    (user["cwd"] / "pyproject.toml").write_text(blocks["toml"][0])
    for line in blocks["sh"][0].splitlines():
        shell(user, line)
    package = user["cwd"] / "src" / "mypkg" / "activations"
    written = {p.name for p in package.iterdir()}
    assert {"_myswish.py", "_bent.py", "_scaled.py", "linen.py"} <= written
    (user["cwd"] / "train.py").write_text(blocks["python"][0])
    user["env"]["PYTHONPATH"] += os.pathsep + str(user["cwd"] / "src")
    loss = float(shell(user, f"{sys.executable} train.py").split()[-1])
    assert loss < 0.05  # sin(2x) has variance 0.5: the model learned it
    where = "import codegen, symjvp; print(codegen.__file__, symjvp.__file__)"
    for path in shell(user, f'{sys.executable} -c "{where}"').split():
        assert Path(path).is_relative_to(site)  # not this checkout


def test_catalogue_commands_work_anywhere(site, user):
    assert "def relu(x: ArrayLike) -> Array:" in shell(user, "symjvp show relu")
    assert "jax.nn.softmax" in shell(user, "symjvp list --catalogue")
    # A closed pipe; hard_tanh derives in a second, where gelu takes ten.
    assert len(shell(user, "symjvp show hard_tanh | head -3").splitlines()) == 3


def test_the_notebook_api_writes_no_files(site, user):
    script = "import codegen; f = codegen.activation('x*tanh(softplus(x))'); print(f(1.0))"
    out = shell(user, f'{sys.executable} -c "{script}"')
    assert abs(float(out) - 0.8650984) < 1e-6
    assert not any(user["cwd"].iterdir())
