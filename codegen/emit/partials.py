"""The rules of a formula's partial derivatives in its parameters.

A partial d f^(k) / dp is a custom_jvp function, not autodiff of its stable
form, which can be NaN where the form is finite (soft clipping's, at a = 50).
Its rule in x is the next derivative's partial in p: the two commute.  Its
rules in the parameters are the closed-form second partials for the value's
partials, and autodiff of its own body beyond them.
"""

from dataclasses import replace

import sympy as sp

from codegen.analysis.model import Activation, Formula
from codegen.emit.backend import JaxBackend
from codegen.emit.constants import ModuleConstants
from codegen.emit.kernel import Kernel, returning
from codegen.emit.rules import argument_list, rule

# The second partials of a formula by pair of input indices (p <= q): the
# formula, and its kernel where it is not a number.
Seconds = dict[tuple[int, int], tuple[sp.Expr, Kernel | None]]


def differentiable(
    activation: Activation,
    formula: Formula,
    constants: ModuleConstants,
    kernels: list[Kernel],
    names: list[str],
    partial_of: dict[str, tuple[int, int]],
) -> list[Kernel]:
    """``kernels`` with each partial in a parameter, named in ``partial_of``
    with its level in the tower and its input, a custom_jvp function where a
    rule has a closed form, followed by its second partials' kernels."""
    seconds = _second_partials(activation, formula, names[0], constants)
    rules = {k.name: k.jvps for k in kernels}
    found = []
    for kernel in kernels:
        found.append(kernel)
        if kernel.name not in partial_of:
            continue
        level, index = partial_of[kernel.name]
        following = rules.get(names[level + 1]) if level + 1 < len(names) else None
        following = following or None  # () for a gate's factor times its kernel
        at_value = seconds if level == 0 else {}
        jvps, closed = _rules(
            constants.backend, activation, kernel.name, index, following, at_value
        )
        if closed:
            found[-1] = replace(kernel, jvps=jvps)
        found += [k for (first, _), (_, k) in at_value.items() if first == index and k]
    return found


def _second_partials(
    activation: Activation, formula: Formula, base: str, constants: ModuleConstants
) -> Seconds:
    """Each of ``formula``'s second partials in its parameters, with its kernel."""
    inputs, function = activation.inputs, base.lstrip("_")
    found: Seconds = {}
    for second in formula.seconds:
        pair = second.first, second.second
        if second.expr.is_number:
            found[pair] = second.expr, None
            continue
        p, q = (inputs[i].name for i in pair)
        lowered = constants(second.lowered, function, 0, wrt=(p, q))
        body = returning(constants.backend.body(lowered, inputs), None, "")
        which = f"in {p}" if p == q else f"in {p} and {q}"
        doc = f"Second partial derivative {which} of :func:`{base}`, in closed form."
        kernel = Kernel(f"_{function}_d{p}_d{q}", doc, body, None, "", in_x=False)
        found[pair] = second.expr, kernel
    return found


def _rules(backend: JaxBackend, activation, name, index, following, seconds: Seconds):
    """The rules of the partial ``name`` in input ``index``, one per input,
    and whether any has a closed form: without one, autodiff is the same."""
    arguments = argument_list(activation.inputs)
    closed = following is not None and following[index] is not None
    jvps: list[str | None] = [following[index] if following is not None else _THROUGH]
    for other in range(1, len(activation.inputs)):
        pair = min(index, other), max(index, other)
        if pair not in seconds:
            jvps.append(_THROUGH)
            continue
        expr, kernel = seconds[pair]
        call = f"{kernel.name}({arguments})" if kernel else None
        jvps.append(rule(backend, activation, call, expr))
        closed = closed or jvps[-1] is not None
    if not closed:
        return (), False
    through = backend.name("through") if _THROUGH in jvps else ""
    found = (f"{through}({name}, {i})" if j == _THROUGH else j for i, j in enumerate(jvps))
    return tuple(found), True


# A rule with no closed form: autodiff of the partial's own body.
_THROUGH = "through"
