"""The emission boundary: SymPy in, jax.numpy source text out, with the
import lines that text needs.

Emitters build SymPy expressions and hand them here to be written; the
structure around them (decorators, rules, support calls) they write
themselves, through :meth:`JaxBackend.name`. Either way each name the code
reads from outside is recorded as it is written, so a module's imports are
exactly what it uses, with no second look at the rendered text.
"""

import ast
import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from codegen.emit.cse import eliminate
from codegen.emit.printer import JnpPrinter
from codegen.numerics.evaluate import fold_constants

# The support module's public functions, the ones a generated module can call.
SUPPORT_FUNCTIONS = tuple(
    node.name
    for node in ast.parse(
        importlib.resources.files("codegen.emit").joinpath("support.py").read_text()
    ).body
    if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
)
# What each name a printed module may read is imported by, in import order.
_MODULES = {
    "jnp": "import jax.numpy as jnp",
    "special": "from jax.scipy import special",
}


@dataclass(frozen=True)
class Assignment:
    name: str
    code: str


@dataclass(frozen=True)
class Body:
    """Assignments, then the value a function returns, as code."""

    assignments: tuple[Assignment, ...]
    value: str


class JaxBackend:
    """Writes one generated module's code, and keeps what it reads from outside."""

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._linked: dict[str, set[str]] = {}  # another generated module's names
        self._printer = JnpPrinter(self._used)

    def expression(self, expr: sp.Basic) -> str:
        """The text of ``expr``."""
        return self._printer.doprint(fold_constants(expr))

    def factor(self, expr: sp.Basic) -> str:
        """The text of ``expr`` as a factor of a product: ``(k + 1)``, not ``k + 1``."""
        folded = fold_constants(expr)
        if folded.could_extract_minus_sign():  # -a * g is (-a) * g
            return f"-{self.factor(-folded)}"
        return self._printer.parenthesize(folded, PRECEDENCE["Mul"], strict=True)

    def body(self, expr: sp.Expr, inputs: Sequence[sp.Symbol]) -> Body:
        """A function's body: its shared subexpressions as assignments, then its value."""
        replacements, (value,) = eliminate([expr], inputs)
        assignments = tuple(Assignment(s.name, self.expression(e)) for s, e in replacements)
        return Body(assignments, self.expression(value))

    def name(self, name: str, module: str | None = None) -> str:
        """``name`` as the code writes it: qualified (``jnp.where``), a support
        function's, or one of the generated ``module``'s beside this one."""
        if module is None:
            self._used.add(name.split(".")[0])
        else:
            self._linked.setdefault(module, set()).add(name)
        return name

    def imports(self) -> list[str]:
        """The import lines of what the code written so far uses."""
        lines = ["import functools", ""] if "functools" in self._used else []
        lines += ["import jax", _MODULES["jnp"]] if "jnp" in self._used else ["import jax"]
        lines.append(f"from jax import Array{', lax' if 'lax' in self._used else ''}")
        lines += [_MODULES["special"]] if "special" in self._used else []
        lines.append("from jax.typing import ArrayLike")
        modules = {"_support": self._used.intersection(SUPPORT_FUNCTIONS), **self._linked}
        shared = [
            f"from .{module} import {', '.join(sorted(names))}"
            for module, names in sorted(modules.items())
            if names
        ]
        return [*lines, "", *shared]
