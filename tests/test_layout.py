"""The layout the README's "How it works" table describes: one subpackage
per stage, every module named in its row, and imports that flow one way,
down the table."""

import ast
import re

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text()
# (stage, package, modules) for each row of the table, top to bottom.
ROWS = [
    (stage, package.strip("`/"), re.findall(r"`([\w.]+\.py)`", modules))
    for stage, package, modules in re.findall(
        r"^\| (\w+) \| (`\w+/`) \| ([^|]+) \|", README.split("## How it works")[1], re.M
    )
]
ORDER = [package for _, package, _ in ROWS]


def test_the_table_lists_the_stages_of_the_pipeline():
    assert ORDER == ["numerics", "spec", "analysis", "emit", "build", "tools"]


@pytest.mark.parametrize(("stage", "package", "modules"), ROWS, ids=ORDER)
def test_each_row_names_every_module_of_its_package(stage, package, modules):
    found = {p.name for p in (ROOT / "codegen" / package).glob("*.py") if p.name != "__init__.py"}
    assert sorted(modules) == sorted(found)


@pytest.mark.parametrize("package", ORDER)
def test_a_stage_imports_only_the_stages_above_it(package):
    allowed = set(ORDER[: ORDER.index(package) + 1])
    for path in (ROOT / "codegen" / package).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("codegen."):
                    assert name.split(".")[1] in allowed, (path.name, name)
