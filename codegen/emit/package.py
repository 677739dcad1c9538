"""The package's own files: ``__init__.py``, exporting each activation, and
``_support.py``, a copy of support.py."""

import importlib.resources
from dataclasses import dataclass

from codegen.analysis.model import Activation
from codegen.emit.environment import ENVIRONMENT, header


@dataclass(frozen=True)
class Export:
    module: str
    function: str
    name: str


def emit_init(activations: list[Activation], specs: str = "specs") -> str:
    exports = []
    for a in activations:
        module = f"_{a.spec.name}"
        exports += [Export(module, a.spec.name, n) for n in (a.spec.name, *a.spec.aliases)]
    return ENVIRONMENT.get_template("init.py.j2").render(
        header=header(f"the specs in {specs}/"), exports=exports
    )


def emit_support() -> str:
    """The support module every generated package carries: a copy of support.py."""
    source = importlib.resources.files("codegen.emit").joinpath("support.py").read_text()
    return header("symjvp's codegen/emit/support.py") + "\n" + source
