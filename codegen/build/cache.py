"""Analysed specs cached by a hash of the spec and of the generator.

A spec whose hash is unchanged is not derived again: a no-op build only
reads the cache.  The hash covers the validated spec, every file of the
generator and the versions of the libraries whose output it depends on,
so an edit to any of them misses, and projects can share one cache.  It
lives outside the project, in $SYMJVP_CACHE, else $XDG_CACHE_HOME/symjvp,
else ~/.cache/symjvp; an entry unused for 30 days is removed.
"""

import functools
import hashlib
import importlib.metadata
import os
import pickle
import time
from pathlib import Path

_UNUSED_SECONDS = 30 * 24 * 3600
_LIBRARIES = ("sympy", "mpmath", "numpy", "scipy", "black", "jinja2", "jax", "jaxlib")


@functools.cache
def fingerprint() -> str:
    """A hash of the generator's source, templates and library versions."""
    digest = hashlib.sha256()
    package = Path(__file__).parents[1]  # all of codegen
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".j2"):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    for library in _LIBRARIES:
        digest.update(f"{library}=={importlib.metadata.version(library)}".encode())
    return digest.hexdigest()


def key(*parts: object) -> str:
    """The cache key of ``parts`` (a spec, or every spec of a build) and the generator."""
    return hashlib.sha256("\n".join([fingerprint(), *map(repr, parts)]).encode()).hexdigest()


def folder() -> Path:
    if "SYMJVP_CACHE" in os.environ:
        return Path(os.environ["SYMJVP_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "symjvp"


def load(name: str):
    """The value stored under the key ``name``, or None."""
    path = folder() / f"{name}.pickle"
    try:
        value = pickle.loads(path.read_bytes())
        path.touch()  # used: not to be removed as stale
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None  # missing, or unreadable: derive again
    return value


def store(results: dict[str, object]) -> None:
    """Add ``results``, by key, and remove the entries unused for long."""
    try:
        home = folder()
        home.mkdir(parents=True, exist_ok=True)
        for name, value in results.items():
            path = home / f"{name}.pickle"
            if not path.exists():
                temporary = home / f"{name}.{os.getpid()}.tmp"
                temporary.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                temporary.replace(path)
        cutoff = time.time() - _UNUSED_SECONDS
        for path in home.glob("*.pickle"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
    except OSError:
        pass  # a cache that cannot be written only costs time
