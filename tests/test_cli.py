"""The command line, end to end: from nothing to a new activation in the docs."""

import shutil
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from codegen.build import pipeline
from codegen.tools.cli import main
from conftest import ROOT, import_package

BENT = "x + (sqrt(x**2 + 1) - 1)/2"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project: specs, generated files and the accuracy report."""
    for folder in ("specs", "generated"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__py*"))
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "accuracy.md", tmp_path / "docs")
    return tmp_path


@pytest.fixture
def small_project(tmp_path: Path) -> Path:
    """A project of one catalogue spec, elu: a build from scratch and the
    docs' plots take seconds, not a minute, for the whole catalogue."""
    (tmp_path / "specs").mkdir()
    shutil.copy(ROOT / "specs" / "elu.toml", tmp_path / "specs")
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "accuracy.md", tmp_path / "docs")
    return tmp_path


def run(project: Path, capsys, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--root", str(project)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_new_build_show_list_docs(small_project, capsys):
    project = small_project
    # c is declared but unused: the spec is refused and nothing is written.
    code, _, err = run(project, capsys, "new", "bent", "--expression", BENT, "--param", "c=1")
    assert code == 2 and "params.c" in err and "never used" in err
    assert not (project / "specs" / "bent.toml").exists()
    code, out, _ = run(project, capsys, "new", "bent", "--expression", BENT)
    assert code == 0 and "specs/bent.toml" in out
    text = (project / "specs" / "bent.toml").read_text()
    assert "# " in text and 'expression = "x + (sqrt(x**2 + 1) - 1)/2"' in text

    code, out, _ = run(project, capsys, "--no-cache")  # derived, whatever ran before
    assert code == 0 and "bent(x)" in out and "[" in out  # progress, one line a spec
    package = import_package(project / "generated", "generated_cli")
    x = jnp.linspace(-3.0, 3.0, 7)
    np.testing.assert_allclose(
        jax.vmap(jax.grad(package.bent))(x), 1 + x / (2 * jnp.sqrt(x**2 + 1)), rtol=1e-6
    )

    code, out, _ = run(project, capsys, "show", "bent")
    assert code == 0
    assert "f(x)     = x + sqrt(x**2 + 1)/2 - 1/2" in out
    assert "f'(x)    = " in out and "stable forms" in out
    assert "def bent(x: ArrayLike) -> Array:" in out  # the generated source

    code, out, _ = run(project, capsys, "list")
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert lines["bent"].split()[1:3] == ["-", "-"] and BENT in lines["bent"]
    assert "jax.nn.elu" in lines["elu"] and "alpha=1" in lines["elu"]

    code, out, _ = run(project, capsys, "docs")
    page = (project / "docs" / "activations.md").read_text()
    assert code == 0 and "## bent" in page and "[bent](#bent)" in page
    assert r"\mathrm{bent}'(x) = " in page
    if _has_matplotlib():
        assert (project / "docs" / "plots" / "bent.png").stat().st_size > 1000
        assert (project / "docs" / "gallery.png").exists()

    assert run(project, capsys, "--check")[0] == 0
    (project / "docs" / "activations.md").write_text(page.replace("## bent", "## bend"))
    code, out, _ = run(project, capsys, "--check")
    assert code == 1 and "would change: docs/activations.md" in out
    code, out, _ = run(project, capsys)  # a build writes nothing outside generated/
    assert code == 0 and "run `symjvp docs`" in out
    assert (project / "docs" / "activations.md").read_text() != page
    assert run(project, capsys, "docs")[0] == 0
    assert (project / "docs" / "activations.md").read_text() == page


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def test_list_reads_the_specs_and_derives_nothing(small_project, capsys, monkeypatch):
    def derive(*args):
        raise AssertionError("list derived a formula")

    monkeypatch.setattr(pipeline, "_build_all", derive)
    monkeypatch.setenv("SYMJVP_CACHE", str(small_project / "cache"))  # empty
    code, out, _ = run(small_project, capsys, "list")
    assert code == 0 and "jax.nn.elu" in out
    (small_project / "specs" / "bad.toml").write_text('summary = "B."\nexpression = "expp(x)"\n')
    code, _, err = run(small_project, capsys, "list")  # the cheap checks still run
    assert code == 2 and "bad.toml" in err and "did you mean 'exp'" in err


def test_show_gives_the_stable_partials_in_the_parameters(small_project, capsys):
    code, out, _ = run(small_project, capsys, "show", "elu")
    assert code == 0 and "    df/dalpha: Piecewise((0, x > 0), (expm1(x), True))" in out
    assert "    d2f/dalpha**2: 0" in out  # elu is linear in alpha


def test_new_refuses_to_overwrite_a_spec(project, capsys):
    before = (project / "specs" / "elu.toml").read_text()
    code, _, err = run(project, capsys, "new", "elu", "--expression", "x")
    assert code == 2 and "specs/elu.toml exists" in err
    assert (project / "specs" / "elu.toml").read_text() == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--expression", "x*alpa", "--param", "alpha=1"], "did you mean 'alpha'"),
        (["--expression", "x*beta"], "[params]"),
        (["--expression", "expp(x)"], "did you mean 'exp'"),
        (["--expression", "x", "--param", "a"], "NAME=DEFAULT"),
        (["--expression", "x", "--param", "a=one"], "not a number"),
        (["--expression", "x*gate"], "declare arrays in inputs"),
        (["--expression", "x*g", "--input", "g", "--input", "g"], "--input g is given twice"),
        (["--expression", "x*g", "--input", "g", "--param", "g=1"], "--input g"),
    ],
)
def test_new_explains_a_bad_spec_and_writes_nothing(project, capsys, argv, message):
    code, _, err = run(project, capsys, "new", "oops", *argv)
    assert code == 2 and message in err
    assert not (project / "specs" / "oops.toml").exists()


def test_new_input_writes_a_gated_spec_that_builds(project, capsys):
    code, out, _ = run(project, capsys, "new", "gated", "--expression", "x*gate", "--input", "gate")
    assert code == 0 and "wrote specs/gated.toml" in out
    assert 'inputs = ["x", "gate"]' in (project / "specs" / "gated.toml").read_text()
    code, out, _ = run(project, capsys, "show", "gated")
    assert code == 0 and "df/dgate: x" in out


def test_show_suggests_a_close_name(project, capsys):
    code, _, err = run(project, capsys, "show", "slu")
    assert code == 2 and "did you mean 'silu'" in err


@pytest.mark.parametrize("verb", [[], ["build"], ["new"], ["show"], ["list"], ["docs"]])
def test_every_verb_has_help_with_examples(verb, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*verb, "--help"])
    assert exit_.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("symjvp")
    if not script.exists():
        pytest.skip("symjvp is installed by pip install -e .")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "symjvp new" in result.stdout
