"""Analysed specs cached by a hash of the spec and of the generator.

A spec whose hash is unchanged is not derived again: a no-op build only
reads the cache.  The hash covers the validated spec, every file of the
generator and the versions of the libraries whose output it depends on,
so an edit to any of them misses.  The cache lives in .symjvp-cache/ beside
specs/, is written only by the build, and holds the entries of the last
build alone.
"""

import functools
import hashlib
import importlib.metadata
import pickle
from pathlib import Path

from codegen.model import Spec

FOLDER = ".symjvp-cache"
_LIBRARIES = ("sympy", "mpmath", "numpy", "scipy", "black", "jinja2", "jax", "jaxlib")


@functools.cache
def fingerprint() -> str:
    """A hash of the generator's source, templates and library versions."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".j2"):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    for library in _LIBRARIES:
        digest.update(f"{library}=={importlib.metadata.version(library)}".encode())
    return digest.hexdigest()


def key(spec: Spec) -> str:
    return hashlib.sha256(f"{fingerprint()}\n{spec!r}".encode()).hexdigest()


def load(root: Path, spec: Spec):
    """The cached result for ``spec``, or None."""
    path = root / FOLDER / f"{key(spec)}.pickle"
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None  # missing, or written by another version: derive again


def store(root: Path, results: dict[str, object]) -> None:
    """Keep exactly ``results``, by key: entries of earlier builds go."""
    folder = root / FOLDER
    folder.mkdir(exist_ok=True)
    for name, value in results.items():
        path = folder / f"{name}.pickle"
        if not path.exists():
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            temporary.replace(path)
    for path in folder.iterdir():
        if path.stem not in results:
            path.unlink(missing_ok=True)
