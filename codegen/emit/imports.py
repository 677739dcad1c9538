"""The import lines of a generated module: what its code uses, found by name."""

import ast
import importlib.resources
import re
from collections.abc import Iterable

from codegen.emit.towers import Link

# The support module's public functions, the ones a generated module can call.
SUPPORT_FUNCTIONS = tuple(
    node.name
    for node in ast.parse(
        importlib.resources.files("codegen.emit").joinpath("support.py").read_text()
    ).body
    if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
)


def imports(code: str, linked: Iterable[Link] = ()) -> list[str]:
    """The import lines for what ``code`` uses."""
    lines = ["import functools", "", "import jax"] if "functools." in code else ["import jax"]
    if re.search(r"\bjnp\.", code):
        lines.append("import jax.numpy as jnp")
    lines.append("from jax import Array")
    if re.search(r"\blax\.", code):
        lines.append("from jax import lax")
    if re.search(r"\bspecial\.", code):
        lines.append("from jax.scipy import special")
    lines.append("from jax.typing import ArrayLike")
    shared: dict[str, tuple[str, ...]] = {"_support": SUPPORT_FUNCTIONS}
    for link in linked:  # two formulas can link to one module: gelu's two towers
        shared[link.module] = shared.get(link.module, ()) + link.names
    modules = []
    for module, names in sorted(shared.items()):
        used = sorted(name for name in names if re.search(rf"\b{name}\(", code))
        if used:
            modules.append(f"from .{module} import {', '.join(used)}")
    return [*lines, "", *modules]
