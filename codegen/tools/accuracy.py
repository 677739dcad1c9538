"""Accuracy of the generated float32 functions against mpmath.

``python -m codegen.tools.accuracy`` scores every generated function and its first
three derivatives, and jax.nn's counterpart side by side, on a grid of both
signs log-spaced from 1e-30 to 1e4, plus 0, each kink and each root
(codegen/tools/grid.py).  The error of a
result is ``|result - truth| / ulp(max(|truth|, 1e-30))`` in float32 ulps,
with the truth from SymPy's exact derivatives evaluated by mpmath at 50
digits.  It prints a table, writes docs/accuracy.md, and exits 1 if some
function misses its target while also being worse than jax.nn by more than an ulp.
"""

import argparse
import functools
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np
import sympy as sp

from codegen.analysis.model import Activation
from codegen.analysis.series import ROOT_REACH
from codegen.build.pipeline import analyse
from codegen.numerics.evaluate import TARGETS, exact_values, ulp_errors
from codegen.tools.grid import beside, grid, near, traded_roots
from codegen.tools.reference import forms, jax_nn_function
from codegen.tools.residuals import residual_rows

DIGITS = 50
_ORDERS = ("f", "f'", "f''", "f'''")

# Causes of the misses that remain, by (function label, derivative order).
CAUSES = {
    ("gelu(approximate=True)", 0): (
        "u = sqrt(2/pi)(x + 0.044715x^3) is rounded to float32 before sigmoid(2u), which "
        "multiplies its relative error by about |2u| (10 near x = -3.5); jax.nn's "
        "1 + tanh(u) form is off by thousands of ulps there."
    ),
    ("gelu(approximate=True)", 1): "as for order 0: the rounding of u, amplified in the tail.",
    ("gelu(approximate=True)", 2): "as for order 0: the rounding of u, amplified in the tail.",
    ("gelu(approximate=False)", 0): (
        "XLA's float32 erfc loses accuracy in its tail (x below -5, where erfc is below "
        "1e-12): the primitive's own error, shared with jax.nn."
    ),
    ("gelu(approximate=False)", 1): "as for order 0: erfc's error in its tail.",
    ("log1mexp", 1): (
        "1/expm1(x) carries expm1's and the division's rounding: a primitive's error "
        "(jax.nn has the same error)."
    ),
    ("mish", 1): (
        "mish' = tanh(softplus(x)) + x*sigmoid(x)*sech(softplus(x))^2 has a zero near "
        "x = -1.19, where its two terms cancel (see the traded points below); from -2.6 "
        "to -0.8 the result is still a few times smaller than the terms, so their own "
        "rounding counts for several ulps."
    ),
}


# geglu is gelu times the gate: the gate multiplies gelu's error and its own
# partial is gelu itself, so both rows miss where gelu's do, for gelu's causes.
CAUSES.update(
    {
        (label.replace("gelu", "geglu") + row, k): "as for gelu, which it multiplies: " + why
        for (label, k), why in list(CAUSES.items())
        if label.startswith("gelu")
        for row in ("", ", d/dgate")
    }
)


def truth(
    activation: Activation, formula: int, points: np.ndarray, order: int, wrt: tuple = ()
) -> np.ndarray:
    """The exact ``order``-th derivative in x, of the partial in the symbols
    ``wrt`` if any, at ``points``, rounded to float64."""
    expr = sp.diff(activation.formulas[formula].source, *wrt, activation.x, order)
    # Exact rationals: with a Float, SymPy folds exp(-50.0) to 15 digits, and
    # soft clipping's f' at a = 50 was 3.4e-17 past x = 3, where it underflows.
    exact = {s: sp.Rational(v) for s, v in activation.defaults.items()}
    return exact_values(expr.subs(exact), activation.x, points, DIGITS)


def evaluate(function, points: np.ndarray, order: int) -> np.ndarray:
    """``function``'s ``order``-th derivative at float32 ``points``, by JAX."""
    for _ in range(order):
        function = jax.grad(function)
    return np.asarray(jax.jit(jax.vmap(function))(points), dtype=np.float64)


@dataclass(frozen=True)
class Score:
    """Worst error in ulps at each derivative order, ours and jax.nn's."""

    label: str
    ours: tuple[float, ...]
    theirs: tuple[float, ...] | None

    def misses(self) -> list[int]:
        """Orders that miss their target and are worse than jax.nn too, by
        more than an ulp: less is the rounding of a different order of
        operations (mish' at -2.256, 4.6 ulps to jax.nn's 3.6)."""
        return [
            k
            for k, error in enumerate(self.ours)
            if error > TARGETS[k] and (self.theirs is None or error > self.theirs[k] + 1)
        ]


def worst(function, points: np.ndarray, exact: list[np.ndarray], left_out=None) -> tuple:
    """The largest error at each derivative order, where ``left_out`` of
    that order, a mask, does not hold."""
    left_out = left_out or {}
    errors = []
    for k, truth_k in enumerate(exact):
        error = ulp_errors(evaluate(function, points, k), truth_k)
        kept = ~left_out[k] if k in left_out else slice(None)
        errors.append(float(error[kept].max(initial=0)))
    return tuple(errors)


def score(activation: Activation, generated, count: int = 120) -> list[Score]:
    """Scores of each formula of ``activation``, ours and jax.nn's."""
    points = grid(activation, count)
    spec = activation.spec
    ours, theirs = getattr(generated, spec.name), jax_nn_function(spec)
    gates = activation.gates
    scores = []
    for index, (label, flags) in enumerate(forms(activation)):
        # Near the roots a standard-accuracy build trades, traded() reports those orders.
        left_out = {k: near(points, rs) for k, rs in traded_roots(activation, index).items()}
        # A gated function is scored at gates of 1, as f(x) and as each gate's partial.
        for argnum, wrt in enumerate([(), *((g,) for g in gates)]):
            exact = [truth(activation, index, points, k, wrt) for k in range(len(TARGETS))]
            name = f"{label}, d/d{wrt[0]}" if wrt else label
            mine = worst(_at_gates(ours, flags, len(gates), argnum), points, exact, left_out)
            if theirs is None:
                scores.append(Score(name, mine, None))
                continue
            function = _at_gates(theirs, flags, len(gates), argnum)
            reference = worst(function, points, exact, left_out)
            scores.append(Score(name, mine, reference))
    return scores


def traded(activation: Activation, generated) -> list[str]:
    """Markdown rows: the error of each order a standard-accuracy build
    trades, beside the roots of that order, ours and jax.nn's."""
    spec = activation.spec
    ours, theirs = getattr(generated, spec.name), jax_nn_function(spec)
    rows = []
    for index, (label, flags) in enumerate(forms(activation)):
        for order, centres in traded_roots(activation, index).items():
            points = np.array(beside(centres), np.float32)
            exact = [truth(activation, index, points, k) for k in range(order + 1)]
            errors = [
                _ulps(worst(_at_gates(f, flags, len(activation.gates), 0), points, exact)[order])
                if f
                else "—"
                for f in (ours, theirs)
            ]
            at = ", ".join(f"{c:.4g}" for c in centres)
            rows.append(f"| {label} | {_ORDERS[order]} | {at} | {' | '.join(errors)} |")
    return rows


def _at_gates(function, flags: dict, gates: int, argnum: int):
    """``function`` of x alone, the gates at 1, or its partial in gate ``argnum``."""
    bound: Callable = functools.partial(function, **flags)
    if not gates:
        return bound
    if argnum:
        bound = jax.grad(bound, argnum)
    return lambda x: bound(x, *[1.0] * gates)


def _ulps(error: float, target: int | None = None) -> str:
    text = "NaN/inf" if math.isinf(error) else f"{error:.3g}"
    return f"**{text}**" if target is not None and error > target else text


def table(scores: list[Score]) -> list[str]:
    """Markdown rows: ours at orders 0-3, then jax.nn's; misses in bold."""
    rows = [
        "| function | f | f' | f'' | f''' | jax.nn f | f' | f'' | f''' |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in scores:
        ours = [_ulps(e, TARGETS[k]) for k, e in enumerate(s.ours)]
        theirs = [_ulps(e, TARGETS[k]) for k, e in enumerate(s.theirs)] if s.theirs else ["—"] * 4
        rows.append(f"| {s.label} | {' | '.join(ours)} | {' | '.join(theirs)} |")
    return rows


def report(scores: list[Score], count: int, residuals: list[str], trades: list[str]) -> str:
    misses = [f"{s.label} at order {k}" for s in scores for k in s.misses()]
    short = [
        f"- {s.label}, order {k}: {_ulps(e)} ulps. "
        + CAUSES.get((s.label, k), "Cause not yet analysed.")
        for s in scores
        for k, e in enumerate(s.ours)
        if e > TARGETS[k]
    ]
    lines = [
        "# Accuracy",
        "",
        "Generated by `python -m codegen.tools.accuracy`. Do not edit.",
        "",
        "The largest error of each float32 function and of its first three derivatives,",
        "in float32 ulps of the true value (of 1e-30 where the true value is smaller).",
        "The truth is SymPy's exact derivative of the spec's formula evaluated by mpmath",
        f"at {DIGITS} digits. The grid holds {count} points of each sign log-spaced from",
        "1e-30 to 1e4, 0, every kink, and points at 0, 1e-4 and 1e-2 from each root of a",
        "derivative (where every closed form cancels), with their float32 neighbours,",
        f"inside the spec's domain; parameters take their defaults. JAX {jax.__version__}, on",
        "the CPU. A gated function is scored with its gates at 1: a row for f(x, 1) and",
        "its derivatives in x, and a row for each gate's partial and its derivatives in x.",
        "",
        f"Targets: {TARGETS[0]} ulps for f and f', {TARGETS[2]} for f'', {TARGETS[3]} for f''';",
        "never inf or NaN where the truth is finite. Bold marks a miss.",
        "",
        *table(scores),
        "",
        "## Short of the target",
        "",
        *(short or ["None."]),
        "",
        "## Short of the target and worse than jax.nn by more than an ulp",
        "",
        *([f"- {m}" for m in misses] or ["None."]),
        "",
        "## Traded for speed beside roots",
        "",
        "Beside a root of f or f', every closed form cancels; a Taylor polynomial about",
        "the root is accurate there, but costs two flops a term for every element, which",
        "made silu's gradient 1.5 times jax.nn's. A spec's `accuracy` (or `symjvp",
        "--accuracy`) chooses: `standard`, the default, keeps the polynomials only in f''",
        "and f''', which a training step does not evaluate; `strict` keeps them in every",
        f"order. The table above leaves out the points within {ROOT_REACH} of these roots at",
        "these orders; here is the error at 0, 1e-4 and 1e-2 from each root, in ulps of",
        "the true value, which is near 0 there.",
        "",
        "| function | order | roots | ours | jax.nn |",
        "|---|---|---|--:|--:|",
        *(trades or ["| none | | | | |"]),
        "",
        "## What the backward pass keeps",
        "",
        "Where dy/dx is a function of the output y, the first JVP rule can compute it from",
        "y, which the next layer keeps anyway: in a network that costs no extra memory.",
        "A spec's `residual` (or `symjvp --residual`) chooses; `auto` keeps y only where",
        "dy/dx from y is arithmetic and selects and within the order-1 target of f' in",
        "ulps of f''s largest magnitude within 1 of x. With `output`, these functions",
        "trade accuracy in the tails for memory by the amounts below, as the analysis",
        "scores them (NumPy, each transcendental taken as 1.5 ulps out); the second and",
        "third derivatives stay the closed-form kernels' either way.",
        "",
        *residuals,
        "",
        "## Cost of float32 for bfloat16 and float16",
        "",
        "bfloat16 and float16 inputs are computed in float32 and rounded once, so their",
        "error is that of float32 plus half an ulp of the narrow type; tests check that",
        "the result equals the float32 result rounded. The work added is a convert on",
        "the way in and one on the way out of each function, and the saved residual",
        "keeps the narrow type. Its time has not been measured yet: that belongs to the",
        "benchmark (issue 6).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen.tools.accuracy", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root")
    parser.add_argument("--points", type=int, default=200, help="points of each sign")
    parser.add_argument("--output", type=Path, help="default: ROOT/docs/accuracy.md")
    args = parser.parse_args(argv)
    import generated

    elementwise = [a for a in analyse(args.root) if isinstance(a, Activation)]
    scores = [s for a in elementwise for s in score(a, generated, args.points)]
    trades = [row for a in elementwise for row in traded(a, generated)]
    text = report(scores, args.points, residual_rows(elementwise), trades)
    print("\n".join(table(scores)))
    output = args.output or args.root / "docs" / "accuracy.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    misses = [m for s in scores for m in s.misses()]
    print(f"wrote {output}; {len(misses)} misses worse than jax.nn.")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
