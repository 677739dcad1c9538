"""Activations built in memory, for a notebook or a test.

``codegen.activation("x*tanh(softplus(x))")`` analyses the formula as a
spec file would be, emits the same module a build writes, and imports it
from memory: the result is the same custom_jvp function, with the same
derivative tower and accuracy.  Nothing is written to disk.
"""

import functools
import itertools
import sys
import types
from collections.abc import Callable, Iterable

from codegen.analysis.budget import SECONDS
from codegen.build.pipeline import build_one
from codegen.emit.flax import emit_flax
from codegen.emit.package import emit_support
from codegen.spec.load import read_spec
from codegen.spec.model import CLOSED_FORM_ORDER

_ROOT = "codegen._built"  # the in-memory packages live under it, one per activation
_COUNTER = itertools.count()


def activation(
    expression: str,
    *,
    name: str = "activation",
    inputs: Iterable[str] = ("x",),
    learnable: Iterable[str] = (),
    domain: tuple[float, float] | None = None,
    residual: str = "auto",
    accuracy: str = "standard",
    closed_form_order: int = CLOSED_FORM_ORDER,
    seconds: float | None = SECONDS,
    **params: float,
) -> Callable:
    """The generated function for ``expression`` in ``x`` and ``params``.

    Each keyword parameter is a parameter of the formula with its default,
    in signature order.  ``inputs`` names the array arguments, x first, as
    the spec field does: ``inputs=("x", "gate")``.  ``residual`` is the spec
    field of that name: what the backward pass keeps (auto, output or derivative);
    ``accuracy`` too (standard or strict), and ``closed_form_order``, how many
    derivatives are closed forms of their own (fewer build faster).  With
    ``learnable`` (names among ``params``) the function also carries the
    Flax module classes that learn them, as ``.linen`` and ``.nnx`` (this
    needs Flax: ``pip install 'symjvp[flax]'``).  Raises
    :class:`~codegen.spec.load.SpecError` for a bad formula, or one that takes
    more than ``seconds`` to analyse.  Cached by its arguments.
    """
    bounds = None if domain is None else tuple(float(b) for b in domain)
    options = (
        tuple(inputs),
        tuple(learnable),
        bounds,
        residual,
        accuracy,
        closed_form_order,
        seconds,
    )
    return _built(expression, name, *options, tuple(params.items()))


@functools.cache
def _built(
    expression: str,
    name: str,
    inputs,
    learnable,
    domain,
    residual,
    accuracy,
    order,
    seconds,
    params,
) -> Callable:
    data = {
        "summary": f"The {name} activation function.",
        "expression": expression,
        "inputs": list(inputs),
        "residual": residual,
        "accuracy": accuracy,
        "closed_form_order": order,
        "params": {p: {"default": v, "learnable": p in learnable} for p, v in params},
    }
    if domain is not None:
        data["domain"] = list(domain)
    unknown = sorted(set(learnable) - dict(params).keys())
    if unknown:
        raise ValueError(f"learnable {unknown[0]!r} is not a parameter: give its default too")
    spec = read_spec(f"<activation {name}>", data, default_name=name)
    activation, text = build_one(spec, seconds)
    package = _package()
    function = getattr(load_module(text, name, package), spec.name)
    for kind in ("linen", "nnx") if learnable else ():  # Flax is imported only here
        source = emit_flax([activation], kind, "<memory>", package)
        assert source is not None, "a learnable parameter gives a module"
        module = _exec(source, f"{package}.{kind}")
        setattr(function, kind, getattr(module, spec.module))
    return function


def load_module(text: str, name: str, package: str | None = None) -> types.ModuleType:
    """A generated module's ``text``, imported from memory as ``package._name``."""
    return _exec(text, f"{package or _package()}._{name}")


def _exec(text: str, qualified: str) -> types.ModuleType:
    module = types.ModuleType(qualified)
    module.__package__ = qualified.rpartition(".")[0]
    exec(compile(text, f"<symjvp {qualified}>", "exec"), module.__dict__)  # our own code
    sys.modules[qualified] = module  # so the Flax modules' relative imports find it
    return module


def _package() -> str:
    """A fresh in-memory package with the support module the code imports."""
    if _ROOT not in sys.modules:
        root = types.ModuleType(_ROOT)
        root.__path__ = []
        sys.modules[_ROOT] = root
        _exec(emit_support(), f"{_ROOT}._support")
    name = f"{_ROOT}.p{next(_COUNTER)}"
    package = types.ModuleType(name)
    package.__path__ = []
    sys.modules[name] = package
    sys.modules[f"{name}._support"] = sys.modules[f"{_ROOT}._support"]
    return name
