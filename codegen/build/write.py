"""Compare generated files with generated/ on disk, and replace it atomically."""

import os
import shutil
import tempfile
from pathlib import Path

from codegen.build.pipeline import GENERATED
from codegen.build.stamp import edited


def edited_files(root: Path, paths: list[str]) -> list[str]:
    """The ``paths`` in generated/ whose content is not what a build wrote."""
    current = on_disk(root)
    return [p for p in paths if p in current and edited(current[p])]


def on_disk(root: Path) -> dict[str, str]:
    """The files now in generated/, by path relative to ``root``."""
    folder = root / GENERATED
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def changes(root: Path, files: dict[str, str]) -> list[str]:
    """Paths that writing ``files`` would create, change or delete."""
    current = on_disk(root)
    return sorted(p for p in files.keys() | current.keys() if files.get(p) != current.get(p))


def replace_generated(root: Path, files: dict[str, str]) -> None:
    """Write ``files`` into a fresh folder, then swap it in for generated/.

    generated/ is never left half-written: either the old folder or the new
    one is in place at every moment, and a failure restores the old one.
    """
    target = root / GENERATED
    staging = Path(tempfile.mkdtemp(prefix=".generated-new-", dir=root))
    try:
        for relative, text in files.items():
            path = staging / Path(relative).relative_to(GENERATED)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        retired = root / f".generated-old-{os.getpid()}"
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
