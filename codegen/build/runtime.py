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
from collections.abc import Callable

from codegen.analysis.budget import SECONDS
from codegen.build.pipeline import build_one
from codegen.emit.activation import emit_support
from codegen.spec.load import read_spec

_PACKAGE = "codegen._built"  # the in-memory package the modules live in
_COUNTER = itertools.count()


def activation(
    expression: str,
    *,
    name: str = "activation",
    domain: tuple[float, float] | None = None,
    seconds: float | None = SECONDS,
    **params: float,
) -> Callable:
    """The generated function for ``expression`` in ``x`` and ``params``.

    Each keyword parameter is a parameter of the formula with its default,
    in signature order.  Raises :class:`~codegen.spec.SpecError` for a bad
    formula, or one that takes more than ``seconds`` to analyse.  Cached by
    its arguments.
    """
    bounds = None if domain is None else tuple(float(b) for b in domain)
    return _built(expression, name, bounds, seconds, tuple(params.items()))


@functools.cache
def _built(expression: str, name: str, domain, seconds, params: tuple) -> Callable:
    data = {
        "summary": f"The {name} activation function.",
        "expression": expression,
        "params": dict(params),
    }
    if domain is not None:
        data["domain"] = list(domain)
    spec = read_spec(f"<activation {name}>", data, default_name=name)
    _, text = build_one(spec, seconds)
    return getattr(load_module(text, name), spec.name)


def load_module(text: str, name: str) -> types.ModuleType:
    """A generated module's ``text``, imported from memory."""
    module = types.ModuleType(f"{_package()}._{name}_{next(_COUNTER)}")
    module.__package__ = _PACKAGE
    exec(compile(text, f"<symjvp {name}>", "exec"), module.__dict__)  # our own emitted code
    return module


def _package() -> str:
    """The in-memory package, with the support module the code imports."""
    if _PACKAGE not in sys.modules:
        package = types.ModuleType(_PACKAGE)
        package.__path__ = []
        support = types.ModuleType(f"{_PACKAGE}._support")
        exec(compile(emit_support(), "<symjvp support>", "exec"), support.__dict__)
        sys.modules[_PACKAGE] = package
        sys.modules[support.__name__] = support
    return _PACKAGE
