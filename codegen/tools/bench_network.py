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

# (column, dtype, baseline): float32 against both baselines, bfloat16 against jax.nn.
_COLUMNS = (
    ("float32 vs jax.nn", jnp.float32, "jax.nn"),
    ("float32 vs autodiff", jnp.float32, "autodiff"),
    ("bfloat16 vs jax.nn", jnp.bfloat16, "jax.nn"),
)


def network_section(
    found: dict, quick: bool, gated, repeats: int, target: float, causes: dict[str, str]
) -> list[str]:
    """Markdown: each element-wise activation's MLP training-step time as a
    ratio to jax.nn's and to autodiff's, in float32 and bfloat16, then those
    over ``target`` against jax.nn with their ``causes``."""
    shape = (2, 32, 64) if quick else (8, 256, 4096)
    layers, width, batch = shape
    lines = [
        "## Training step of an MLP",
        "",
        f"`value_and_grad` of {layers} dense {width} layers, each followed by the activation,",
        f"on a batch of {batch}, in the weights: median of {repeats} interleaved pairwise",
        "time ratios. A gated function's layers are twice as wide, x and the gate side by",
        "side. In bfloat16 the weights and the input are bfloat16.",
        "",
        "| function | " + " | ".join(column for column, _, _ in _COLUMNS) + " |",
        "|---|" + "--:|" * len(_COLUMNS),
    ]
    ratios: dict[str, dict[str, float]] = {column: {} for column, _, _ in _COLUMNS}
    for name, candidates in found.items():
        cells = []
        for column, dtype, baseline in _COLUMNS:
            if baseline not in candidates:
                cells.append("—")
                continue
            ratio = _step_ratio(candidates, baseline, dtype, shape, name in gated, repeats)
            ratios[column][name] = ratio
            cells.append(f"{ratio:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for column in ("float32 vs jax.nn", "bfloat16 vs jax.nn"):
        versus = ratios[column]
        over = [(n, r) for n, r in sorted(versus.items(), key=lambda i: -i[1]) if r > target]
        summary = f"{column}: geometric mean {geomean(versus.values()):.2f}. Over {target:.2f}:"
        lines += ["", summary + ("" if over else " none.")]
        lines += [f"- {n} ({r:.2f}): {causes.get(n, 'not analysed yet.')}" for n, r in over]
    return lines


def _step_ratio(
    candidates, baseline: str, dtype, shape: tuple[int, int, int], gated: bool, repeats: int
) -> float:
    """The median ratio of the generated function's MLP step time to ``baseline``'s."""
    steps = [mlp_step(candidates[k], dtype, *shape, gated) for k in ("generated", baseline)]
    weights, inputs = steps[0][1], steps[0][2]
    ours, theirs = (jax.jit(lambda h, step=step: step(weights, h)) for step, _, _ in steps)
    return paired_ratio(ours, theirs, inputs, repeats)
