"""Benchmark the generated functions against jax.nn and plain autodiff.

``python -m codegen.tools.bench`` times, for every activation, the jitted forward
pass and ``jax.jit(jax.grad(loss))`` of the generated
function, of jax.nn's (where it has one) and of JAX autodiff of the same
formula with no custom rule. Candidates run interleaved, A B A B, and the
report gives the median of the pairwise time ratios: single timings on a
shared machine are noisy. It also reports XLA's cost analysis of each
compiled gradient and the arrays saved for the backward pass, and writes
docs/benchmarks.md. ``--quick`` is the smoke mode that CI runs.
"""

import argparse
import math
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from codegen.analysis.model import Activation
from codegen.build.pipeline import analyse
from codegen.tools import plots
from codegen.tools.bench_causes import CAUSES, EXTRA_WORK, LEVEL_CAUSES, MEMORY_CAUSES
from codegen.tools.bench_network import network_section
from codegen.tools.build_times import generator_times
from codegen.tools.memory import cost, memory_section, residuals
from codegen.tools.reference import jax_nn_function, packed, plain_axis_function, plain_function
from codegen.tools.timing import geomean, paired_ratio

_LIMIT = 1.25  # the most grad time, as a ratio to jax.nn's, allowed to any activation
_TARGET = 1.10  # the most training-step time, as a ratio to jax.nn's, aimed at (issue 15)


@dataclass(frozen=True)
class Row:
    """One activation at one size: ratios to jax.nn and autodiff, and costs."""

    name: str
    size: int
    forward: dict[str, float]  # median time ratio, ours / theirs, by baseline
    backward: dict[str, float]
    step: dict[str, float]  # value and gradient together, as a training step takes them
    costs: dict[str, dict[str, float]]  # by candidate: flops, transcendentals, bytes
    residuals: dict[str, int]  # by candidate: saved arrays of the input's size


def candidates(activation, generated) -> dict[str, Callable]:
    """The functions to compare: ours first, then the baselines that exist."""
    spec = activation.spec
    found = {"generated": getattr(generated, spec.name)}
    theirs = jax_nn_function(spec)
    if theirs is not None:
        found["jax.nn"] = theirs
    plain = plain_function if isinstance(activation, Activation) else plain_axis_function
    found["autodiff"] = plain(activation)
    if len(spec.inputs) > 1:  # x and the gates are the halves of one input
        return {name: packed(f, len(spec.inputs)) for name, f in found.items()}
    return found


def sample(activation, size: int) -> jax.Array:
    """float32 inputs inside the spec's domain; rows of 128 for axis-wise specs."""
    x = np.random.default_rng(0).normal(0.0, 3.0, size).astype(np.float32)
    low = getattr(activation.spec, "domain", (-np.inf, np.inf))[0]
    if np.isfinite(low):
        x = (low + np.abs(x) + 1e-3).astype(np.float32)
    return jnp.asarray(x.reshape(-1, 128) if activation.spec.axis else x)


def loss(f: Callable, x: jax.Array) -> Callable:
    """``f``'s output dotted with a dense cotangent, as a next layer gives.
    With ``f(x).sum()``'s ones, XLA's CPU reduce fusion built the ones as an
    array for a custom JVP: silu's step was 1.8 times jax.nn's, not 1.4."""
    w = jax.random.normal(jax.random.key(1), jax.eval_shape(f, x).shape, jnp.float32)
    return lambda x: jnp.vdot(f(x), w)


def measure(activation, generated, size: int, repeats: int) -> Row:
    found = candidates(activation, generated)
    x = sample(activation, size)
    forward = {name: jax.jit(f) for name, f in found.items()}
    losses = {name: loss(f, x) for name, f in found.items()}
    backward = {name: jax.jit(jax.grad(f)) for name, f in losses.items()}
    step = {name: jax.jit(jax.value_and_grad(f)) for name, f in losses.items()}
    ours = "generated"

    def ratios(timed):
        return {n: paired_ratio(timed[ours], f, x, repeats) for n, f in timed.items() if n != ours}

    return Row(
        name=activation.spec.name,
        size=size,
        forward=ratios(forward),
        backward=ratios(backward),
        step=ratios(step),
        costs={n: cost(jax.grad(f), x) for n, f in losses.items()},
        residuals={n: residuals(f, x) for n, f in found.items()},
    )


def _ratio(ratios: dict[str, float], baseline: str) -> str:
    return f"{ratios[baseline]:.2f}" if baseline in ratios else "—"


def confirm(rows: list[Row], activations, generated, repeats: int) -> dict[tuple, tuple]:
    """(first, second) step ratio to jax.nn, by (name, size), for each
    activation over the target at a size: the second of ``repeats`` more
    pairs, so that a miss the report explains is not one noisy run."""
    over = {(r.name, r.size): r.step.get("jax.nn", 0.0) for r in rows}
    over = {key: ratio for key, ratio in over.items() if ratio > _TARGET}
    found = {a.spec.name: a for a in activations}
    again = {}
    for name, size in over:
        pair = candidates(found[name], generated)
        x = sample(found[name], size)
        ours, theirs = (
            jax.jit(jax.value_and_grad(loss(pair[k], x))) for k in ("generated", "jax.nn")
        )
        again[name, size] = (over[name, size], paired_ratio(ours, theirs, x, repeats))
    return again


def report(
    rows: list[Row], times: dict[str, float], sizes, repeats: int, confirmed: dict[tuple, tuple]
) -> str:
    cpu = f"{platform.machine()} {platform.processor() or ''}".strip()
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python -m codegen.tools.bench`. Do not edit.",
        "",
        f"JAX {jax.__version__} on {jax.default_backend()}, {cpu}, "
        f"{os.cpu_count()} cores; float32 inputs of {', '.join(map(str, sizes))} elements.",
        f"Times are medians of {repeats} interleaved pairwise ratios, generated / baseline:",
        "below 1 means the generated function is faster. `fwd` is the jitted function,",
        "`grad` is `jit(grad(lambda x: jnp.vdot(f(x), w)))` for a fixed random w, a dense",
        "cotangent as a next layer gives; `step` is the value and the gradient",
        "together (`value_and_grad`), as a training step takes them. Costs are XLA's",
        "cost analysis of that gradient per element; `kept` is how many arrays of at least",
        "half the input's size the backward pass saves. A gated function's input is split",
        "in halves along its last axis, x and the gate, as jax.nn.glu's is; its baseline",
        "is `jax.nn.silu(x) * gate` and the like.",
        "",
        "| function | size | fwd vs jax.nn | grad vs jax.nn | step vs jax.nn | fwd vs autodiff "
        "| grad vs autodiff | step vs autodiff | transcendentals ours / jax.nn "
        "| kept ours / jax.nn / autodiff |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        kept = " / ".join(str(r.residuals.get(k, "—")) for k in ("generated", "jax.nn", "autodiff"))
        ours_t = r.costs["generated"]["transcendentals"]
        theirs_t = r.costs.get("jax.nn", {}).get("transcendentals")
        work = f"{ours_t:.1f} / {theirs_t:.1f}" if theirs_t is not None else f"{ours_t:.1f} / —"
        timed = (r.forward, r.backward, r.step)
        ratios = [_ratio(d, k) for k in ("jax.nn", "autodiff") for d in timed]
        lines.append(f"| {r.name} | {r.size} | {' | '.join(ratios)} | {work} | {kept} |")
    paired = [r.backward["jax.nn"] for r in rows if "jax.nn" in r.backward]
    lines += [
        "",
        "## Summary",
        "",
        f"- grad vs jax.nn: geometric mean {geomean(paired):.2f}, "
        f"largest {max(paired, default=math.nan):.2f}.",
        f"- step vs jax.nn: geometric mean "
        f"{geomean(r.step['jax.nn'] for r in rows if 'jax.nn' in r.step):.2f}.",
        f"- grad vs autodiff: geometric mean {geomean(r.backward['autodiff'] for r in rows):.2f}.",
        "- Arrays kept for the backward pass, ours: "
        + ", ".join(sorted({f"{r.residuals['generated']}" for r in rows}))
        + ".",
        *(f"- {name}: {seconds:.2f} s" for name, seconds in times.items()),
        *_slower(rows),
        *_over_target(confirmed),
        *_ranking(rows),
        "",
        "## More transcendentals than jax.nn",
        "",
        *(f"- {name}: {why}." for name, why in EXTRA_WORK.items()),
    ]
    return "\n".join(lines) + "\n"


def _ranking(rows: list[Row]) -> list[str]:
    """Every activation with a jax.nn counterpart, by its worst time ratio to it
    (gradient or training step, at any size), largest first."""
    ranked = sorted(_worst(rows, "backward", "step").items(), key=lambda item: -item[1])
    return ["", "## By gap to jax.nn's time", "", ", ".join(f"{n} {v:.2f}" for n, v in ranked)]


def _worst(rows: list[Row], *timings: str) -> dict[str, float]:
    """Each activation's largest ratio to jax.nn among ``timings``, at any size."""
    worst: dict[str, float] = {}
    for r in rows:
        for ratios in (getattr(r, t) for t in timings):
            if "jax.nn" in ratios:
                worst[r.name] = max(worst.get(r.name, 0.0), ratios["jax.nn"])
    return worst


def _slower(rows: list[Row]) -> list[str]:
    """Each activation whose grad is above the limit at some size, with its cause."""
    slower = {name: ratio for name, ratio in _worst(rows, "backward").items() if ratio > _LIMIT}
    lines = ["", f"## Gradients more than {_LIMIT} times jax.nn's time", ""]
    if not slower:
        return [*lines, "None."]
    return lines + [
        f"- {name} ({ratio:.2f}): {CAUSES.get(name, 'not analysed yet; may be noise.')}"
        for name, ratio in slower.items()
    ]


def _over_target(confirmed: dict[tuple, tuple]) -> list[str]:
    """The training steps over the target, each measured twice, with its cause
    where the second measurement is over it too."""
    lines = ["", f"## Training steps more than {_TARGET:.2f} times jax.nn's time", ""]
    if not confirmed:
        return [*lines, "None."]
    for (name, size), (first, second) in sorted(confirmed.items()):
        why = CAUSES.get(name, "not analysed yet.") if second > _TARGET else "within it: noise."
        lines.append(f"- {name} at {size} ({first:.2f}, then {second:.2f} in more pairs): {why}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen.tools.bench", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root")
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--only", nargs="*", help="activations to measure (default: all)")
    parser.add_argument("--output", type=Path, help="default: ROOT/docs/benchmarks.md")
    args = parser.parse_args(argv)
    import generated

    sizes, repeats = ((2**10,), 3) if args.quick else ((2**16, 2**22), 15)
    activations = [a for a in analyse(args.root) if not args.only or a.spec.name in args.only]
    rows = [measure(a, generated, n, repeats) for a in activations for n in sizes]
    confirmed = confirm(rows, activations, generated, 2 * repeats + 1)
    text = report(rows, generator_times(args.root, args.quick), sizes, repeats, confirmed)
    elementwise = {a.spec.name: candidates(a, generated) for a in activations if not a.spec.axis}
    gated = {a.spec.name for a in activations if len(a.spec.inputs) > 1}
    kept = {r.name: r.residuals["jax.nn"] for r in rows if "jax.nn" in r.residuals}
    memory = memory_section(elementwise, args.quick, gated, MEMORY_CAUSES, kept, LEVEL_CAUSES)
    text += "\n" + "\n".join(memory) + "\n"
    network = network_section(elementwise, args.quick, gated, repeats, _TARGET, CAUSES)
    text += "\n" + "\n".join(network) + "\n"
    output = args.output or args.root / "docs" / "benchmarks.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    if plots.write_ratios(rows, output.with_suffix(".png")):
        text += f"\n![grad time ratios]({output.with_suffix('.png').name})\n"
    print(text)
    output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
