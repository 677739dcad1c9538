"""Accuracy of the generated float32 functions against mpmath.

``python -m codegen.tools.accuracy`` scores every generated function and its first
three derivatives, and jax.nn's counterpart side by side, on a grid of both
signs log-spaced from 1e-30 to 1e4, plus 0 and each kink.  The error of a
result is ``|result - truth| / ulp(max(|truth|, 1e-30))`` in float32 ulps,
with the truth from SymPy's exact derivatives evaluated by mpmath at 50
digits.  It prints a table, writes docs/accuracy.md, and exits 1 if some
function misses its target while also being worse than jax.nn.
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
from codegen.build.pipeline import analyse
from codegen.numerics.evaluate import TARGETS, exact_values, ulp_errors
from codegen.numerics.primitives import offset
from codegen.tools.reference import forms, jax_nn_function
from codegen.tools.residuals import residual_rows

DIGITS = 50

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
        "x = -1.19, where its two terms cancel. A Taylor polynomial in x + 1.19 computes "
        "it for |x + 1.19| < 0.35; from -2.6 to -0.8 the result is still a few times "
        "smaller than the terms, so their own rounding counts for several ulps "
        "(jax.nn's relative error is unbounded near the zero)."
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


def kinks(activation: Activation) -> list[float]:
    """The points where some formula of ``activation`` switches branch."""
    x = activation.x
    defaults = {
        s: p.default for s, p in zip(activation.params, activation.spec.params, strict=True)
    }
    differences = []
    for formula in activation.formulas:
        expr = formula.source.subs(defaults)
        differences += [r.lhs - r.rhs for r in expr.atoms(sp.core.relational.Relational)]
        for minmax in expr.atoms(sp.Max, sp.Min):
            differences += [a - b for a in minmax.args for b in minmax.args if a != b]
    points = {float(root) for d in differences for root in sp.solve(d, x) if root.is_real}
    return sorted(points)


def roots(activation: Activation) -> list[float]:
    """float32 points beside each root where a derivative has a series regime:
    there every closed form cancels."""
    centres = {
        float(o.args[1])
        for formula in activation.formulas
        for derivative in formula.tower
        for o in sp.Add(*derivative.lowered).atoms(offset)
    }
    steps = (-1e-2, -1e-4, 0.0, 1e-4, 1e-2)
    points = [np.float32(c + step) for c in centres for step in steps]
    return sorted(float(p) for c in points for p in (np.nextafter(c, -np.inf), c))


def grid(activation: Activation, count: int) -> np.ndarray:
    """float32 points: ±logspace(-30, 4, count), 0, the kinks and the points
    beside the roots of the derivatives, inside the domain."""
    magnitudes = np.logspace(-30, 4, count)
    special = kinks(activation) + roots(activation)
    points = np.concatenate([-magnitudes, [0.0], magnitudes, special]).astype(np.float32)
    low, high = activation.spec.domain
    return np.unique(points[(points >= low) & (points <= high)])


def truth(
    activation: Activation, formula: int, points: np.ndarray, order: int, wrt: tuple = ()
) -> np.ndarray:
    """The exact ``order``-th derivative in x, of the partial in the symbols
    ``wrt`` if any, at ``points``, rounded to float64."""
    expr = sp.diff(activation.formulas[formula].source, *wrt, activation.x, order)
    return exact_values(expr.subs(activation.defaults), activation.x, points, DIGITS)


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
        """Orders that miss their target and are worse than jax.nn too."""
        return [
            k
            for k, error in enumerate(self.ours)
            if error > TARGETS[k] and (self.theirs is None or error > self.theirs[k])
        ]


def worst(function, points: np.ndarray, exact: list[np.ndarray]) -> tuple[float, ...]:
    """The largest error at each derivative order."""
    return tuple(
        float(ulp_errors(evaluate(function, points, k), truth_k).max(initial=0))
        for k, truth_k in enumerate(exact)
    )


def score(activation: Activation, generated, count: int = 120) -> list[Score]:
    """Scores of each formula of ``activation``, ours and jax.nn's."""
    points = grid(activation, count)
    spec = activation.spec
    ours, theirs = getattr(generated, spec.name), jax_nn_function(spec)
    gates = activation.gates
    scores = []
    for index, (label, flags) in enumerate(forms(activation)):
        # A gated function is scored at gates of 1, as f(x) and as each gate's partial.
        for argnum, wrt in enumerate([(), *((g,) for g in gates)]):
            exact = [truth(activation, index, points, k, wrt) for k in range(len(TARGETS))]
            name = f"{label}, d/d{wrt[0]}" if wrt else label
            mine = worst(_at_gates(ours, flags, len(gates), argnum), points, exact)
            if theirs is None:
                scores.append(Score(name, mine, None))
                continue
            reference = worst(_at_gates(theirs, flags, len(gates), argnum), points, exact)
            scores.append(Score(name, mine, reference))
    return scores


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


def report(scores: list[Score], count: int, residuals: list[str]) -> str:
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
        "## Short of the target and worse than jax.nn",
        "",
        *([f"- {m}" for m in misses] or ["None."]),
        "",
        "## What the backward pass keeps",
        "",
        "Where dy/dx is a function of the output y, the first JVP rule can compute it from",
        "y, which the next layer keeps anyway: in a network that costs no extra memory.",
        "A spec's `residual` (or `symjvp --residual`) chooses; `auto` keeps y only where",
        "dy/dx from y is arithmetic and selects and within the order-1 target of f' in",
        "ulps of f''s largest magnitude within 1 of x. With `output`, these functions",
        "trade accuracy in the tails for memory by the amounts below; the second and",
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
    text = report(scores, args.points, residual_rows(elementwise))
    print("\n".join(table(scores)))
    output = args.output or args.root / "docs" / "accuracy.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    misses = [m for s in scores for m in s.misses()]
    print(f"wrote {output}; {len(misses)} misses worse than jax.nn.")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
