"""``new``: a commented spec file from a template, checked before it is written."""

import math
import tempfile
from pathlib import Path

from codegen.analysis.derive import check
from codegen.build.pipeline import SPECS
from codegen.emit.activation import ENVIRONMENT
from codegen.spec.load import SpecError, load_spec


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


def spec_text(
    name: str, expression: str, params: list[tuple[str, float]], summary: str, jax_nn: str
) -> str:
    template = ENVIRONMENT.get_template("spec.toml.j2")
    return template.render(
        name=name, expression=expression, params=params, summary=summary, jax_nn=jax_nn
    )


def new_spec(root: Path, name: str, text: str) -> Path:
    """Write specs/NAME.toml if ``text`` is a valid spec and the file is new.

    Raises FileExistsError, or SpecError naming the field that is wrong.
    """
    path = root / SPECS / f"{name}.toml"
    if path.exists():
        raise FileExistsError(f"{path.relative_to(root)} exists; edit it, or choose another name")
    with tempfile.TemporaryDirectory() as scratch:
        draft = Path(scratch) / SPECS / path.name
        draft.parent.mkdir()
        draft.write_text(text, encoding="utf-8")
        spec = load_spec(draft, Path(scratch))
        if spec.axis is None:
            check(spec)
    if spec.name != name:
        raise SpecError(f"{SPECS}/{path.name}", "name", f"must be {name!r}")
    _check_new_names(root, spec)
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _check_new_names(root: Path, spec) -> None:
    """Refuse a name or alias that another spec in the project already exports."""
    taken = {}
    for other in sorted((root / SPECS).glob("*.toml")):
        try:
            existing = load_spec(other, root)
        except SpecError:
            continue  # the build reports that spec's own errors
        taken.update(dict.fromkeys((existing.name, *existing.aliases), existing.path))
    for field, name in [("name", spec.name), *(("aliases", a) for a in spec.aliases)]:
        if name in taken:
            raise SpecError(
                f"{SPECS}/{spec.name}.toml", field, f"{name!r} is already exported by {taken[name]}"
            )
