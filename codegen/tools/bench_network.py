"""The benchmark's training step in a network's shape.

A 1-D array dotted with a cotangent times the activation beside XLA's
fusion of that dot; in a network the activation sits between matmuls, and
a training step differentiates in the weights.  This times
``value_and_grad`` of the same MLP whose memory memory.py plans: 8 dense
256 layers, each followed by the activation, on a batch of 4096.
"""

import jax
import jax.numpy as jnp

from codegen.tools.memory import mlp_step
from codegen.tools.timing import geomean, paired_ratio


def network_section(
    found: dict, quick: bool, gated, repeats: int, target: float, causes: dict[str, str]
) -> list[str]:
    """Markdown: each element-wise activation's MLP training-step time as a
    ratio to jax.nn's and to autodiff's, then those over ``target`` with
    their ``causes``."""
    layers, width, batch = (2, 32, 64) if quick else (8, 256, 4096)
    lines = [
        "## Training step of an MLP",
        "",
        f"`value_and_grad` of {layers} dense {width} layers, each followed by the activation,",
        f"on a batch of {batch} in float32, in the weights: median of {repeats}",
        "interleaved pairwise time ratios. A gated function's layers are twice as wide,",
        "x and the gate side by side.",
        "",
        "| function | step vs jax.nn | step vs autodiff |",
        "|---|--:|--:|",
    ]
    ratios: dict[str, dict[str, float]] = {}
    for name, candidates in found.items():
        step, weights, inputs = mlp_step(
            candidates["generated"], jnp.float32, layers, width, batch, name in gated
        )
        ours = jax.jit(lambda h, step=step, weights=weights: step(weights, h))
        cells = []
        for baseline in ("jax.nn", "autodiff"):
            if baseline not in candidates:
                cells.append("—")
                continue
            theirs_step = mlp_step(
                candidates[baseline], jnp.float32, layers, width, batch, name in gated
            )[0]
            theirs = jax.jit(lambda h, step=theirs_step, weights=weights: step(weights, h))
            ratio = paired_ratio(ours, theirs, inputs, repeats)
            ratios.setdefault(baseline, {})[name] = ratio
            cells.append(f"{ratio:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    versus = ratios.get("jax.nn", {})
    over = [(n, r) for n, r in sorted(versus.items(), key=lambda i: -i[1]) if r > target]
    summary = f"Geometric mean vs jax.nn: {geomean(versus.values()):.2f}. Over {target:.2f}:"
    return [
        *lines,
        "",
        summary + ("" if over else " none."),
        *(f"- {n} ({r:.2f}): {causes.get(n, 'not analysed yet.')}" for n, r in over),
    ]
