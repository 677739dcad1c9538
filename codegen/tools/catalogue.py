"""symjvp's own specs, shipped as package data (``codegen.catalogue``).

In an installed wheel they are specs/, mapped into the package by
pyproject.toml; in a source checkout (an editable install) specs/ itself.
"""

import importlib.util
from pathlib import Path

from codegen.build.layout import Layout


def folder() -> Path:
    """The folder holding the catalogue's spec files and their README."""
    # A folder of data files is a namespace package: its spec has locations, no file.
    found = importlib.util.find_spec("codegen.catalogue")
    if found is not None and found.submodule_search_locations:
        return Path(next(iter(found.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "specs"  # an editable install


def layout() -> Layout:
    """The catalogue as a project of its own; it is only ever read, never built into."""
    specs = folder()
    return Layout(root=specs.parent, specs=specs, out=specs.parent / "symjvp")


def spec_file(name: str) -> Path | None:
    """The catalogue's spec ``name``, or None if it has none by that name."""
    path = folder() / f"{name}.toml"
    return path if path.is_file() else None


def reference() -> Path:
    """specs/README.md: the reference for every field of a spec."""
    return folder() / "README.md"
