"""The whole pipeline: specs/ -> the text of every file in generated/."""

from collections.abc import Callable
from pathlib import Path

from codegen.derive import derive
from codegen.emit import emit_activation, emit_init, emit_support
from codegen.format import format_source
from codegen.model import Activation
from codegen.spec import SpecError, load_spec

SPECS = "specs"
GENERATED = "generated"


def spec_paths(root: Path) -> list[Path]:
    return sorted((root / SPECS).glob("*.toml"))


def analyse(
    root: Path, progress: Callable[[Activation], None] = lambda a: None
) -> list[Activation]:
    """Load and derive every spec, in name order; the first bad spec raises."""
    activations = []
    exported: dict[str, str] = {}
    for path in spec_paths(root):
        activation = derive(load_spec(path, root))
        spec = activation.spec
        for field, name in [("name", spec.name), *(("aliases", a) for a in spec.aliases)]:
            if name in exported:
                raise SpecError(
                    spec.path, field, f"{name!r} is already exported by {exported[name]}"
                )
            exported[name] = spec.path
        progress(activation)
        activations.append(activation)
    return sorted(activations, key=lambda a: a.spec.name)


def render(activations: list[Activation]) -> dict[str, str]:
    """Every generated file, by its path relative to the project root."""
    sources = {f"{GENERATED}/_{a.spec.name}.py": emit_activation(a) for a in activations}
    sources[f"{GENERATED}/__init__.py"] = emit_init(activations)
    sources[f"{GENERATED}/_support.py"] = emit_support()
    return {path: format_source(text, path) for path, text in sorted(sources.items())}
