"""Module constants for generated code: each Taylor polynomial's coefficients,
named for what they are, instead of a tuple written into every call."""

from dataclasses import dataclass

import sympy as sp

from codegen.emit.printer import series, to_code
from codegen.numerics.primitives import offset, polynomial

_PER_LINE = 3  # coefficients on a line: 17 significant digits each


@dataclass(frozen=True)
class Constant:
    name: str
    comment: str
    lines: tuple[str, ...]  # the tuple's items, wrapped


class SeriesNames:
    """Names the coefficients of each polynomial in the expressions a module
    prints, and keeps the constants that the module then defines."""

    def __init__(self) -> None:
        self.replace: dict[sp.Expr, sp.Expr] = {}
        self.constants: list[Constant] = []

    def __call__(self, expr: sp.Expr, function: str, order: int) -> sp.Expr:
        """``expr``, a derivative of ``order`` of ``function``, with named series."""
        for poly in sorted(expr.atoms(polynomial) - self.replace.keys(), key=sp.default_sort_key):
            name = f"_{function.upper()}_D{order}_SERIES"
            taken = sum(c.name.startswith(name) for c in self.constants)
            named, constant = _named(poly, f"{name}_{taken}" if taken else name, function, order)
            self.replace[poly] = named
            self.constants.append(constant)
        return expr.xreplace(self.replace)


def _named(poly: sp.Expr, name: str, prefix: str, order: int) -> tuple[sp.Expr, Constant]:
    x, terms, *coefficients = poly.args
    centre = x.args[1] if isinstance(x, offset) else sp.S.Zero
    what = f"{prefix}'s derivative of order {order}" if order else prefix
    comment = f"Taylor coefficients of {what} about x = {to_code(centre)}."
    items = [f"{to_code(c)}," for c in coefficients]
    lines = tuple(" ".join(items[i : i + _PER_LINE]) for i in range(0, len(items), _PER_LINE))
    return series(x, terms, sp.Symbol(name), len(coefficients)), Constant(name, comment, lines)
