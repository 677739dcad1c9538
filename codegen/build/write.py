"""Compare a build's files with the output folder on disk, and replace it atomically."""

import os
import shutil
import tempfile
from pathlib import Path

from codegen.build.layout import Layout, as_layout
from codegen.build.stamp import edited


def edited_files(project: Layout | Path, paths: list[str]) -> list[str]:
    """The ``paths`` in the output folder whose content is not what a build wrote."""
    current = on_disk(project)
    return [p for p in paths if p in current and edited(current[p])]


def on_disk(project: Layout | Path) -> dict[str, str]:
    """The files now in the output folder, by path relative to the project root."""
    layout = as_layout(project)
    if not layout.out.is_dir():
        return {}
    return {
        layout.relative(path): path.read_text(encoding="utf-8")
        for path in sorted(layout.out.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def changes(project: Layout | Path, files: dict[str, str]) -> list[str]:
    """Paths that writing ``files`` would create, change or delete."""
    current = on_disk(project)
    return sorted(p for p in files.keys() | current.keys() if files.get(p) != current.get(p))


def replace_generated(project: Layout | Path, files: dict[str, str]) -> None:
    """Write ``files`` into a fresh folder, then swap it in for the output folder.

    The output folder is never left half-written: either the old folder or the
    new one is in place at every moment, and a failure restores the old one.
    """
    layout = as_layout(project)
    target = layout.out
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-new-", dir=target.parent))
    try:
        _follow_umask(staging)
        for relative, text in files.items():
            path = staging / Path(relative).relative_to(layout.out_name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        retired = target.parent / f".{target.name}-old-{os.getpid()}"
        if target.exists():
            target.rename(retired)
        try:
            staging.rename(target)
        except OSError:
            if retired.exists():
                retired.rename(target)
            raise
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _follow_umask(folder: Path) -> None:
    """mkdtemp makes folders 0700; the output is a package like any other (0755)."""
    mask = os.umask(0)
    os.umask(mask)
    folder.chmod(0o777 & ~mask)
