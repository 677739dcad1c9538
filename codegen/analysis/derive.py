"""Spec -> Activation: parse, stabilise and differentiate each formula."""

import dataclasses
import itertools
import math

import sympy as sp

from codegen.analysis.budget import stage
from codegen.analysis.differences import split_by_sign
from codegen.analysis.exponential import breaks_no_more, in_one_exponential
from codegen.analysis.fallback import divided_safely, with_fallback
from codegen.analysis.lower import lower, one_division
from codegen.analysis.model import Activation, Context, Derivative, Formula, SecondPartial
from codegen.analysis.residual import output_form
from codegen.analysis.search import as_accurate, best_form, most_accurate
from codegen.analysis.series import TRAINED_ORDERS, with_series
from codegen.analysis.stabilise import sech_squared_negated, stabilise
from codegen.analysis.tails import guarded, tails
from codegen.analysis.vanishing import vanishing_terms
from codegen.numerics.primitives import sigmoid
from codegen.spec.domain import DomainError, real_domain
from codegen.spec.load import SpecError
from codegen.spec.model import Spec
from codegen.spec.parse import ExpressionError, parse_expression

# The float32 error a cheaper form of f' may have and count as accurate:
# docs/accuracy.md's target for it.
_TRAINED_ULPS = 4.0
# What a closed-form derivative must not contain.
_UNPRINTABLE = (sp.Derivative, sp.Subs, sp.Integral, sp.DiracDelta)
_FACTORED_OPS = 150  # past it, factoring an algebraic form costs more than it gains


def check(spec: Spec) -> tuple[tuple[sp.Symbol, ...], list[tuple[str, sp.Expr]]]:
    """Parse the formulas of ``spec`` and check their names: the cheap part.

    Returns the inputs (x, then the parameters) and each field's formula.
    """
    x = sp.Symbol("x", real=True)
    params = tuple(sp.Symbol(p.name, real=True) for p in spec.params)
    inputs = (x, *params)
    names = {s.name: s for s in inputs}
    sources = [("expression", spec.expression)]
    if spec.switch is not None:
        sources.append(("switch.expression", spec.switch.expression))
    exprs = [(field, _parse(spec, field, text, names)) for field, text in sources]
    _check_uses(spec, inputs, exprs)
    return inputs, exprs


def derive(spec: Spec) -> Activation:
    """Build the analysis model of ``spec``, or raise :class:`SpecError`."""
    inputs, exprs = check(spec)
    defaults = {s: p.default for s, p in zip(inputs[1:], spec.params, strict=True)}
    spec = _with_domain(spec, inputs, exprs, defaults)
    context = Context(inputs[0], tuple(defaults.items()), spec.domain, spec.accuracy == "strict")
    formulas = tuple(_formula(spec, field, e, inputs, context) for field, e in exprs)
    return Activation(spec=spec, inputs=inputs, formulas=formulas)


def _with_domain(spec: Spec, inputs, exprs, defaults) -> Spec:
    """``spec``, with the interval where its formulas are real if it gives none."""
    if spec.domain != (-math.inf, math.inf):
        return spec
    stage("domain")
    found = []
    for field, expr in exprs:
        try:
            found.append(real_domain(expr.subs(defaults), inputs[0]))
        except DomainError as error:
            raise SpecError(
                spec.path, field, f"{error}; give the interval to use with domain = [low, high]"
            ) from None
    bounds = [d for d in found if d is not None]
    if not bounds:
        return spec
    low, high = max(d[0] for d in bounds), min(d[1] for d in bounds)
    return dataclasses.replace(spec, domain=(low, high), domain_inferred=True)


def _parse(spec: Spec, field: str, text: str, names) -> sp.Expr:
    try:
        expr = parse_expression(text, names)
    except ExpressionError as error:
        raise SpecError(spec.path, field, str(error)) from None
    if not isinstance(expr, sp.Expr):
        raise SpecError(spec.path, field, f"must be a number-valued formula, not {text!r}")
    return expr


def _check_uses(spec: Spec, inputs, exprs) -> None:
    used = set().union(*(e.free_symbols for _, e in exprs))
    for field, expr in exprs:
        if inputs[0] not in expr.free_symbols:
            raise SpecError(spec.path, field, "does not use the input x")
    for symbol in inputs[1:]:
        if symbol not in used:
            raise SpecError(spec.path, f"params.{symbol.name}", "is declared but never used")


def _formula(
    spec: Spec, field: str, expr: sp.Expr, inputs, context: Context, top: int | None = None
) -> Formula:
    """The tower of ``expr`` to order ``top`` in x (the spec's closed_form_order),
    with each gate's partial as a formula of its own, one order shorter."""
    main = top is None  # not a gate's own partial
    top = spec.closed_form_order if top is None else top
    tower = []
    # The value as written stays unless a rewrite is clearly better: NumPy,
    # which scores the forms, and XLA round differently near exact zeros.
    current = _stable_form(expr, context, margin=2.0)
    for order in range(top + 1):
        stage(f"differentiate and search, order {order + 1}")
        partials = _partials(spec, field, expr, current, inputs, context, order)
        tower.append(_derivative(current, partials, context, order))
        current = partials[0]
    gates: tuple[Formula, ...] = ()
    if main and top > 0:
        inputs_of = {p.name for p in spec.params if p.input}
        gates = tuple(
            _formula(spec, field, sp.diff(expr, s), inputs, context, top - 1)
            for s in inputs[1:]
            if s.name in inputs_of
        )
    seconds = _seconds(spec, field, expr, tower[0], inputs, context) if main else ()
    stage("residual")
    output = output_form(tower[0].expr, context, spec.residual)
    return Formula(expr, tuple(tower), output, gates, seconds)


def _seconds(spec, field, expr, first: Derivative, inputs, context) -> tuple[SecondPartial, ...]:
    """d^2 f / dp dq for each pair of scalar parameters, p before q, found and
    lowered as a first partial is: autodiff of d f / dp's stable form can be
    NaN where the form is finite (soft clipping's at a = 50)."""
    stage("second partials")
    scalars = [i for i, p in enumerate(spec.params, start=1) if not p.input]
    found = []
    for i, j in itertools.combinations_with_replacement(scalars, 2):
        try:
            direct = sp.diff(expr, inputs[i], inputs[j])
            second = _partial(first.partials[i], inputs[j], context, 2, direct)
        except (TypeError, ValueError, NotImplementedError, AttributeError) as error:
            raise SpecError(spec.path, field, f"cannot be differentiated: {error}") from None
        if second.has(*_UNPRINTABLE) or second.has(sp.nan, sp.zoo):
            names = f"{inputs[i]} and {inputs[j]}"
            raise SpecError(spec.path, field, f"has no closed-form derivative in {names}: {second}")
        regimes = with_series(second, context.x, context.domain, 2, _at_roots(context, 2))
        found_tails = tails(regimes, context.x, context.domain, context.samples)
        lowered = _lowered(regimes, found_tails, context, clamp=True)
        found.append(SecondPartial(i, j, second, lowered))
    return tuple(found)


def _partials(spec, field, expr, current, inputs, context, order) -> tuple[sp.Expr, ...]:
    """The stable partials of ``current``, the derivative of ``order``, in each input."""
    x = inputs[0]
    try:
        # Differentiating the formula as written is a second candidate: a
        # stable form of f^(k) can cancel once differentiated, as
        # squareplus's rationalised branch does near 0 at order 3.
        direct = sp.diff(expr, x, order + 1)
        partials = (
            _partial(current, x, context, order + 1, direct),
            *(_partial(current, s, context, order + 1) for s in inputs[1:]),
        )
    except (TypeError, ValueError, NotImplementedError, AttributeError) as error:
        raise SpecError(spec.path, field, f"cannot be differentiated: {error}") from None
    for s, d in zip(inputs, partials, strict=True):
        if d.has(*_UNPRINTABLE) or d.has(sp.nan, sp.zoo):
            raise SpecError(spec.path, field, f"has no closed-form derivative in {s}: {d}")
    return partials


def _derivative(current, partials, context: Context, order) -> Derivative:
    """``current`` and its partials with their regimes, lowered to selects.

    JAX differentiates the partials' code in a JVP rule, at the next order
    up: there every branch reads a clamped x, so that an untaken branch puts
    no inf or NaN into a derivative.  The value is its kernel's own body,
    which JAX never differentiates, and needs no clamps.
    """
    x, domain = context.x, context.domain
    orders = (order, *[order + 1] * len(partials))
    stage(f"series, order {order}")
    regimes = [
        with_series(e, x, domain, k, _at_roots(context, k))
        for e, k in zip((_cheapest(current, context, order), *partials), orders, strict=True)
    ]
    stage(f"tails, order {order}")
    found = [tails(e, x, domain, context.samples) for e in regimes]
    stage(f"lower, order {order}")
    lowered = [
        _lowered(e, t, context, clamp=k > 0)
        for k, (e, t) in enumerate(zip(regimes, found, strict=True))
    ]
    return Derivative(order, current, partials, tuple(lowered))


def _lowered(expr, found, context: Context, clamp: bool) -> sp.Expr:
    """``expr`` with its regimes ``found``, lowered to selects, with one
    division per denominator where that stays finite, each term of a sum
    that breaks where it vanishes as 0 there, and in log space where it is
    not finite but its truth is."""
    terms = vanishing_terms(expr, found, context)
    undivided = lower(terms, context.x, context.values, clamp, divide=False)
    divided, undivided = guarded(one_division(undivided), found), guarded(undivided, found)
    computed = divided_safely(expr, divided, undivided, context)
    return with_fallback(expr, computed, context, clamp)


def _cheapest(expr: sp.Expr, context: Context, order: int) -> sp.Expr:
    """f' from one exponential where that is as accurate (exponential.py).

    Only f': a training step evaluates it for every element, and no series
    regime joins it unless the spec asks for strict accuracy.  Not f, which
    feeds the next layer's matmul: there XLA's CPU fusion took the selects
    of mish's one-exponential form apart, 12 MiB more in an 8-layer MLP.
    """
    if order != 1 or _at_roots(context, order):
        return expr
    cheaper = in_one_exponential(expr, context.x)
    if cheaper is None or not breaks_no_more(cheaper, expr, context):
        return expr
    return cheaper if as_accurate(cheaper, expr, context, _TRAINED_ULPS) else expr


def _at_roots(context: Context, order: int) -> bool:
    """Whether derivatives of ``order`` get Taylor polynomials about their
    roots: a training step evaluates orders 0 and 1, for every element."""
    return context.strict or order not in TRAINED_ORDERS


def _partial(expr, symbol: sp.Symbol, context: Context, order, direct=None) -> sp.Expr:
    """The most accurate stable form of d expr / d symbol among a few rewrites.

    ``direct`` is the same derivative found another way, competing with it.
    """
    candidates = [_stable_form(sp.diff(expr, symbol), context)]
    if direct is None:
        return candidates[0]
    candidates.append(_stable_form(direct, context))
    # Scored as computed: a series regime can mend one where it cancels.
    x, domain = context.x, context.domain
    roots = _at_roots(context, order)
    computed = {with_series(c, x, domain, order, roots): c for c in reversed(candidates)}
    return computed[most_accurate(list(computed), context)]


def _stable_form(d: sp.Expr, context: Context, margin: float = 1.0) -> sp.Expr:
    if len(d.atoms(sp.Piecewise)) <= 2:  # folding more is slow and gains little
        d = sp.piecewise_fold(d)
    return best_form(stabilise(d), _rewrites, context, margin)


def _factored_by_step(expr: sp.Expr) -> sp.Expr:
    """``expr``, a Max's derivative, with the algebraic sum beside each step
    as one factored fraction: d²/dk² of Max(t, sqrt(1 + k²x²)) holds
    x²/s - k²x⁴/s³, which cancels to 4e-6 where it is 8e-10 at x = 1e10."""
    groups: dict[sp.Expr, sp.Expr] = {}
    for term in sp.Add.make_args(sp.expand_mul(expr)):
        steps = sp.Mul(*(f for f in sp.Mul.make_args(term) if isinstance(f, sp.Heaviside)))
        groups[steps] = groups.get(steps, sp.S.Zero) + term / steps
    factored = []
    for steps, rest in groups.items():
        if not rest.atoms(sp.Function) and sp.count_ops(rest) <= _FACTORED_OPS:
            rest = sp.factor(sp.cancel(sp.together(rest)))
        else:
            rest = sp.factor_terms(rest)  # as it was, before expand_mul
        factored.append(steps * rest)
    return sp.Add(*factored)


def _rewrites(expr: sp.Expr) -> list[sp.Expr]:
    """Equivalent forms for the search to score."""
    rewrites = [stabilise(sp.factor_terms(expr)), stabilise(sp.together(expr))]
    ops = _FACTORED_OPS + 1 if expr.atoms(sp.Function) else sp.count_ops(expr)
    if ops <= _FACTORED_OPS:
        # An algebraic form as one fraction with its common factors taken
        # out, where that halves it, as terms cancel symbolically: pflu'' is
        # (2 - x**2)/(2(x**2 + 1)**(5/2)), whose sum as differentiated
        # cancels its x**4 terms, 0 past x = 2600 in float32.
        factored = sp.factor(sp.cancel(sp.together(expr)))
        rewrites += [stabilise(factored)] if 2 * sp.count_ops(factored) <= ops else []
    if expr.atoms(sp.Heaviside):
        rewrites += [stabilise(_factored_by_step(expr))]
    if expr.has(sp.exp) and expr.atoms(sigmoid):
        # exp(x)*(c*sqrt(sigmoid(-2x)) + ...) meets its sigmoids only once
        # distributed, where exp(x)*sqrt(sigmoid(-2x)) is sqrt(sigmoid(2x)).
        rewrites.append(stabilise(sp.expand_mul(expr)))
    negated = sech_squared_negated(expr)
    rewrites += [] if negated == expr else [stabilise(negated)]
    split = split_by_sign(expr)
    return rewrites if split is None else [*rewrites, split]
