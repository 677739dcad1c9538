"""Axis-wise specs -> AxisActivation: reductions, the max shift and the JVP.

A reduction such as ``S = sum(exp(x))`` becomes a symbol, so the formula is
elementwise in x and S, and the JVP is the chain rule through both:
dy = dg/dx dx + dg/dS dS, with dS = sum(dh/dx dx).  Nothing is special-cased:
the max shift is found by substituting x = x' + m into each summand, and
the tangent is rewritten in terms of y wherever the formula can be solved
for x, so that y is all the backward pass keeps.
"""

import dataclasses

import sympy as sp

from codegen.analysis.lower import one_division
from codegen.analysis.model import AxisActivation, Reduction
from codegen.analysis.stabilise import stabilise
from codegen.numerics.primitives import FUNCTIONS, REDUCTIONS, axis_mean, axis_sum
from codegen.spec.load import SpecError
from codegen.spec.model import Spec
from codegen.spec.parse import ExpressionError, parse_expression

SHIFT = sp.Symbol("m", real=True)
OUTPUT = sp.Symbol("y", real=True)


def dot(symbol: sp.Symbol) -> sp.Symbol:
    """The tangent of ``symbol``."""
    return sp.Symbol(f"{symbol.name}_dot", real=True)


def derive_axiswise(spec: Spec) -> AxisActivation:
    """Build the analysis model of an axis-wise ``spec``, or raise SpecError."""
    axis = spec.axis
    assert axis is not None, "an axis-wise spec has an [axis] table"
    inputs = tuple(sp.Symbol(n, real=True) for n in (axis.split or ("x",)))
    params = tuple(sp.Symbol(p.name, real=True) for p in spec.params)
    names = {s.name: s for s in (*inputs, *params)}
    overrides = dict(axis.overrides)
    raw = []
    for name, text in axis.reductions:
        raw.append(_reduction(spec, name, text, names))
        names[name] = raw[-1][0]
    expr = _parse(spec, "expression", spec.expression, names, FUNCTIONS)
    _check_uses(spec, expr, raw, inputs, params)
    shift = _shift(expr, raw, inputs)
    shifted = shift is not None
    expr = stabilise(shift if shifted else expr)
    solved = _solve(expr, inputs)
    differentiable = (*inputs, *params)
    # What varies along the axis: the inputs, and parameters inside a summand
    # (logsumexp's b). Other parameters are taken as constant along it (epsilon).
    summed = set().union(*(summand.free_symbols for _, _, _, summand, _ in raw))
    varying = (*inputs, *(p for p in params if p in summed))
    reductions: list[Reduction] = []
    chained: dict = {}
    for symbol, kind, inner, summand, formula in raw:
        tangent = _reduction_tangent(
            kind, inner, summand, formula, symbol, reductions, differentiable
        )
        chained[dot(symbol)] = tangent
        reductions.append(
            Reduction(
                symbol,
                kind,
                inner,
                summand,
                formula,
                overrides.get(symbol.name),
                _in_terms_of_output(tangent, solved, varying),
            )
        )
    tangent = sum(sp.diff(expr, s) * dot(s) for s in differentiable)
    tangent += sum(sp.diff(expr, r.symbol) * dot(r.symbol) for r in reductions)
    # A reduction's tangent written in place lets its factors cancel: softmax's
    # y*(S*x_dot - S*sum(x_dot*y))/S becomes y*(x_dot - sum(x_dot*y)).  One
    # that an argument can override stays a name of its own.
    for r in reversed(reductions):
        if r.override is None:
            tangent = tangent.xreplace({dot(r.symbol): chained[dot(r.symbol)]})
    forward = {expr, *(summand for _, _, _, summand, _ in raw)}
    in_y = stabilise(_in_terms_of_output(tangent, solved, varying))
    in_x = stabilise(_in_terms_of_output(tangent, {}, varying))
    # y alone is the one array to keep, unless the tangent needs a function of
    # y that the forward pass does not compute: log_softmax's exp(y) is exp(x)/S.
    tangent = in_y if _new_functions(in_y, forward) <= _new_functions(in_x, forward) else in_x
    # sigmoid(b)*sigmoid(-b) as two logistics, not from one exponential: under
    # value_and_grad XLA's CPU plan for glu's halves then ran 2-5 times slower.
    tangent = one_division(tangent)
    activation = AxisActivation(spec, inputs, params, tuple(reductions), shifted, expr, tangent)
    if axis.choice is None:
        return activation
    variants = tuple(
        (value, derive_axiswise(_variant(spec, replaced)))
        for value, replaced in axis.choice.variants
    )
    return dataclasses.replace(activation, variants=variants)


def _variant(spec: Spec, replaced) -> Spec:
    """``spec`` with some reductions' formulas replaced, and no choice."""
    assert spec.axis is not None
    formulas = dict(spec.axis.reductions) | dict(replaced)
    axis = dataclasses.replace(spec.axis, reductions=tuple(formulas.items()), choice=None)
    return dataclasses.replace(spec, axis=axis)


def _parse(spec: Spec, field: str, text: str, names, functions) -> sp.Expr:
    try:
        expr = parse_expression(text, names, functions)
    except ExpressionError as error:
        raise SpecError(spec.path, field, str(error)) from None
    if not isinstance(expr, sp.Expr):
        raise SpecError(spec.path, field, f"must be a number-valued formula, not {text!r}")
    return expr


def _reduction(spec: Spec, name: str, text: str, names):
    """(symbol, kind, inner symbol, summand, formula of the inner symbol)."""
    field = f"axis.reductions.{name}"
    formula = _parse(spec, field, text, names, {**FUNCTIONS, **REDUCTIONS})
    calls = list(formula.atoms(axis_sum, axis_mean))
    if len(calls) != 1:
        raise SpecError(spec.path, field, "must call sum(...) or mean(...) exactly once")
    call = calls[0]
    summand = call.args[0]
    if summand.has(axis_sum, axis_mean):
        raise SpecError(
            spec.path,
            field,
            "must reduce a formula of the input, parameters and earlier reductions",
        )
    kind = "sum" if isinstance(call, axis_sum) else "mean"
    symbol = sp.Symbol(name, real=True)
    inner = symbol if formula == call else sp.Symbol(f"{name}_{kind}", real=True)
    return symbol, kind, inner, summand, formula.xreplace({call: inner})


def _check_uses(spec: Spec, expr, raw, inputs, params) -> None:
    used = set(expr.free_symbols)
    for symbol, _, inner, summand, formula in raw:
        used |= (formula.free_symbols - {symbol, inner}) | summand.free_symbols
    if not any(s in used for s in inputs):
        raise SpecError(spec.path, "expression", "does not use the input")
    for symbol, *_ in raw:
        if symbol not in used:
            raise SpecError(spec.path, f"axis.reductions.{symbol.name}", "is never used")
    for symbol in params:
        if symbol not in used:
            raise SpecError(spec.path, f"params.{symbol.name}", "is declared but never used")


def _shift(expr, raw, inputs) -> sp.Expr | None:
    """``expr`` for x - max(x), if every reduction scales by a factor under x -> x + m.

    For S = sum(exp(x)) the factor is exp(m): softmax exp(x)/S is unchanged,
    log_softmax x - log(S) too, and logsumexp log(S) becomes log(S) + m.
    """
    if len(inputs) != 1 or not raw:
        return None
    (x,) = inputs
    factors = {}
    for symbol, _, inner, summand, _ in raw:
        factor = sp.simplify(summand.subs(x, x + SHIFT) / summand)
        if inner != symbol or factor.has(x) or factor == 1:
            return None
        factors[symbol] = symbol * factor
    shifted = expr.xreplace({x: x + SHIFT, **factors})
    shifted = sp.expand_log(sp.powsimp(sp.expand_power_exp(sp.expand(shifted))), force=True)
    return sp.simplify(shifted)


def _solve(expr, inputs) -> dict[sp.Symbol, sp.Expr]:
    """The input as a function of the output y, if there is one input and one solution."""
    if len(inputs) != 1 or not expr.has(inputs[0]):
        return {}
    try:
        solutions = sp.solve(sp.Eq(OUTPUT, expr), inputs[0])
    except (NotImplementedError, ValueError):
        return {}
    return {inputs[0]: solutions[0]} if len(solutions) == 1 else {}


def _reduction_tangent(kind, inner, summand, formula, symbol, earlier, differentiable):
    """d(symbol): the chain rule through the reduction and the earlier reductions."""
    reduce = axis_sum if kind == "sum" else axis_mean
    # An earlier reduction in the summand (the mean in a two-pass variance)
    # is constant along the axis: its tangent comes out of the reduction.
    inner_dot = reduce(
        sum(sp.diff(summand, s) * dot(s) for s in differentiable)
        + sum(sp.diff(summand, r.symbol) * dot(r.symbol) for r in earlier)
    )
    tangent = inner_dot if inner == symbol else sp.diff(formula, inner) * inner_dot
    tangent += sum(sp.diff(formula, r.symbol) * dot(r.symbol) for r in earlier)
    if inner != symbol:
        tangent += sum(sp.diff(formula, s) * dot(s) for s in differentiable if formula.has(s))
    return tangent


def _in_terms_of_output(tangent: sp.Expr, solved, varying) -> sp.Expr:
    """``tangent`` with the input replaced by its solution in y, and with
    factors that are constant along the axis taken out of each reduction."""
    tangent = tangent.xreplace(solved) if solved else tangent
    elementwise = {*varying, *(dot(s) for s in varying), OUTPUT}

    def take_out(call):
        terms = []
        for term in sp.Add.make_args(sp.expand(call.args[0])):
            factor, rest = term.as_independent(*elementwise, as_Add=False)
            terms.append(factor * call.func(rest))
        return sp.Add(*terms)

    tangent = tangent.replace(lambda e: isinstance(e, axis_sum | axis_mean), take_out)
    if not solved:
        return tangent
    # y times one factor constant along the axis: y is then all that is kept.
    collected = sp.collect(sp.expand(tangent), OUTPUT, evaluate=False)
    return sp.Add(*(_times(power, c) for power, c in collected.items()))


def _new_functions(tangent: sp.Expr, forward) -> int:
    """How many function calls ``tangent`` makes that ``forward`` does not."""
    known = set().union(*(e.atoms(sp.Function) for e in forward))
    calls = tangent.atoms(sp.Function) - known
    return sum(not isinstance(c, axis_sum | axis_mean) for c in calls)


def _times(power: sp.Expr, coefficient: sp.Expr) -> sp.Expr:
    """``power * coefficient`` printed as y * (...) / ...: a sign taken out in
    front would make -y, a second array to keep."""
    if power == 1:
        return sp.factor_terms(coefficient)
    numerator, denominator = sp.fraction(sp.together(sp.factor_terms(coefficient)))
    return power * sp.expand(numerator) / denominator
