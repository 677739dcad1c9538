"""Where the closed form breaks far out, a fallback form in its place.

The closed form is kept where it is finite and right; where it is not
finite though the truth is, or is 0 where the truth is not small, or far
out finite but wrong (astray.py), the fallback takes over if it mends a
point: the log-space form (logspace.py), else the form in the one
exponential exp(-|x|) (exponential.py).
"""

import functools
from collections.abc import Callable, Iterator

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import log1p

from codegen.analysis.astray import astray_bounds, inside
from codegen.analysis.exponential import in_one_exponential
from codegen.analysis.logspace import log_space, power_factor
from codegen.analysis.lower import lower
from codegen.analysis.model import Context
from codegen.numerics.evaluate import exact_values, float32_values, float64_values
from codegen.numerics.primitives import Where, isfinite, sigmoid

# Magnitudes to look for breaks at: 16 a decade to 1e4, then 1 a decade.
_MAGNITUDES = np.unique(np.concatenate([np.geomspace(1, 1e4, 65), np.logspace(4, 308, 305)]))
# Each float type: its NumPy evaluation and its largest finite value.
_TYPES = (
    (np.float32, float32_values, float(np.finfo(np.float32).max)),
    (np.float64, float64_values, float(np.finfo(np.float64).max)),
)
_CHECKED = 24  # broken points where the truth is computed, at most


def with_fallback(expr: sp.Expr, computed: sp.Expr, context: Context, clamp: bool) -> sp.Expr:
    """``computed``, the lowered form of ``expr``, with a fallback form of
    ``expr`` where ``computed`` is not finite, if that mends a point; where it is 0
    but the fallback is finite, if ``computed`` was 0 at a mended point; and
    past far bounds where ``computed`` is finite but wrong (astray.py)."""
    powers = [p for p in expr.atoms(sp.Pow) if power_factor(p)]
    ratio = any(p.exp.is_negative or not p.exp.is_Integer for p in powers)
    if not (ratio or expr.has(sp.exp, sigmoid, sp.tanh, sp.sech, log1p)):
        return computed
    x = context.x

    @functools.cache
    def breaks(i: int) -> tuple:
        """:func:`_broken` at parameter sample i, once for _kept and fallback()."""
        return _broken(expr, computed, x, context.domain, dict(context.samples[i]))

    @functools.cache
    def fallback() -> sp.Expr | None:
        """The alternative that mends the most breaks, the first of equals.
        Where exp(x)/(x*exp(x) + x**2)' is 0 in float32, from x = 85, log
        space mends few points (it takes the log of a sum); in exp(-|x|) the
        value is 1/(x + x**2*exp(-x)), and every point is mended."""
        best, most = None, -1
        for alternative in _alternatives(expr, x):
            form = lower(alternative, x, context.values, clamp=clamp)
            mended, broken = _mends(form, breaks, context)
            best, most = (form, mended) if mended > most else (best, most)
            if mended == broken:
                break
        return best

    kept = _kept(computed, fallback, breaks, context)
    bounds = astray_bounds(expr, computed, fallback, x, context.domain, dict(context.samples[0]))
    if bounds is not None:
        kept = sp.And(inside(x, bounds), isfinite(computed) if kept is None else kept)
    return computed if kept is None else Where(kept, computed, fallback())


def _alternatives(expr: sp.Expr, x: sp.Symbol) -> Iterator[sp.Expr]:
    """``expr`` in log space, then in one exponential, each made only when
    the one before does not mend: the second cancels a rational function."""
    for make in (log_space, lambda e: in_one_exponential(e, x, cheaper=False)):
        alternative = make(expr)
        if alternative is not None and alternative != expr:
            yield alternative


def _mends(form: sp.Expr, breaks: Callable, context: Context) -> tuple[int, int]:
    """At how many of the points where the closed form ``breaks`` ``form`` is
    right, and at how many it breaks, at the first parameter sample where it does."""
    for i, sample in enumerate(context.samples):
        evaluate, points, truth = breaks(i)
        if len(points):
            got = evaluate(form, context.x, points, dict(sample))
            return int(_right_at(got, truth).sum()), len(points)
    return 0, 0


def _kept(computed, fallback: Callable, breaks: Callable, context: Context) -> sp.Basic | None:
    """Where ``computed`` is kept over ``fallback()``: where it is finite, if
    the fallback mends a point where it ``breaks``; else None."""
    for i, sample in enumerate(context.samples):
        evaluate, points, truth = breaks(i)
        if not len(points):
            continue  # finite wherever its truth is: the common case
        if fallback() is None:
            return None
        if not _right(evaluate(fallback(), context.x, points, dict(sample)), truth):
            continue
        kept = isfinite(computed)
        if (evaluate(computed, context.x, points, dict(sample)) == 0).any():
            # An overflowed denominator's quotient is a wrong 0, unless the fallback fails too.
            kept = kept & (sp.Ne(computed, 0) | ~isfinite(fallback()))
        return kept
    return None


def _broken(expr, computed, x, domain, sample) -> tuple:
    """(evaluate, points, truth): up to _CHECKED points where ``computed``
    is not finite but the truth is, or is 0 where the truth is not small,
    in float32 or else float64, at one parameter sample; no points
    if there are none."""
    points = _far_points(domain)
    for dtype, evaluate, largest in _TYPES:
        typed = points[np.abs(points) <= largest].astype(dtype)
        try:
            values = evaluate(computed, x, typed, sample)
        except TypeError:
            break  # SymPy cannot print Min of a clamped x for NumPy: no fallback
        zeros = _suspect_zeros(computed, x, typed[values == 0], sample, dtype)
        if np.isfinite(values).all() and not len(zeros):
            continue
        # Both kinds, so that zeros the truth shares do not crowd out the rest.
        picked = np.concatenate([_spread_out(typed[~np.isfinite(values)]), _spread_out(zeros)])
        truth = exact_values(expr.subs(sample), x, picked)
        with np.errstate(all="ignore"):
            got = evaluate(computed, x, picked, sample)
            finite = np.isfinite(truth) & (np.abs(truth) <= largest)
            wrong = ~np.isfinite(got) | ((got == 0) & (np.abs(truth) >= _small(dtype)))
        if (finite & wrong).any():
            return evaluate, picked[finite & wrong], truth[finite & wrong]
    return None, np.array([]), np.array([])


def _suspect_zeros(computed, x, zeros: np.ndarray, sample, dtype) -> np.ndarray:
    """Of the float32 ``zeros`` of ``computed``, those that float64 does not
    find small: an intermediate overflowed in float32 alone.  A float64 zero
    is not checked: its float32 twin shows the same flaw at smaller x."""
    if dtype is not np.float32 or not len(zeros):
        return zeros[:0]
    with np.errstate(all="ignore"):
        wide = float64_values(computed, x, zeros.astype(np.float64), sample)
    return zeros[~(np.abs(wide) < _small(dtype))]


def _small(dtype) -> float:
    """The least truth a computed 0 is wrong for: below it, whose square
    underflows, 0 is the float format's limit rather than a formula's flaw."""
    return float(np.sqrt(np.finfo(dtype).tiny))


def _spread_out(points: np.ndarray) -> np.ndarray:
    """Up to _CHECKED of ``points``, evenly spread."""
    if not len(points):
        return points
    return points[np.unique(np.linspace(0, len(points) - 1, _CHECKED).astype(int))]


def divided_safely(expr, divided, undivided, context: Context) -> sp.Expr:
    """``divided``, lower's form of ``expr`` with one division per
    denominator, or ``undivided`` if that is not finite where the truth is.

    There d**2 may have overflowed, and r**2 = 1/d**2 underflowed to 0 or a
    subnormal's few digits, which a*r**2 carries into the result in the
    order JAX multiplies, whatever NumPy's order shows here: with_fallback
    mends the break that ``undivided`` shows, and nothing mends a wrong number.
    """
    if divided == undivided:
        return divided
    for sample in context.samples:
        if len(_broken(expr, undivided, context.x, context.domain, dict(sample))[1]):
            return undivided
    return divided


def _far_points(domain) -> np.ndarray:
    """±_MAGNITUDES inside ``domain``."""
    low, high = domain
    points = np.concatenate([-_MAGNITUDES, _MAGNITUDES])
    return points[(points > low) & (points < high)]


def _right(got: np.ndarray, truth: np.ndarray) -> bool:
    """Whether the fallback is right at one of the points, to 1e-3."""
    return bool(_right_at(got, truth).any())


def _right_at(got: np.ndarray, truth: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.abs(got - truth) <= 1e-3 * np.abs(truth)
