"""docs/accuracy.md's residual section: what dy/dx from the output y costs.

For each element-wise activation whose dy/dx is a function of y: what its
first JVP rule keeps as built, and the float32 error of dy/dx from y, in
ulps of f' itself and in ulps of f''s largest magnitude within 1 of x (the
local scale the automatic policy measures against).
"""

import numpy as np

from codegen.analysis.model import Activation
from codegen.analysis.residual import Y, local_errors, output_form
from codegen.numerics.evaluate import exact_values, float32_values, sample_points, ulp_errors


def residual_rows(activations: list[Activation]) -> list[str]:
    """Markdown rows, one per activation with dy/dx from y."""
    rows = [
        "| function | kept as built | dy/dx from y | error, ulps of f' | ulps of f' near x |",
        "|---|---|---|--:|--:|",
    ]
    for a in activations:
        if len(a.spec.inputs) > 1:
            continue  # y times a gate does not give dy/dx: gated specs keep the partials
        formula, x, values = a.formulas[0], a.x, dict(a.defaults)
        form = output_form(formula.tower[0].expr, a.context, "output")
        if form is None or not form.has(Y):
            continue  # no dy/dx from y, or a constant one, as identity's
        expr = formula.tower[0].expr.subs(values)
        points = sample_points(a.spec.domain)
        y = float32_values(expr, x, points).astype(np.float32)
        got = float32_values(form.subs(values), Y, y)
        plain = ulp_errors(got, exact_values(expr.diff(x), x, points))
        local = local_errors(form, expr, x, values, points)
        kept = "y" if formula.output is not None else "dy/dx"
        shown = str(form).replace("|", r"\|")  # a pipe would end the table cell
        rows.append(f"| {a.spec.name} | {kept} | `{shown}` | {_ulps(plain)} | {_ulps(local)} |")
    return rows


def _ulps(errors: np.ndarray) -> str:
    worst = float(np.max(errors, initial=0.0))
    return "NaN/inf" if not np.isfinite(worst) else f"{worst:.3g}"
