"""Analysis model -> Python source, through the jinja2 templates.

One template per output kind; everything a template prints is computed
here, so the templates hold no logic beyond loops over what they are given.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from codegen.analysis.model import Activation, AxisActivation, Formula
from codegen.emit.backend import Body, JaxBackend
from codegen.emit.constants import ModuleConstants
from codegen.emit.docstring import docstring as render_docstring
from codegen.emit.environment import ENVIRONMENT, header
from codegen.emit.kernel import Kernel, returning
from codegen.emit.partials import differentiable
from codegen.emit.rules import (
    argument_list,
    output_partial,
    rule,
    rule_names,
)
from codegen.emit.towers import Link, bases, kernel_names, links, repeats
from codegen.spec.model import Param, Spec


def emit_activation(
    activation: Activation,
    package: str = "generated",
    others: Sequence[Activation | AxisActivation] = (),
) -> str:
    """The module of one element-wise activation; its examples import ``package``.

    A gate's partial that one of ``others``, the package's other activations,
    computes is a call to that one's kernels.
    """
    spec = activation.spec
    docstring = render_docstring(activation, package).rstrip()
    backend = JaxBackend()
    constants = ModuleConstants(backend)
    linked = links(activation, others)
    towers = _kernels(activation, docstring, constants, linked)
    kernels = [kernel for tower in towers.values() for kernel in tower]
    primals = {tower[0].name for tower in towers.values()}
    prologue = "widen" if activation.widens else "native"
    _template_names(backend, kernels, primals, prologue)
    context = dict(
        header=header(spec.path),
        constants=constants.constants,
        spec=spec,
        docstring=docstring,
        kernels=kernels,
        primals=primals,
        when_true=towers[True][0] if True in towers else None,
        when_false=towers[False][0] if False in towers else None,
        tangents=", ".join(f"{s.name}_dot" for s in activation.inputs),
        arguments=", ".join(s.name for s in activation.inputs),
        signature=signature(spec),
        prologue=prologue,
    )
    template = ENVIRONMENT.get_template("activation.py.j2")
    return template.render(imports=backend.imports(), **context)


def _template_names(backend: JaxBackend, kernels: list[Kernel], primals, prologue: str) -> None:
    """Record the support functions that activation.py.j2 writes around the kernels."""
    backend.name(prologue)
    for kernel in kernels:
        if kernel.rounding:
            backend.name(kernel.rounding)
        if kernel.name not in primals:
            backend.name("apart")
        if len(kernel.jvps) > 1:
            backend.name("defjvps_lazy")
        if not kernel.jvps:
            backend.name("forward_autodiff")
        if kernel.from_output:
            backend.name("cast")


def signature(spec: Spec) -> str:
    """The arguments of the public function and its kernels: arrays, then parameters."""
    return ", ".join(
        f"{p.name}: ArrayLike" + ("" if p.input else f" = {p.default!r}")
        for p in (Param("x", 0, "", input=True), *spec.params)
    )


def _kernels(
    activation: Activation, docstring: str, constants: ModuleConstants, linked: dict[sp.Expr, Link]
) -> dict[bool | None, list[Kernel]]:
    """The derivative tower of each formula, keyed by the switch value that selects it.

    Without a switch the only tower's first kernel is the public function,
    keyed by None.
    """
    spec, towers = activation.spec, {}
    for (key, name), formula in zip(bases(activation), activation.formulas, strict=True):
        doc = docstring
        if spec.switch is not None:
            doc = f"{spec.name} with ``{spec.switch.name}={key}``; see :func:`{spec.name}`."
        towers[key] = _tower(activation, formula, name, doc, constants, linked)
    return towers


@dataclass(frozen=True)
class GateTower:
    """A gate's partial and its derivatives in x: the functions that compute
    them, in order, from another generated ``module`` or from ``kernels``."""

    name: str
    functions: list[str]
    module: str | None
    arguments: str  # as a kernel's body calls them, with its widened inputs
    rule_arguments: str  # as a JVP rule calls them
    kernels: list[Kernel]  # to emit; none when another module's are called

    def call(self, backend: JaxBackend, level: int, rule: bool = False) -> str:
        """The call of the derivative of ``level`` in x, from a rule or a body."""
        arguments = self.rule_arguments if rule else self.arguments
        if self.module is None:
            return f"{self.functions[level]}({arguments})"
        if rule:
            backend.name("jnp.asarray")
        return f"{backend.name(self.functions[level], self.module)}({arguments})"


def _tower(
    activation: Activation,
    formula: Formula,
    name: str,
    docstring: str,
    constants: ModuleConstants,
    linked: dict[sp.Expr, Link],
    public: bool = True,
) -> list[Kernel]:
    """One custom_jvp function per derivative; each rule calls the next one,
    each gate's tower for that gate's partial, and a function per other partial."""
    inputs, arguments = activation.inputs, argument_list(activation.inputs)
    backend = constants.backend
    names = kernel_names(formula, name, activation.x)
    symbols = activation.gates if formula.gates else ()  # a gate's tower has none
    gated = [
        _gate_tower(activation, symbol, gate, name, constants, linked)
        for symbol, gate in zip(symbols, formula.gates, strict=True)
    ]
    factor = _factor(formula, symbols, gated)
    kernels: list[Kernel] = []
    partial_of: dict[str, tuple[int, int]] = {}  # a partial's level and input
    for level, derivative in enumerate(formula.tower[: len(names)]):
        value, *partials = derivative.lowered
        following = names[level + 1] if level + 1 < len(names) else None
        if following is None and repeats(formula, level):
            following = names[level]
        doc = docstring if level == 0 else _ORDINAL_DOC.format(derivative.order, names[0])
        rounding, shape = "cast", ", " + arguments
        if level == 0 and public:
            rounding, shape = "narrow", ""
        if factor and 0 < level < len(factor.functions):
            # f = gate*h: the derivative in x is the gate times h's, whose kernel's
            # rule gives the next ones. Not the value itself: XLA then plans more
            # memory for the step.
            body = Body((), f"{factor.name} * {factor.call(backend, level)}")
            kernels.append(Kernel(names[level], doc, body, rounding, shape))
            break
        # Named constants of what is printed here, this order's first.
        function, order = names[0].lstrip("_"), derivative.order
        # The next derivative gets the inputs as given, and so has their dtype.
        calls = {"x": f"{following}({arguments})"} if following else {}
        for gate in gated:  # the gate's partial, from its own tower where it reaches
            if level < len(gate.functions):
                calls[gate.name] = gate.call(backend, level, rule=True)
        from_output = None
        if level == 0 and formula.output is not None:
            # The backward pass keeps y, which the next layer keeps anyway.
            calls["x"], from_output = output_partial(
                backend, activation, formula.output, names[0], following
            )
        body = backend.body(constants(value, function, order), inputs)
        primal = returning(body, rounding, shape)
        helpers = []
        for symbol, partial in zip(inputs, partials, strict=True):
            if symbol.name in calls or partial.is_number:
                continue
            if symbol == activation.x:  # the next order's kernel
                partial = constants(partial, function, order + 1)
            else:
                partial = constants(partial, function, order, wrt=(symbol.name,))
            kernel = (names[0], names[level])
            helper = _partial(backend, activation, kernel, order + 1, symbol, partial)
            helpers.append(helper)
            if symbol != activation.x:
                partial_of[helper.name] = level, inputs.index(symbol)
            calls[symbol.name] = f"{helper.name}({arguments})"
        jvps = tuple(
            rule(backend, activation, calls.get(s.name), p)
            for s, p in zip(inputs, partials, strict=True)
        )
        kernels += [Kernel(names[level], doc, primal, rounding, shape, jvps, from_output), *helpers]
    kernels = differentiable(activation, formula, constants, kernels, names, partial_of)
    return kernels + [kernel for gate in gated for kernel in gate.kernels]


def _partial(
    backend: JaxBackend, activation: Activation, names, order: int, symbol, partial: sp.Expr
) -> Kernel:
    """A function for ``partial``, the derivative in ``symbol`` of the kernel
    ``names[1]`` of the tower ``names[0]``, of ``order`` in x.

    In x, the next derivative's kernel, rounded as the kernels are.  In
    another input, the widened value, unbroadcast: the rule's sum rounds
    once, and a scalar parameter's partial free of x stays a scalar."""
    (base, kernel), inputs = names, activation.inputs
    body = backend.body(partial, inputs)
    if symbol == activation.x and partial.has(symbol):
        name = f"_{base.lstrip('_')}_d{order}"
        doc = _ORDINAL_DOC.format(order, base)
        shape = ", " + argument_list(inputs)
        return Kernel(name, doc, returning(body, "cast", shape), "cast", shape)
    doc = f"Partial derivative in {symbol.name} of :func:`{kernel}`, in closed form."
    name = f"_{kernel.lstrip('_')}_d{symbol.name}"
    return Kernel(name, doc, returning(body, None, ""), None, "", in_x=False)


def _gate_tower(activation, symbol, gate: Formula, name: str, constants, linked) -> GateTower:
    """The tower of ``gate``, a partial of the formula named ``name``: another
    module's kernels where one computes it, else its own; none for a number,
    which the rule writes in place."""
    arguments = argument_list(activation.inputs)
    if gate.source.is_number:
        return GateTower(symbol.name, [], None, arguments, arguments, [])
    if gate.source in linked:
        link = linked[gate.source]
        # The partial has the result's dtype, as the next derivative has.
        as_given = f"jnp.asarray({activation.x.name}, {rule_names(activation)[1]}.dtype)"
        return GateTower(symbol.name, list(link.names), link.module, "x", as_given, [])
    doc = f"The partial derivative of :func:`{name}` in {symbol.name}, in closed form."
    own = f"_{name.lstrip('_')}_d{symbol.name}"
    kernels = _tower(activation, gate, own, doc, constants, linked, public=False)
    # Its derivatives in x, in order: not the partials in a parameter between them.
    functions = [k.name for k in kernels if k.in_x]
    return GateTower(symbol.name, functions, None, arguments, arguments, kernels)


def _factor(formula: Formula, symbols, gated: list[GateTower]) -> GateTower | None:
    """The gate's tower if the formula is that gate times a formula free of it."""
    for symbol, gate in zip(symbols, gated, strict=True):
        if formula.source.as_independent(symbol, as_Add=False)[1] == symbol:
            return gate
    return None


_ORDINAL_DOC = "Derivative of order {} in x of :func:`{}`, in closed form."
