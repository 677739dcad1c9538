"""Module constants for generated code: each Taylor polynomial's coefficients,
named for what they are, instead of a tuple written into every call."""

import dataclasses
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
        self.named: dict[str, sp.Expr] = {}  # each constant's polynomial

    def __call__(self, expr: sp.Expr, function: str, order: int) -> sp.Expr:
        """``expr``, a derivative of ``order`` of ``function``, with named series."""
        for poly in sorted(expr.atoms(polynomial) - self.replace.keys(), key=sp.default_sort_key):
            if mirrored := self._mirrored(poly):
                self.replace[poly] = mirrored
                continue
            name = f"_{function.upper()}_D{order}_SERIES"
            taken = sum(c.name.startswith(name) for c in self.constants)
            named, constant = _named(poly, f"{name}_{taken}" if taken else name, function, order)
            self.replace[poly] = named
            self.constants.append(constant)
            self.named[constant.name] = poly
        return expr.xreplace(self.replace)

    def _mirrored(self, poly: sp.Expr) -> sp.Expr | None:
        """``poly`` as a named polynomial of -u, where it is one about the
        opposite centre of an even or odd function: silu'' about -2.4 and 2.4."""
        for index, (name, known) in enumerate(self.named.items()):
            sign = _mirror_sign(known, poly)
            if sign is not None:
                x, terms, *coefficients = poly.args
                parity = "even" if sign == 1 else "odd"
                constant = self.constants[index]
                comment = (
                    f"{constant.comment[:-1]}, and of -u about x = {_centre(poly)}: it is {parity}."
                )
                self.constants[index] = dataclasses.replace(constant, comment=comment)
                return sign * series(-x, terms, sp.Symbol(name), len(coefficients))
        return None


def _centre(poly: sp.Expr) -> str:
    x = poly.args[0]
    return to_code(x.args[1] if isinstance(x, offset) else sp.S.Zero)


def _mirror_sign(known: sp.Expr, poly: sp.Expr) -> int | None:
    """s where ``poly``(c + u) = s * ``known``(-c - u) term by term, else None."""
    (x, terms, *a), (y, y_terms, *b) = known.args, poly.args
    if not (isinstance(x, offset) and isinstance(y, offset)) or (terms, len(a)) != (
        y_terms,
        len(b),
    ):
        return None
    if x.args[0] != y.args[0] or x.args[1] != -y.args[1]:
        return None
    for sign in (1, -1):  # equal as printed, in float64
        pairs = enumerate(zip(a, b, strict=True))
        if all(float(bk) == sign * (-1) ** k * float(ak) for k, (ak, bk) in pairs):
            return sign
    return None


def _named(poly: sp.Expr, name: str, prefix: str, order: int) -> tuple[sp.Expr, Constant]:
    x, terms, *coefficients = poly.args
    centre = x.args[1] if isinstance(x, offset) else sp.S.Zero
    what = f"{prefix}'s derivative of order {order}" if order else prefix
    comment = f"Taylor coefficients of {what} about x = {to_code(centre)}."
    items = [f"{to_code(c)}," for c in coefficients]
    lines = tuple(" ".join(items[i : i + _PER_LINE]) for i in range(0, len(items), _PER_LINE))
    return series(x, terms, sp.Symbol(name), len(coefficients)), Constant(name, comment, lines)
