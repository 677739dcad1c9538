"""The hash line of generated files, which shows a hand edit.

Each generated file's second line is a hash of the lines after it, so a file
edited by hand is found before a build would overwrite it.
"""

import hashlib

_STAMP = "# sha256 of the lines below: "


def stamp(text: str) -> str:
    """``text`` with the hash line after its first line (the header)."""
    first, _, rest = text.partition("\n")
    return f"{first}\n{_STAMP}{_digest(rest)}\n{rest}"


def edited(text: str) -> bool:
    """Whether ``text`` is not, or is no longer, what a build wrote."""
    _, _, rest = text.partition("\n")
    line, _, body = rest.partition("\n")
    return not line.startswith(_STAMP) or line[len(_STAMP) :] != _digest(body)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
