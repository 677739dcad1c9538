"""Where a project keeps its specs and its generated package.

The defaults are ``specs/`` and ``generated/``; a project's pyproject.toml
can change them under ``[tool.symjvp]`` (keys ``specs`` and ``out``), and
``--specs`` and ``--out`` override both.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path

from codegen.spec.load import SpecError

DEFAULT_SPECS = "specs"
DEFAULT_OUT = "generated"


@dataclass(frozen=True)
class Layout:
    """A project: its folder, and its specs and output folders inside it."""

    root: Path  # absolute; messages and generated headers name paths relative to it
    specs: Path  # absolute
    out: Path  # absolute

    def relative(self, path: Path) -> str:
        """``path`` as written in messages: from the root if it is inside it."""
        return (
            path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else str(path)
        )

    @property
    def out_name(self) -> str:
        """The output folder as file paths in a build name it, e.g. "generated"."""
        return self.relative(self.out)

    @property
    def specs_name(self) -> str:
        return self.relative(self.specs)

    @property
    def package(self) -> str:
        """The output's dotted import name: ``src/mypkg/acts`` is ``mypkg.acts``."""
        parts = list(Path(self.out_name).parts) if self.out.is_relative_to(self.root) else []
        if parts and parts[0] == "src":
            parts = parts[1:]
        return ".".join(parts or [self.out.name])

    def spec_paths(self) -> list[Path]:
        return sorted(self.specs.glob("*.toml"))

    def file(self, name: str) -> str:
        """The path of a generated file, as a build's results key it."""
        return f"{self.out_name}/{name}"


def find_layout(root: Path, specs: Path | None = None, out: Path | None = None) -> Layout:
    """The layout of the project in ``root``: flags, then [tool.symjvp], then defaults.

    ``specs`` and ``out`` (the flags) are relative to the current folder;
    the configuration's are relative to ``root``.
    """
    root = root.resolve()
    config = _configuration(root / "pyproject.toml")
    layout = Layout(
        root=root,
        specs=specs.resolve() if specs else root / config.get("specs", DEFAULT_SPECS),
        out=out.resolve() if out else root / config.get("out", DEFAULT_OUT),
    )
    bad = [p for p in layout.package.split(".") if not p.isidentifier()]
    if bad:
        field = "--out" if out else "[tool.symjvp] out"
        raise SpecError(
            "pyproject.toml" if not out else "command line",
            field,
            f"{layout.out_name!r} is not an importable package path ({bad[0]!r} is not a"
            " Python identifier)",
        )
    return layout


def _configuration(pyproject: Path) -> dict[str, str]:
    """The [tool.symjvp] table of ``pyproject``, checked; empty if there is none."""
    if not pyproject.is_file():
        return {}
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
    except tomllib.TOMLDecodeError as error:
        raise SpecError("pyproject.toml", "(file)", f"is not valid TOML: {error}") from None
    config = table.get("symjvp", {})
    for key, value in config.items():
        if key not in ("specs", "out"):
            raise SpecError(
                "pyproject.toml", f"[tool.symjvp] {key}", "is not a key: use specs or out"
            )
        if not isinstance(value, str) or not value:
            raise SpecError("pyproject.toml", f"[tool.symjvp] {key}", "must be a folder path")
    return config


def as_layout(project: "Layout | Path") -> Layout:
    """``project`` itself, or the layout of the project folder it names."""
    return project if isinstance(project, Layout) else find_layout(project)
