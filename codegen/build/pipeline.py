"""The whole pipeline: a project's specs -> the text of every file of its package."""

import dataclasses
import functools
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from codegen.analysis.budget import SECONDS, OverBudget, budget, current, stage
from codegen.analysis.model import Activation, AxisActivation
from codegen.build import cache
from codegen.build.kinds import kind
from codegen.build.layout import Layout, as_layout
from codegen.build.stamp import stamp
from codegen.emit.flax import emit_flax
from codegen.emit.format import format_source
from codegen.emit.package import emit_init, emit_support
from codegen.emit.towers import links
from codegen.spec.load import Spec, SpecError, load_spec


def analyse_spec(spec: Spec) -> Activation | AxisActivation:
    """The analysis model of ``spec``: elementwise, or axis-wise."""
    return kind(spec).analyse(spec)


def build_one(
    spec: Spec, seconds: float | None = SECONDS, debug: bool = False, package: str = "generated"
) -> tuple[Activation | AxisActivation, str]:
    """The analysis model of ``spec`` and its module's text, within ``seconds``.

    Any failure becomes a :class:`SpecError` naming the spec and the stage,
    unless ``debug``, which lets the original exception through.  ``package``
    is the import name the docstring examples use.
    """
    try:
        with budget(seconds):
            activation = analyse_spec(spec)
            stage("emit")
            text = kind(spec).emit(activation, package, ())
            stage("format")
            return activation, format_source(text, f"{package}._{spec.name}")
    except SpecError:
        raise
    except OverBudget as error:
        raise SpecError(
            spec.path,
            "expression",
            f"could not be analysed within {seconds:g} s (stopped in the {error.stage} stage):"
            " simplify the formula, or lower closed_form_order",
        ) from None
    except Exception as error:
        if debug:
            raise
        raise SpecError(
            spec.path,
            "expression",
            f"could not be generated ({type(error).__name__} in the {current()} stage: "
            f"{str(error)[:200]}); rerun with --debug for the traceback",
        ) from None


def _build_all(specs: list[Spec], seconds: float | None, debug: bool, package: str):
    """Build ``specs`` in parallel, yielding results in order."""
    if not specs:
        return
    workers = max(1, min(len(specs), os.cpu_count() or 1))
    # Forking is fast, but not safe once JAX has started its threads.
    context = multiprocessing.get_context("spawn" if "jax" in sys.modules else "fork")
    work = functools.partial(build_one, seconds=seconds, debug=debug, package=package)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(work, specs)


def module_path(activation: Activation | AxisActivation, layout: Layout) -> str:
    return layout.file(f"_{activation.spec.name}.py")


def build(
    project: Layout | Path,
    progress: Callable[[Activation], None] = lambda a: None,
    cached: bool = True,
    seconds: float | None = SECONDS,
    debug: bool = False,
    residual: str | None = None,
    accuracy: str | None = None,
) -> tuple[list[Activation | AxisActivation], dict[str, str]]:
    """Every spec analysed, and every generated file by its path from the root.

    A spec unchanged since the last build comes from the cache, unless not
    ``cached``, which neither reads nor writes the cache.  The others
    are built in parallel, a process per core: SymPy is nearly all of the
    generator's time, and each spec is independent of the others.  The first
    bad spec raises :class:`SpecError`, as does one whose analysis takes
    more than ``seconds``.  ``residual`` replaces "auto" in every spec, and
    ``accuracy`` replaces "standard".
    """
    layout = as_layout(project)
    specs = checked_specs(layout, residual, accuracy)
    keys = {s.path: cache.key(s, layout.package) for s in specs}
    results = {s.path: cache.load(keys[s.path]) for s in specs} if cached else {}
    for result in results.values():
        if result is not None:
            progress(result[0])
    missing = [s for s in specs if results.get(s.path) is None]
    for spec, result in zip(
        missing, _build_all(missing, seconds, debug, layout.package), strict=True
    ):
        progress(result[0])
        results[spec.path] = result
    if cached:
        cache.store({keys[s.path]: results[s.path] for s in specs})
    activations = [results[s.path][0] for s in specs]
    files = {module_path(a, layout): results[a.spec.path][1] for a in activations}
    for a in activations:  # a gate's partial that another module computes: call it
        if isinstance(a, Activation) and links(a, activations):
            path = module_path(a, layout)
            files[path] = format_source(kind(a.spec).emit(a, layout.package, activations), path)
    activations.sort(key=lambda a: a.spec.name)
    shared = {
        layout.file("__init__.py"): emit_init(activations, layout.specs_name),
        layout.file("_support.py"): emit_support(),
    }
    for api in ("linen", "nnx"):  # Flax modules, for specs with learnable parameters
        text = emit_flax(activations, api, layout.specs_name, layout.package)
        if text is not None:
            shared[layout.file(f"{api}.py")] = text
    for path, text in shared.items():
        files[path] = format_source(text, path)
    return activations, {path: stamp(text) for path, text in sorted(files.items())}


def load_specs(
    layout: Layout, residual: str | None = None, accuracy: str | None = None
) -> list[Spec]:
    """The project's specs, with ``residual`` for those that leave it at
    auto, and ``accuracy`` for those that leave it at standard."""
    specs = [load_spec(path, layout.root) for path in layout.spec_paths()]
    if residual not in (None, "auto"):
        specs = [
            dataclasses.replace(s, residual=residual) if s.residual == "auto" and not s.axis else s
            for s in specs
        ]
    if accuracy not in (None, "standard"):
        specs = [dataclasses.replace(s, accuracy=accuracy) for s in specs]
    return specs


def checked_specs(
    layout: Layout, residual: str | None = None, accuracy: str | None = None
) -> list[Spec]:
    """The project's specs, as :func:`load_specs` gives them, with the cheap
    checks done: formulas parsed, names free.  The first bad spec raises
    :class:`SpecError`; nothing is derived."""
    specs = load_specs(layout, residual, accuracy)
    exported: dict[str, str] = {}
    for spec in specs:
        kind(spec).check(spec)
        _check_exports(spec, exported)
    return specs


def build_file(layout: Layout, path: Path) -> tuple[Activation | AxisActivation, str]:
    """One spec file of ``layout`` analysed and its module emitted, from the
    cache where it can be: ``symjvp show`` needs one, not a whole build."""
    spec = load_spec(path, layout.root)
    if len(spec.inputs) > 1:  # its gate's partial can call another spec's kernels
        activations, files = build(layout)
        (activation,) = [a for a in activations if a.spec.path == spec.path]
        return activation, files[module_path(activation, layout)]
    key = cache.key(spec, layout.package)
    found = cache.load(key)
    if found is None:
        found = build_one(spec, package=layout.package)
        cache.store({key: found})
    return found


def analyse(project: Layout | Path) -> list[Activation | AxisActivation]:
    """Every spec analysed, in name order: a build, from the cache where it can be."""
    return build(project)[0]


def _check_exports(spec, exported: dict[str, str]) -> None:
    """Refuse a name or alias that an earlier spec already exports."""
    for field, name in [("name", spec.name), *(("aliases", a) for a in spec.aliases)]:
        if name in exported:
            raise SpecError(spec.path, field, f"{name!r} is already exported by {exported[name]}")
        exported[name] = spec.path
