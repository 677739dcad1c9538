"""``new``: a commented spec file from a template, checked before it is written."""

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from codegen.build.kinds import kind
from codegen.build.layout import Layout
from codegen.emit.environment import ENVIRONMENT
from codegen.spec.load import SpecError, load_spec
from codegen.tools import catalogue


@dataclass(frozen=True)
class Draft:
    """What ``symjvp new`` was asked for."""

    name: str
    expression: str
    params: list[tuple[str, float]] = field(default_factory=list)
    summary: str = ""
    description: str = ""
    jax_nn: str = ""
    learnable: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)  # array inputs after x
    domain: tuple[str, str] | None = None
    aliases: list[str] = field(default_factory=list)


def parse_param(text: str) -> tuple[str, float]:
    """``alpha=1.0`` as ("alpha", 1.0), or ValueError saying what is wrong."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise ValueError(f"--param {text!r}: write NAME=DEFAULT, as in alpha=1.0")
    try:
        default = float(value)
    except ValueError:
        raise ValueError(f"--param {text!r}: the default {value!r} is not a number") from None
    if not math.isfinite(default):
        raise ValueError(f"--param {text!r}: the default must be finite")
    return name.strip(), default


def parse_domain(text: str) -> tuple[str, str]:
    """``0,inf`` as ("0", "inf"), or ValueError saying what is wrong."""
    parts = [p.strip() for p in text.split(",")]
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"--domain {text!r}: write LOW,HIGH, as in 0,inf") from None
    if not low < high:
        raise ValueError(f"--domain {text!r}: LOW must be below HIGH")
    return parts[0], parts[1]


def check_flags(draft: Draft) -> None:
    """Refuse what the flags say twice or inconsistently, naming the flag:
    a spec error in a file the user never wrote would point nowhere."""
    names = [name for name, _ in draft.params]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"--param {name} is given twice")
    for name in draft.inputs:
        if draft.inputs.count(name) > 1 or name in names or name == "x":
            raise ValueError(f"--input {name} is given twice, or is x or a --param")
    for name in draft.learnable:
        if name not in names:
            raise ValueError(f"--learnable {name}: declare it with --param {name}=DEFAULT first")


def spec_text(draft: Draft, layout: Layout) -> str:
    template = ENVIRONMENT.get_template("spec.toml.j2")
    return template.render(
        **{**vars(draft), "summary": draft.summary or f"The {draft.name} activation function."},
        out=layout.out_name,
        reference=catalogue.reference(),
    )


def text_from(source: str, name: str) -> str:
    """The catalogue's spec ``source`` as the start of a new spec ``name``.

    Its aliases and explicit name are dropped: they would export the
    catalogue's names, not the new one.
    """
    path = catalogue.spec_file(source)
    if path is None:
        raise ValueError(
            f"--from {source!r}: the catalogue has no such spec (symjvp list --catalogue)"
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith(("aliases =", "name ="))]
    first = f"# {name}: started from symjvp's {source} (`symjvp new {name} --from {source}`)."
    return "\n".join([first, *kept, ""])


def new_spec(layout: Layout, name: str, text: str) -> Path:
    """Write the project's NAME.toml if ``text`` is a valid spec and the file is new.

    Raises FileExistsError, or SpecError naming the field that is wrong.
    """
    path = layout.specs / f"{name}.toml"
    where = layout.relative(path)
    if path.exists():
        raise FileExistsError(f"{where} exists; edit it, or choose another name")
    with tempfile.TemporaryDirectory() as scratch:
        draft = Path(scratch) / path.name
        draft.write_text(text, encoding="utf-8")
        spec = load_spec(draft, Path(scratch))
        kind(spec).check(spec)
    if spec.name != name:
        raise SpecError(where, "name", f"must be {name!r}")
    _check_new_names(layout, spec, where)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _check_new_names(layout: Layout, spec, where: str) -> None:
    """Refuse a name or alias that another spec in the project already exports."""
    taken = {}
    for other in layout.spec_paths():
        try:
            existing = load_spec(other, layout.root)
        except SpecError:
            continue  # the build reports that spec's own errors
        taken.update(dict.fromkeys((existing.name, *existing.aliases), existing.path))
    for field_name, name in [("name", spec.name), *(("aliases", a) for a in spec.aliases)]:
        if name in taken:
            raise SpecError(where, field_name, f"{name!r} is already exported by {taken[name]}")


# The spec field each flag of ``symjvp new`` writes.
_FLAGS = {
    "expression": "--expression",
    "name": "NAME",
    "summary": "--summary",
    "description": "--description",
    "domain": "--domain",
    "aliases": "--alias",
    "jax_nn": "--jax-nn",
    "module": "--learnable",
    "inputs": "--input",
}


def as_flag_error(error: SpecError) -> ValueError:
    """A spec error in a drafted file, as an error in the flag that caused it."""
    field_name = error.field.split(".")[0].split("[")[0]
    flag = "--param" if field_name == "params" else _FLAGS.get(field_name, field_name)
    return ValueError(f"{flag}: {error.field} {error.message}")
