"""Module constants for generated code: each Taylor polynomial's coefficients,
the zero it is about and each overflow threshold, named for what they are,
instead of numbers written into every call."""

import textwrap
from dataclasses import dataclass

import sympy as sp
from sympy.core.relational import Relational

from codegen.emit.backend import JaxBackend
from codegen.emit.format import LINE_LENGTH
from codegen.emit.printer import series
from codegen.numerics.primitives import Where, isfinite, offset, polynomial

_WIDTH = LINE_LENGTH - 4  # a tuple's items are indented by 4


@dataclass
class Constant:
    name: str
    comment: str
    lines: tuple[str, ...] = ()  # a tuple's items, wrapped
    value: str | None = None  # or a number's


class ModuleConstants:
    """Names the numbers of the expressions a module prints: each polynomial's
    coefficients and the zero it is about, and each overflow threshold; and
    keeps the constants that the module then defines."""

    def __init__(self, backend: JaxBackend) -> None:
        self.backend = backend
        self.replace: dict[sp.Expr, sp.Expr] = {}
        self.constants: list[Constant] = []
        self.named: dict[str, tuple[sp.Expr, Constant]] = {}  # each polynomial by name

    def __call__(
        self, expr: sp.Expr, function: str, order: int, wrt: tuple[str, ...] = ()
    ) -> sp.Expr:
        """``expr``, a derivative of ``order`` of ``function``, or its partial in
        the parameters ``wrt``, with its numbers named."""
        stem = f"_{function.upper()}_D{order}" if order else f"_{function.upper()}"
        stem += "".join(f"_D{name.upper()}" for name in wrt)
        label = f"the partial in {' and '.join(wrt)} of {_prime(function, order)}" if wrt else ""
        label = label or _prime(function, order)
        for poly in sorted(expr.atoms(polynomial) - self.replace.keys(), key=sp.default_sort_key):
            if mirrored := self._mirrored(poly, label):
                self.replace[poly] = mirrored
                continue
            name = f"{stem}_SERIES"
            taken = sum(n.startswith(name) for n in self.named)
            self._name(poly, f"{name}_{taken}" if taken else name, label)
        expr = expr.xreplace(self.replace)
        # Each derivative names its own thresholds, though two can be equal.
        found = _thresholds(expr)
        ordered = sorted(found, key=sp.default_sort_key)
        return expr.xreplace({t: self._threshold(t, stem, label, found[t]) for t in ordered})

    def _threshold(self, threshold: sp.Expr, stem: str, label: str, tail: bool) -> sp.Expr:
        name = f"{stem}_TAIL" if tail else f"{stem}_FAR"
        taken = sum(c.name.startswith(name) for c in self.constants)
        symbol = sp.Symbol(f"{name}_{taken}" if taken else name, real=True)
        if tail:
            what = f"{label} overflows past it: its limit is returned"
        else:
            what = f"{label} is computed in log space past it"
        value = _short(float(threshold.rhs))
        self.constants.append(Constant(symbol.name, what, value=value))
        return threshold.func(threshold.lhs, symbol)

    def _name(self, poly: sp.Expr, name: str, derivative: str) -> None:
        x, terms, *coefficients = poly.args
        comment = f"Taylor coefficients of {derivative} about 0."
        if isinstance(x, offset):  # about a zero: the zero is a constant too
            root = sp.Symbol(name.replace("_SERIES", "_ROOT"), real=True)
            value = self.backend.expression(x.args[1])
            self.constants.append(Constant(root.name, f"a zero of {derivative}", value=value))
            comment = f"Taylor coefficients of {derivative} about {root.name}."
            self.replace[x] = offset(x.args[0], root)
            x = offset(x.args[0], root)
        items = [f"{self.backend.expression(c)}," for c in coefficients]
        lines = tuple(textwrap.wrap(" ".join(items), _WIDTH, break_long_words=False))
        constant = Constant(name, comment, lines)
        self.constants.append(constant)
        self.named[name] = (poly, constant)
        self.replace[poly] = series(x, terms, sp.Symbol(name), len(coefficients))

    def _mirrored(self, poly: sp.Expr, derivative: str) -> sp.Expr | None:
        """``poly`` as a named polynomial of -u, where it is one about the
        opposite zero of an even or odd function: silu'' about -2.4 and 2.4."""
        for name, (known, constant) in self.named.items():
            sign = _mirror_sign(known, poly)
            if sign is None:
                continue
            x, terms, *coefficients = poly.args
            root = sp.Symbol(name.replace("_SERIES", "_ROOT"), real=True)
            parity = "even" if sign == 1 else "odd"
            constant.comment = f"{constant.comment[:-1]}; as {derivative} is {parity}, "
            constant.comment += f"also about -{root.name}, in -{root.name} - x."
            # -u is -root - x, one subtraction as u is, and |-u| is |u|.
            reflected = offset(-x.args[0], root)
            self.replace[x] = -reflected
            return sign * series(reflected, terms, sp.Symbol(name), len(coefficients))
        return None


def _thresholds(expr: sp.Expr) -> dict[sp.Expr, bool]:
    """The comparisons of x with a number past which ``tails.guarded`` gives
    the limit where the computed value is not finite (True), or inside
    which ``fallback.with_fallback`` keeps the closed form (False)."""
    found: dict[sp.Expr, bool] = {}
    for select in expr.atoms(Where):
        condition = select.args[0]
        if isinstance(condition, sp.And) and condition.has(isfinite):
            tail = any(isinstance(c, sp.Not) for c in condition.args)
            found |= {
                c: tail for c in condition.args if isinstance(c, Relational) and c.rhs.is_number
            }
    return found


def _short(value: float) -> str:
    """``value`` as Python reads it back exactly: 1e13 rather than 10000000000000.0."""
    mantissa, exponent = f"{value:.16e}".split("e")
    short = f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    written = repr(value).replace("e+", "e")  # as black writes it
    return short if float(short) == value and len(short) < len(written) else written


def _prime(function: str, order: int) -> str:
    return f"{function}{chr(39) * order}" if order <= 4 else f"{function}'s derivative {order}"


def _mirror_sign(known: sp.Expr, poly: sp.Expr) -> int | None:
    """s where ``poly``(c + u) = s * ``known``(-c - u) term by term, else None."""
    (x, terms, *a), (y, y_terms, *b) = known.args, poly.args
    if not (isinstance(x, offset) and isinstance(y, offset)):
        return None
    if (terms, len(a), x.args[0]) != (y_terms, len(b), y.args[0]) or x.args[1] != -y.args[1]:
        return None
    for sign in (1, -1):  # equal as printed, in float64
        pairs = enumerate(zip(a, b, strict=True))
        if all(float(bk) == sign * (-1) ** k * float(ak) for k, (ak, bk) in pairs):
            return sign
    return None
