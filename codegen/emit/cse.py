"""Common-subexpression elimination into named assignments.

The JVP rule computes the primal output and every partial derivative in one
pass, so they share work: a subexpression of the output that a derivative
also needs is computed once, and a derivative that reuses the output itself
reads ``y``.  Work that only one partial needs is kept apart, so that a rule
can skip it when that input is not being differentiated.
"""

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp

from codegen.emit.printer import to_code
from codegen.numerics.evaluate import fold_constants
from codegen.numerics.primitives import offset, reciprocal, sigmoid

_CALLED = sp.Symbol("_called_", real=True)  # stands for a value that a call computes


@dataclass(frozen=True)
class Assignment:
    name: str
    code: str


@dataclass(frozen=True)
class Partial:
    """d y / d input: the assignments only it needs, then its own."""

    input: str
    name: str
    assignments: tuple[Assignment, ...]
    code: str


@dataclass(frozen=True)
class Body:
    """Shared assignments, the output ``y`` and the partials, as code."""

    assignments: tuple[Assignment, ...]
    value: str
    partials: tuple[Partial, ...] = ()


def _temporaries(reserved: set[str]):
    index = 0
    while True:
        name = f"t{index}"
        index += 1
        if name not in reserved:
            yield sp.Symbol(name, real=True)


def _eliminate(exprs: Sequence[sp.Expr], inputs: Sequence[sp.Symbol]):
    reserved = {s.name for s in inputs} | _RESERVED | {f"{s.name}_dot" for s in inputs}
    folded = [fold_constants(e) for e in exprs]
    replacements, outputs = sp.cse(folded, symbols=_temporaries(reserved), order="canonical")
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
    (lambda e: isinstance(e, offset), "u"),
    (lambda e: isinstance(e, sp.Abs), "a"),
    (lambda e: isinstance(e, sp.logic.boolalg.Boolean), "mask"),
)


def _names(replacements, reserved: set[str]) -> dict[sp.Symbol, sp.Symbol]:
    """Each temporary renamed for what it holds, such as ``e = exp(-|x|)``."""
    taken = set(reserved)
    names = {}
    for symbol, expr in replacements:
        kind = next((name for test, name in _KINDS if test(expr)), "t")
        candidates = itertools.chain([kind], (f"{kind}{i}" for i in itertools.count(1)))
        name = next(n for n in candidates if n not in taken)
        taken.add(name)
        names[symbol] = sp.Symbol(name, real=True)
    return names


def primal_body(expr: sp.Expr, inputs: Sequence[sp.Symbol]) -> Body:
    """The function's own body: assignments, then the returned expression."""
    replacements, (value,) = _eliminate([expr], inputs)
    return Body(_code(replacements), to_code(value))


def jvp_body(
    expr: sp.Expr,
    partials: Sequence[sp.Expr],
    inputs: Sequence[sp.Symbol],
    calls: Mapping[str, str] | None = None,
    value_call: str | None = None,
) -> Body:
    """The JVP rule's body: shared work ending in ``y``, then one block per partial.

    ``calls`` maps an input's name to code that computes its partial instead,
    such as a call to the next generated derivative; ``value_call`` does the
    same for ``y``, which then shares no work with the partials.
    """
    calls = calls or {}
    if value_call is not None:
        expr = _CALLED
    computed = [(s, d) for s, d in zip(inputs, partials, strict=True) if s.name not in calls]
    replacements, outputs = _eliminate([expr, *(d for _, d in computed)], inputs)
    y = sp.Symbol("y", real=True)
    if outputs[0] in dict(replacements):  # a partial reuses the output: name it y
        rename = {outputs[0]: y}
        replacements = [(s.xreplace(rename), e.xreplace(rename)) for s, e in replacements]
        outputs = [o.xreplace(rename) for o in outputs]
    else:
        replacements.append((y, outputs[0]))
        outputs[0] = y
    users = _users(replacements, outputs)  # output 0 is y, output i the i-th partial
    shared = [(s, e) for s, e in replacements if 0 in users[s] or len(users[s]) > 1]
    blocks = {
        symbol.name: Partial(
            symbol.name,
            f"dy_d{symbol.name}",
            _code((s, e) for s, e in replacements if users[s] == {i}),
            to_code(d),
        )
        for i, ((symbol, _), d) in enumerate(zip(computed, outputs[1:], strict=True), start=1)
    }
    for name, call in calls.items():
        blocks[name] = Partial(name, f"dy_d{name}", (), call)
    assignments = tuple(
        Assignment(a.name, value_call) if value_call and a.code == _CALLED.name else a
        for a in _code(shared)
    )
    return Body(assignments, "y", tuple(blocks[s.name] for s in inputs))


def _code(pairs) -> tuple[Assignment, ...]:
    return tuple(Assignment(s.name, to_code(e)) for s, e in pairs)


def _users(replacements, outputs) -> dict[sp.Symbol, set[int]]:
    """For each temporary, the indices of the outputs that depend on it."""
    users: dict[sp.Symbol, set[int]] = {s: set() for s, _ in replacements}
    for i, output in enumerate(outputs):
        for s in output.free_symbols & users.keys():
            users[s].add(i)
    for s, e in reversed(replacements):
        for t in e.free_symbols & users.keys():
            users[t] |= users[s]
    return users
