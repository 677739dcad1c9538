"""Format generated source with black, in-process."""

import re

import black

LINE_LENGTH = 100
_MODE = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=LINE_LENGTH)


def format_source(source: str, path: str) -> str:
    """``source`` formatted by black; ``path`` names it in errors."""
    try:
        return black.format_str(source, mode=_MODE)
    except black.InvalidInput as error:  # a generator bug, not a spec error
        raise RuntimeError(f"generated {path} is not valid Python: {error}") from None


def width(code: str) -> int:
    """The length of one line of printed ``code`` once black spaces it: the
    printer writes ``a*b/c``, black ``a * b / c`` (but ``a**2``)."""
    return len(code) + 2 * len(re.findall(r"(?<!\*)[*/](?!\*)", code))
