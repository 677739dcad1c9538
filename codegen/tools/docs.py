"""``docs``: docs/activations.md, a section per activation, with its plots.

The page is text made from the specs, the analysis and docs/accuracy.md, so
``--check`` keeps it current.  The plots need matplotlib (the ``plot``
extra) and are not checked: their bytes depend on its version.
"""

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from codegen.analysis.model import Activation, AxisActivation
from codegen.emit.axis_docstring import latex as axis_latex
from codegen.emit.environment import ENVIRONMENT, latex_name
from codegen.spec.load import Param

PAGE = "docs/activations.md"
_ROW = re.compile(r"^\| ([a-z_0-9]+)(\([^)]*\))? \|")


@dataclass(frozen=True)
class Page:
    name: str
    summary: str
    description: str
    facts: list[str]
    latex: list[str]
    params: tuple[Param, ...]
    accuracy: list[str]
    plot: bool


def docs_text(
    activations: list[Activation | AxisActivation], accuracy: str, plots: bool = True
) -> str:
    """The text of docs/activations.md; ``accuracy`` is docs/accuracy.md's.

    The page links a plot of each element-wise function only if ``plots``.
    """
    rows: dict[str, list[str]] = {}
    main_table = accuracy.split("\n## ")[0]  # the sections below have rows of their own
    for line in main_table.splitlines():
        match = _ROW.match(line)
        if match:
            rows.setdefault(match.group(1), []).append(line)
    pages = [_page(a, rows.get(a.spec.name, []), plots) for a in activations]
    text = ENVIRONMENT.get_template("activations.md.j2").render(pages=pages)
    return re.sub(r"\n{3,}", "\n\n", text)


def _page(activation: Activation | AxisActivation, accuracy: list[str], plots: bool) -> Page:
    spec = activation.spec
    facts = []
    if spec.aliases:
        facts.append(f"Also exported as {', '.join(f'`{a}`' for a in spec.aliases)}.")
    gates = spec.inputs[1:]
    if spec.jax_nn and gates:
        product = " * ".join([f"jax.nn.{spec.jax_nn}(x)", *gates])
        facts.append(f"Equals `{product}`, with a closed-form partial in each input.")
    elif spec.jax_nn:
        facts.append(f"A drop-in for `jax.nn.{spec.jax_nn}`.")
    if gates and plots:
        facts.append(f"Plotted with {' and '.join(f'`{g}` = 1' for g in gates)}.")
    facts.append(f"Spec: [{spec.path}](../{spec.path}).")
    return Page(
        name=spec.name,
        summary=spec.summary,
        description=" ".join(spec.description.split()),
        facts=facts,
        latex=_latex(activation),
        params=spec.keywords,
        accuracy=accuracy,
        plot=plots and isinstance(activation, Activation),
    )


def _latex(activation: Activation | AxisActivation) -> list[str]:
    name = rf"\mathrm{{{latex_name(activation.spec.name)}}}"
    if isinstance(activation, AxisActivation):
        return [*axis_latex(activation), rf"\dot{{y}} = {sp.latex(activation.tangent)}"]
    gates = activation.gates
    lines = []
    for formula in activation.formulas:
        for derivative in formula.tower[:3]:
            k = derivative.order
            if gates:  # partial derivatives: f(x, gate), then each input's
                arguments = ", ".join(["x", *(g.name for g in gates)])
                operator = rf"\frac{{\partial^{k}}}{{\partial x^{k}}}" if k > 1 else r"\partial_x"
                left = f"{operator} {name}({arguments})" if k else f"{name}({arguments})"
            else:
                left = f"{name}{chr(39) * k}(x)" if k else f"{name}(x)"
            lines.append(f"{left} = {sp.latex(derivative.expr)}")
        for g in gates:
            partial = formula.partials[activation.inputs.index(g)]
            lines.append(rf"\partial_{{{g.name}}} {name}({arguments}) = {sp.latex(partial)}")
    return lines


def write_page(root: Path, activations) -> Path:
    """Write docs/activations.md."""
    page = root / PAGE
    page.parent.mkdir(exist_ok=True)
    page.write_text(page_text(root, activations), encoding="utf-8")
    return page


def page_text(root: Path, activations) -> str:
    """What docs/activations.md should hold, from the analysis and docs/accuracy.md."""
    accuracy = root / "docs" / "accuracy.md"
    report = accuracy.read_text() if accuracy.exists() else ""
    return docs_text(activations, report, plots=can_plot())


def can_plot() -> bool:
    """Whether matplotlib, which draws the plots, is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def write_docs(root: Path, activations) -> tuple[list[Path], str]:
    """Write the page, and the plots if matplotlib is installed; the files
    written, and why there are no plots ("" if there are)."""
    page = write_page(root, activations)
    if not can_plot():
        return [page], "matplotlib is not installed (pip install 'symjvp[plot]')."
    from codegen.tools import plots

    return [page, *plots.write_plots(root / "docs", activations)], ""
