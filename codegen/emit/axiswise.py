"""AxisActivation -> Python source, through templates/axiswise.py.j2."""

import math
import re
from dataclasses import dataclass

import sympy as sp

from codegen.analysis.axiswise import SHIFT, dot
from codegen.analysis.model import AxisActivation, Reduction
from codegen.emit.axis_docstring import EXAMPLE_INPUT, example, latex, returns
from codegen.emit.backend import JaxBackend
from codegen.emit.environment import ENVIRONMENT, header
from codegen.spec.load import SpecError

_DOCS = {
    "axis": "the axis or axes along which to compute: an integer, a tuple of integers, "
    "or ``None`` for all axes (default: {default!r}).",
    "keepdims": "whether to keep the reduced axes, with size 1 (default: False).",
    "where": "elements to include along the axis (default: all). {masked}",
    "where_reduced": "elements to include in the reduction (default: all).",
}


@dataclass(frozen=True)
class Argument:
    name: str
    annotation: str
    default: str
    doc: str


@dataclass(frozen=True)
class Kernel:
    """One custom_jvp function and its rule: the formulas of one choice."""

    name: str
    activation: AxisActivation
    value: str  # the choice's value that selects it; "" for the default
    body: list[str]
    reduction_tangents: list[str]
    tangent: str
    tangent_assignments: list[str]
    sign: str | None
    shared: str  # what the body computes for both, as the helper returns it
    in_kernel: str  # and as each unpacks it, _ for what it does not use
    in_rule: str


def emit_axiswise(activation: AxisActivation, package: str = "generated") -> str:
    spec, axis = activation.spec, activation.axis
    arguments = _arguments(activation)
    static = ["axis", "keepdims"] if activation.reduces else ["axis"]
    if axis.sign:
        static.append("return_sign")
    choice = [axis.choice.name] if axis.choice else []
    primals = [axis.input, *(a.name for a in arguments if a.name not in static + choice)]
    backend = JaxBackend()
    _template_names(backend, activation)
    kernels = [_kernel(backend, activation, f"_{spec.name}", "")]
    kernels += [
        _kernel(backend, a, f"_{spec.name}_{value}", value) for value, a in activation.variants
    ]
    context = dict(
        header=header(spec.path),
        package=package,
        spec=spec,
        activation=activation,
        arguments=[a for a in arguments if a.name not in choice],
        choice=[a for a in arguments if a.name in choice],
        static=static,
        static_names=repr(tuple(static + choice)),
        nondiff=repr(tuple(range(len(static)))),
        primals=primals,
        tangents=[f"{p}_dot" if p != "where" else "_" for p in primals],
        kernels=kernels,
        choice_values=", ".join(repr(v) for v in [axis.choice.default, *dict(axis.choice.variants)])
        if axis.choice
        else "",
        tangent_prologue=_tangent_prologue(backend, activation),
        optional_tangents=[
            f"{p.name}_dot = 0.0 if {p.name} is None else {p.name}_dot"
            for p in spec.params
            if p.optional
        ],
        latex=latex(activation),
        example_input=repr(list(EXAMPLE_INPUT)),
        example=example(activation),
        returns=returns(activation),
    )
    template = ENVIRONMENT.get_template("axiswise.py.j2")
    return template.render(imports=backend.imports(), **context)


def _template_names(backend: JaxBackend, activation: AxisActivation) -> None:
    """Record what axiswise.py.j2 writes around the kernels' code."""
    for name in ("functools", "narrow", "jnp.asarray"):
        backend.name(name)
    if activation.reduces:
        backend.name("reduced")
    if activation.axis.masked is not None:
        backend.name("zeroed")
    if activation.axis.sign:
        backend.name("jnp.zeros_like")


def _kernel(backend: JaxBackend, activation: AxisActivation, name: str, value: str) -> Kernel:
    names = set().union(
        activation.tangent.free_symbols, *(r.formula.free_symbols for r in activation.reductions)
    )
    tangent = backend.body(activation.tangent, sorted(names, key=str))
    body, sign = _body(backend, activation), _sign(backend, activation)
    reduction_tangents = [_tangent_line(backend, r) for r in _named_tangents(activation)]
    assignments = [f"{a.name} = {a.code}" for a in tangent.assignments]
    prologue = _tangent_prologue(backend, activation)
    rule = [*prologue, *reduction_tangents, *assignments, tangent.value]
    in_kernel, in_rule = f"y dtype {sign}", f"y dtype {sign} {' '.join(rule)}"
    shared = [n for n in _assigned(body) if _reads(in_rule, n)]
    unpacked = [
        ", ".join(n if _reads(uses, n) else "_" for n in shared) for uses in (in_kernel, in_rule)
    ]
    return Kernel(
        name,
        activation,
        value,
        body,
        reduction_tangents,
        tangent.value,
        assignments,
        sign,
        ", ".join(shared),
        *unpacked,
    )


def _assigned(lines: list[str]) -> list[str]:
    """The names that assignments ``lines`` assign, in order."""
    names = [n for line in lines for n in line.split(" = ")[0].split(", ") if n != "_"]
    return list(dict.fromkeys(names))


def _reads(code: str, name: str) -> bool:
    return re.search(rf"\b{name}\b", code) is not None


def _arguments(activation: AxisActivation) -> list[Argument]:
    axis = activation.axis
    masked = (
        f"The output is {axis.masked!r} where it is False."
        if axis.masked is not None
        else "The output is computed everywhere."
    )
    axis_doc = _DOCS["axis"].format(default=axis.default)
    table = {"axis": Argument("axis", "Axis", repr(axis.default), axis_doc)}
    formulas = dict(axis.reductions)
    for reduction, name in axis.overrides:
        doc = f"the value to use for {reduction} = {formulas[reduction]} (default: computed)."
        table[name] = Argument(name, "ArrayLike | None", "None", doc)
    for p in activation.spec.params:
        default = f"None, meaning {p.default!r}" if p.optional else repr(p.default)
        doc = f"{p.doc or 'scalar or array parameter'} (default: {default}). Differentiable."
        if p.optional:
            table[p.name] = Argument(p.name, "ArrayLike | None", "None", doc)
        else:
            table[p.name] = Argument(p.name, "ArrayLike", repr(p.default), doc)
    if activation.reduces:
        table["keepdims"] = Argument("keepdims", "bool", "False", _DOCS["keepdims"])
    if axis.sign:
        table["return_sign"] = Argument(
            "return_sign",
            "bool",
            "False",
            f"whether to return the sign of {axis.sign} too, and compute with |{axis.sign}|, "
            f"so that a negative {axis.sign} gives a result rather than NaN (default: False).",
        )
    if activation.reductions:
        doc = _DOCS["where_reduced"] if activation.reduces else _DOCS["where"].format(masked=masked)
        table["where"] = Argument("where", "ArrayLike | None", "None", doc)
    if axis.choice:
        doc = f"{axis.choice.doc} (default: {axis.choice.default!r})."
        table[axis.choice.name] = Argument(axis.choice.name, "str", repr(axis.choice.default), doc)
    order = axis.arguments or tuple(table)
    if sorted(order) != sorted(table):
        raise SpecError(activation.spec.path, "axis.arguments", f"must order {sorted(table)}")
    return [table[name] for name in order]


def _body(backend: JaxBackend, activation: AxisActivation) -> list[str]:
    """The lines shared by the function and its JVP rule, ending with y."""
    spec, axis = activation.spec, activation.axis
    names = ", ".join([axis.input, *(p.name for p in spec.params)])
    lines = [
        f"{p.name} = {p.default!r} if {p.name} is None else {p.name}"
        for p in spec.params
        if p.optional
    ]
    lines.append(f"{names}, dtype = {backend.name('widen')}({names})")
    if axis.input != "x" and not axis.split:
        lines.append(f"x = {axis.input}")
    if axis.split:
        parts = ", ".join(s.name for s in activation.inputs)
        split = backend.name("jnp.split")
        lines.append(f"{parts} = {split}({axis.input}, {len(axis.split)}, axis)")
    if activation.shifted:
        shift = "m" if activation.expr.has(SHIFT) else "_"
        # Only a formula that adds the shift back needs the guard: see support.shifted.
        guard = "" if activation.expr.has(SHIFT) else ", guarded=False"
        lines.append(f"x, {shift} = {backend.name('shifted')}(x, axis, where{guard})")
    for r in activation.reductions:
        reduce = backend.name("jnp.sum" if r.kind == "sum" else "jnp.mean")
        summand = f"{reduce}({backend.expression(r.summand)}, axis, keepdims=True, where=where)"
        if r.inner != r.symbol:
            lines.append(f"{r.inner.name} = {summand}")
            summand = backend.expression(r.formula)
        if r.override:
            summand = f"{summand} if {r.override} is None else {r.override}"
        lines.append(f"{r.symbol.name} = {summand}")
    y = backend.expression(activation.expr)
    if axis.sign:
        magnitude = sp.Abs(sp.Symbol(axis.sign, real=True))
        signed = activation.expr.xreplace({sp.Symbol(axis.sign, real=True): magnitude})
        signed = backend.expression(signed)
        y = f"{signed} if return_sign else {y}"
    lines.append(f"y = {y}")
    if axis.masked is not None:
        masked = backend.name("masked")
        lines.append(f"y = {masked}(y, where, {_number(backend, axis.masked)})")
    return lines


def _number(backend: JaxBackend, value: float) -> str:
    if math.isfinite(value):
        return repr(value)
    return f"{'-' if value < 0 else ''}{backend.name('jnp.inf')}"


def _tangent_prologue(backend: JaxBackend, activation: AxisActivation) -> list[str]:
    """The tangents of the inputs the formulas use, from the argument's."""
    axis = activation.axis
    lines: list[str] = []
    if axis.split:
        parts = ", ".join(dot(s).name for s in activation.inputs)
        split = backend.name("jnp.split")
        return [*lines, f"{parts} = {split}({axis.input}_dot, {len(axis.split)}, axis)"]
    return [*lines, f"x_dot = {axis.input}_dot"] if axis.input != "x" else lines


def _sign(backend: JaxBackend, activation: AxisActivation) -> str | None:
    """The code of the sign that return_sign=True returns, if the spec has one."""
    sign = activation.axis.sign
    if sign is None:
        return None
    code = f"{backend.name('jnp.sign')}({sign})"
    return f"{backend.name('reduced')}({code}, axis, keepdims)" if activation.reduces else code


def _named_tangents(activation: AxisActivation) -> list[Reduction]:
    """The reductions whose tangent the JVP names: those used after inlining."""
    used = set(activation.tangent.free_symbols)
    named = []
    for r in reversed(activation.reductions):
        if dot(r.symbol) in used:
            named.append(r)
            used |= r.tangent.free_symbols
    return named[::-1]


def _tangent_line(backend: JaxBackend, reduction: Reduction) -> str:
    code = backend.expression(reduction.tangent)
    if reduction.override:
        code = f"{code} if {reduction.override} is None else {reduction.override}_dot"
    return f"{dot(reduction.symbol).name} = {code}"
