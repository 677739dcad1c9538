"""A zoo of published activations the catalogue does not have, built as a
user would build them: spec files in a project, one build, one import.
Each is checked against mpmath at every order up to 2, at random and far
points, with its parameters over four decades."""

import shutil
from pathlib import Path

import pytest
from unseen import check

from codegen.build.pipeline import build
from codegen.build.write import replace_generated
from conftest import import_package

# Builds formulas from scratch, once: on one xdist worker, not on each.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("zoo")]

ZOO = Path(__file__).parent / "zoo"
NAMES = sorted(p.stem for p in ZOO.glob("*.toml"))


@pytest.fixture(scope="session")
def zoo(tmp_path_factory):
    """(activations by name, the imported package) for the whole zoo.

    Session-scoped: xdist runs other modules' tests between the zoo's on its
    worker, and a module-scoped fixture was built again after each, 85 s."""
    root = tmp_path_factory.mktemp("zoo")
    shutil.copytree(ZOO, root / "specs")
    # A checked budget, not the default 60 s: soft clipping alone builds in
    # 30 s, and past 60 beside the rest of the suite on two cores.
    activations, files = build(root, seconds=180)
    replace_generated(root, files)
    package = import_package(root / "generated", "generated_zoo")
    return {a.spec.name: a for a in activations}, package


def test_the_zoo_has_forty_activations_the_catalogue_lacks():
    catalogue = {p.stem for p in (ZOO.parents[1] / "specs").glob("*.toml")}
    assert len(NAMES) >= 40 and not catalogue & set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_zoo_values_and_derivatives_match_mpmath(zoo, name):
    activations, package = zoo
    check(activations[name], getattr(package, name))
