"""Common-subexpression elimination into named assignments, in SymPy.

Each generated function is one expression: its shared subexpressions become
assignments named for what they hold, as a person would write them. The
backend writes them as code.
"""

import itertools
from collections.abc import Sequence

import sympy as sp

from codegen.emit.printer import to_code
from codegen.numerics.evaluate import fold_constants
from codegen.numerics.primitives import Where, offset, reciprocal, sigmoid, softplus

# A printed value longer than this is a select chain that black would spread
# over a line per argument: it is written one regime per assignment instead.
_CHAIN_WIDTH = 60


def _temporaries(reserved: set[str]):
    index = 0
    while True:
        name = f"t{index}"
        index += 1
        if name not in reserved:
            yield sp.Symbol(name, real=True)


def eliminate(
    exprs: Sequence[sp.Expr], inputs: Sequence[sp.Symbol]
) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """The named subexpressions that ``exprs`` share, in order, and ``exprs``
    in terms of them."""
    reserved = {s.name for s in inputs} | _RESERVED | {f"{s.name}_dot" for s in inputs}
    folded = [fold_constants(e) for e in exprs]
    temporaries = _temporaries(reserved)
    found, outputs = sp.cse(folded, symbols=temporaries, order="canonical")
    replacements: list[tuple[sp.Symbol, sp.Expr]] = []
    for symbol, expr in found:
        replacements.append((symbol, _regimes(expr, replacements, temporaries)))
    outputs = [_regimes(output, replacements, temporaries) for output in outputs]
    names = _names(replacements, reserved)
    return (
        [(names[s], e.xreplace(names)) for s, e in replacements],
        [o.xreplace(names) for o in outputs],
    )


# The names the generated rules use beside the temporaries.
_RESERVED = {"y", "dtype", "primals", "tangents", "y_dot"}
# A temporary's name by what it holds; a second of a kind is e1, s1, ...
_KINDS = (
    (lambda e: isinstance(e, sp.exp), "e"),
    (lambda e: isinstance(e, sp.Pow) and e.exp == sp.S.Half, "s"),
    (lambda e: isinstance(e, reciprocal) or (isinstance(e, sp.Pow) and e.exp == -1), "r"),
    (lambda e: isinstance(e, sigmoid), "sig"),
    (lambda e: isinstance(e, sp.tanh), "th"),
    (lambda e: isinstance(e, softplus), "sp"),
    (lambda e: isinstance(e, offset), "u"),
    (lambda e: isinstance(e, sp.Abs), "a"),
    (lambda e: isinstance(e, sp.logic.boolalg.Boolean), "mask"),
)


def _regimes(value: sp.Expr, replacements: list, temporaries) -> sp.Expr:
    """``value`` with a long chain of selects, each in the else-branch of the
    one before, written from the inside out: one assignment per regime."""
    chain = []
    while isinstance(value, Where) and not value.args[2].is_Atom:
        if len(to_code(value)) <= _CHAIN_WIDTH:
            break
        chain.append(value)
        value = value.args[2]
    for select in reversed(chain):
        temporary = next(temporaries)
        replacements.append((temporary, value))
        value = select.func(*select.args[:2], temporary)
    return value


def _names(replacements, reserved: set[str]) -> dict[sp.Symbol, sp.Symbol]:
    """Each temporary renamed for what it holds, such as ``e = exp(-|x|)``,
    or ``x2 = x**2``."""
    taken = set(reserved)
    names: dict[sp.Symbol, sp.Symbol] = {}
    for symbol, expr in replacements:
        kind = next((name for test, name in _KINDS if test(expr)), "t")
        if kind == "t" and _named_power(expr):
            kind = f"{names.get(expr.base, expr.base).name}{expr.exp}"
        candidates = itertools.chain([kind], (f"{kind}{i}" for i in itertools.count(1)))
        name = next(n for n in candidates if n not in taken)
        taken.add(name)
        names[symbol] = sp.Symbol(name, real=True)
    return names


def _named_power(expr: sp.Expr) -> bool:
    """Whether ``expr`` is a name squared or cubed: ``x**2`` is named x2."""
    return isinstance(expr, sp.Pow) and expr.base.is_Symbol and expr.exp in (2, 3)
