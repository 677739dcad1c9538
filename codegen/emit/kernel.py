"""One jitted function of an element-wise module, as activation.py.j2 writes it."""

from dataclasses import dataclass

from codegen.emit.backend import Assignment, Body
from codegen.emit.format import LINE_LENGTH, width
from codegen.emit.rules import FromOutput


@dataclass(frozen=True)
class Kernel:
    """One jitted function: a formula, a derivative or a partial.  With
    ``jvps``, a custom_jvp function whose rule is one ``defjvps`` rule per
    input, as jax.nn writes relu's; without, autodiff goes through it."""

    name: str
    docstring: str
    primal: Body
    rounding: str | None  # the support function that gives the result its dtype
    shape: str  # and the rest of its arguments
    jvps: tuple[str | None, ...] = ()  # None where a partial is 0
    from_output: FromOutput | None = None  # emitted before the kernel, for its JVP
    in_x: bool = True  # a derivative in x, not a partial in another input


def returning(body: Body, rounding: str | None, shape: str) -> Body:
    """``body`` with its value named y where the return statement would not
    fit on a line: black would spread it over a line per argument."""
    returned = f"{rounding}({body.value}, dtype{shape})" if rounding else body.value
    if width(f"    return {returned}") <= LINE_LENGTH:
        return body
    return Body((*body.assignments, Assignment("y", body.value)), "y")
