"""Flax modules for the specs with learnable parameters: linen.py and nnx.py.

Each module holds its learnable parameters as Flax parameters and calls the
generated function, so its gradients are the closed-form partials too.
"""

from dataclasses import dataclass

from codegen.analysis.model import Activation
from codegen.emit.environment import ENVIRONMENT, header
from codegen.spec.model import Param


@dataclass(frozen=True)
class Module:
    name: str  # the class
    function: str  # the generated function it calls
    module: str  # the generated module that defines the function
    summary: str
    learnable: tuple[Param, ...]
    fixed: tuple[Param, ...]
    gates: tuple[str, ...] = ()  # array arguments of __call__ after the inputs

    @property
    def call(self) -> str:
        """The call of the function, with the parameters bound to local names."""
        args = ", ".join(f"{p.name}={p.name}" for p in self.learnable)
        fixed = ", ".join(f"{p.name}=self.{p.name}" for p in self.fixed)
        arrays = ", ".join(["inputs", *self.gates])
        return f"{self.function}({arrays}, {', '.join(a for a in (args, fixed) if a)})"

    @property
    def learned(self) -> str:
        return ", ".join(p.name for p in self.learnable)


def modules(activations: list) -> list[Module]:
    """A module for each element-wise activation with a learnable parameter."""
    found = []
    for a in activations:
        if isinstance(a, Activation) and a.spec.module:
            params = a.spec.params
            found.append(
                Module(
                    name=a.spec.module,
                    function=a.spec.name,
                    module=f"_{a.spec.name}",
                    summary=a.spec.summary,
                    learnable=tuple(p for p in params if p.learnable),
                    fixed=tuple(p for p in a.spec.keywords if not p.learnable),
                    gates=a.spec.inputs[1:],
                )
            )
    return found


def emit_flax(
    activations: list, kind: str, specs: str = "specs", package: str = "generated"
) -> str | None:
    """The package's linen.py or nnx.py (``kind``), or None without modules."""
    found = modules(activations)
    if not found:
        return None
    template = ENVIRONMENT.get_template(f"{kind}.py.j2")
    return template.render(header=header(f"the specs in {specs}/"), modules=found, package=package)
