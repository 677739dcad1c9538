"""The benchmark's smoke mode: it runs and reports what it measured."""

import re

import jax
import jax.numpy as jnp
import pytest

import generated
from codegen.tools.bench import _over_target, candidates, cost, loss, main, residuals, sample
from codegen.tools.bench_causes import CAUSES, EXTRA_WORK
from codegen.tools.memory import chain_memory, memory_section, mlp_memory
from conftest import ROOT


@pytest.mark.slow
def test_quick_benchmark_writes_a_report(tmp_path):
    output = tmp_path / "benchmarks.md"
    assert (
        main(
            [
                "--root",
                str(ROOT),
                "--quick",
                "--only",
                "sigmoid",
                "softmax",
                "--output",
                str(output),
            ]
        )
        == 0
    )
    text = output.read_text()
    times = text.split("## Summary")[0]
    rows = [line for line in times.splitlines() if line.startswith(("| sigmoid", "| softmax"))]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert all(re.fullmatch(r"\d+\.\d\d", c) for c in cells[2:8]), row  # six time ratios
        assert cells[-1].startswith("1 / ")  # one array kept by ours
    assert "import generated after jax" in text
    memory = text.split("## Memory of a training step")[1].split("## Training step of an MLP")[0]
    (row,) = [line for line in memory.splitlines() if line.startswith("| sigmoid")]
    assert all(len(cell.split(" / ")) == 3 for cell in row.strip("|").split("|")[1:])
    gaps, level = memory.split("### More than jax.nn, largest gap first")[1].split("### No less")
    gaps = gaps.strip().splitlines()
    assert gaps == ["None."] or all(re.match(r"- \w+, .*: [-+][\d.e-]+ MiB: ", g) for g in gaps)
    assert level.startswith(" than jax.nn, which keeps more than one array")
    network = text.split("## Training step of an MLP")[1]
    assert "| function | float32 vs jax.nn | float32 vs autodiff | bfloat16 vs jax.nn |" in network
    (row,) = [line for line in network.splitlines() if line.startswith("| sigmoid")]
    cells = row.strip("|").split("|")[1:]
    assert len(cells) == 3 and all(re.fullmatch(r"\d+\.\d\d", c.strip()) for c in cells)
    assert re.search(r"^bfloat16 vs jax.nn: geometric mean \d+\.\d\d\.", network, re.M)
    assert "## Training steps more than 1.10 times jax.nn's time" in text


def test_gradient_does_no_more_work_than_jax_nn(counterpart):
    found = candidates(counterpart, generated)
    x = sample(counterpart, 4096)
    ours, theirs = (
        cost(jax.grad(lambda x, f=found[k]: f(x).sum()), x) for k in ("generated", "jax.nn")
    )
    if counterpart.spec.name not in EXTRA_WORK:
        # Work done once a row is negligible: standardize's sqrt and rsqrt of V.
        per_row = 1 / x.shape[-1] if counterpart.spec.axis else 0.0
        assert ours["transcendentals"] <= theirs["transcendentals"] + per_row
    assert residuals(found["generated"], x) <= residuals(found["jax.nn"], x)
    if counterpart.spec.axis is None:
        assert residuals(found["generated"], x) <= 1


def test_a_training_step_moves_no_more_bytes_than_jax_nn(counterpart):
    # sparse_sigmoid as clip(x + 1, 0, 2)/2 moved 36 bytes an element to
    # jax.nn's 28: XLA's CPU made the halving after the clip an array of its own.
    if counterpart.spec.name in EXTRA_WORK:
        pytest.skip("its extra work, which EXTRA_WORK explains, reads the input again")
    found = candidates(counterpart, generated)
    x = sample(counterpart, 4096)
    ours, theirs = (cost(jax.value_and_grad(loss(found[k], x)), x) for k in ("generated", "jax.nn"))
    assert ours["bytes"] <= theirs["bytes"] + 64 / x.size  # a few scalars more at most


def test_a_chain_of_the_function_plans_no_more_memory_than_jax_nn(counterpart):
    # A derivative kernel runs beside the function in the forward pass; what
    # XLA merges of the two it keeps as more arrays (squareplus planned 176
    # KiB to jax.nn's 128 before its kernels were computed apart).
    if counterpart.spec.axis is not None:
        pytest.skip("an axis-wise function's rule reuses its output")
    found = candidates(counterpart, generated)
    ours, theirs = (chain_memory(found[k], jnp.float32, 4, 4096) for k in ("generated", "jax.nn"))
    assert ours <= theirs


def test_functions_that_round_nowhere_compute_bfloat16_as_it_is(catalogue):
    # Widened to float32, hard_tanh's bfloat16 MLP planned 70 MiB to jax.nn's 58.
    exact = sorted(name for name, a in catalogue.items() if getattr(a, "rounds_nowhere", False))
    assert exact == ["hard_tanh", "identity", "relu", "relu6"]
    for name in exact:
        assert not catalogue[name].widens
        acts = getattr(generated, name), getattr(jax.nn, name)
        ours, theirs = (mlp_memory(f, jnp.bfloat16, 4, 64, 512) for f in acts)
        assert ours <= theirs, name


def test_a_step_over_the_target_twice_is_explained_and_once_is_called_noise():
    lines = _over_target({("sigmoid", 65536): (1.5, 1.4), ("relu", 4096): (1.2, 1.0)})
    assert lines[1] == "## Training steps more than 1.10 times jax.nn's time"
    assert lines[3] == "- relu at 4096 (1.20, then 1.00 in more pairs): within it: noise."
    assert lines[4] == f"- sigmoid at 65536 (1.50, then 1.40 in more pairs): {CAUSES['sigmoid']}"
    assert _over_target({})[-1] == "None."


def test_memory_no_less_than_jax_nn_where_it_keeps_more_arrays_is_listed_with_its_cause():
    twins = {"twin": {"generated": jnp.tanh, "jax.nn": jnp.tanh, "autodiff": jnp.tanh}}
    lines = memory_section(twins, quick=True, kept={"twin": 2}, level_causes={"twin": "same."})
    assert lines[-1] == "- twin, MLP f32, MLP bf16, chain f32: same."
    assert memory_section(twins, quick=True, kept={"twin": 1})[-1] == "None."
