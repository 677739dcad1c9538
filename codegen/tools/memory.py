"""What XLA plans and JAX keeps: cost analysis, saved residuals, and the
benchmark's memory section.

One kept array is not the same as less memory: in a network the next
layer keeps the activation's output anyway.  So this measures XLA's own
plan, ``memory_analysis().temp_size_in_bytes`` of the compiled
``value_and_grad``, in two shapes: an MLP (dense, then the activation, 8
times) and a chain of the activation alone.  Planned sizes are
deterministic: no timing, no noise.
"""

import contextlib
import io
import math
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Set
from types import MappingProxyType

import jax
import jax.numpy as jnp
from jax.ad_checkpoint import print_saved_residuals

MIB = 2**20


def cost(function, x) -> dict[str, float]:
    analysis = jax.jit(function).lower(x).compile().cost_analysis()
    analysis = analysis[0] if isinstance(analysis, list) else analysis or {}
    keys = {"flops": "flops", "transcendentals": "transcendentals", "bytes": "bytes accessed"}
    # XLA leaves out the counts that are zero.
    return {k: float(analysis.get(v, 0.0)) / x.size for k, v in keys.items()}


def residuals(function, x, *gates) -> int:
    """How many arrays of at least half x's size the backward pass keeps (glu's
    are half), differentiating in x and in each gate."""
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        print_saved_residuals(lambda *args: function(*args).sum(), x, *gates)
    sizes = [
        math.prod(int(n) for n in re.findall(r"\d+", line.split("]")[0].split("[")[1]))
        for line in report.getvalue().splitlines()
        if "[" in line.split(" ")[0]
    ]
    return sum(size >= x.size // 2 for size in sizes)


def mlp_step(
    act: Callable, dtype, layers: int, width: int, batch: int, gated: bool = False
) -> tuple[Callable, list, jax.Array]:
    """``value_and_grad`` in the weights of dense -> act, ``layers`` times,
    with the weights and the input to call it with.

    A ``gated`` act takes twice its output's width, x and the gate side by
    side, as a transformer's gated hidden layer does.
    """
    key = jax.random.key(0)
    shape = (width, 2 * width if gated else width)
    weights = [
        (jax.random.normal(jax.random.fold_in(key, i), shape) / width**0.5).astype(dtype)
        for i in range(layers)
    ]

    def loss(weights, h):
        for w in weights:
            h = act(h @ w)
        return h.astype(jnp.float32).sum()

    return jax.value_and_grad(loss), weights, jnp.ones((batch, width), dtype)


def mlp_memory(
    act: Callable, dtype, layers: int, width: int, batch: int, gated: bool = False
) -> float:
    """MiB of temp memory for :func:`mlp_step`."""
    return _planned(*mlp_step(act, dtype, layers, width, batch, gated))


def chain_memory(act: Callable, dtype, layers: int, size: int) -> float:
    """MiB of temp memory for value_and_grad of act applied ``layers`` times."""

    def loss(h):
        for _ in range(layers):
            h = act(h)
        return h.astype(jnp.float32).sum()

    return _planned(jax.value_and_grad(loss), jnp.full((size,), 0.5, dtype))


def _planned(function, *args) -> float:
    planned = jax.jit(function).lower(*args).compile().memory_analysis()
    assert planned is not None, "XLA's CPU and GPU backends report memory"
    return planned.temp_size_in_bytes / MIB


def memory_section(
    found: dict[str, dict[str, Callable]],
    quick: bool,
    gated: Set[str] = frozenset(),
    causes: Mapping[str, str] = MappingProxyType({}),
    kept: Mapping[str, int] = MappingProxyType({}),
    level_causes: Mapping[str, str] = MappingProxyType({}),
) -> list[str]:
    """Markdown: a row per element-wise activation, then the functions that
    plan more than jax.nn, largest gap first, then those that plan no less
    where jax.nn keeps more than one array (``kept`` counts them, by name).
    ``found`` maps a name to its candidates (generated, jax.nn, autodiff);
    those in ``gated`` take x and the gate as the halves of one array, and
    have no chain: their output is half their input.  ``causes`` and
    ``level_causes`` say why, by name, where it is known."""
    layers, width, batch, size = (2, 32, 64, 2**10) if quick else (8, 256, 4096, 2**22)
    shapes = [
        ("MLP f32", lambda f, g: mlp_memory(f, jnp.float32, layers, width, batch, g)),
        ("MLP bf16", lambda f, g: mlp_memory(f, jnp.bfloat16, layers, width, batch, g)),
        ("chain f32", lambda f, g: None if g else chain_memory(f, jnp.float32, layers, size)),
    ]
    lines = [
        "## Memory of a training step",
        "",
        f"XLA's planned temp memory (MiB) for `value_and_grad`: an MLP of {layers} dense",
        f"{width} layers, each followed by the activation, on a batch of {batch}, in float32",
        f"and bfloat16; and a chain of the activation alone, {layers} times over {size}",
        "float32 elements. Cells are ours / jax.nn / plain autodiff. A gated function's",
        f"dense layers are {width} by {2 * width}: x and the gate side by side.",
        "",
        "| function | " + " | ".join(name for name, _ in shapes) + " |",
        "|---|" + "--:|" * len(shapes),
    ]
    gaps, level = [], defaultdict(list)  # level: name -> shapes where ours = jax.nn's
    for name, candidates in found.items():
        cells = []
        for shape, measure in shapes:
            planned = {k: measure(f, name in gated) for k, f in candidates.items()}
            if planned["generated"] is None:
                cells.append("—")
                continue
            cells.append(
                " / ".join(_mib(planned.get(k)) for k in ("generated", "jax.nn", "autodiff"))
            )
            ours, theirs = planned["generated"], planned.get("jax.nn")
            if theirs is not None and ours > theirs:
                gaps.append((ours - theirs, name, shape))
            elif theirs is not None and ours == theirs and kept.get(name, 0) > 1:
                level[name].append(shape)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "### More than jax.nn, largest gap first", ""]
    lines += [
        f"- {name}, {shape}: {gap:+.3g} MiB: {causes.get(name, 'not analysed yet.')}"
        for gap, name, shape in sorted(gaps)[::-1]
    ]
    lines += [] if gaps else ["None."]
    lines += ["", "### No less than jax.nn, which keeps more than one array", ""]
    lines += [
        f"- {name}, {', '.join(shapes)}: {level_causes.get(name, 'not analysed yet.')}"
        for name, shapes in level.items()
    ]
    return lines + ([] if level else ["None."])


def _mib(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.2g}"
