"""Spec files -> validated :class:`~codegen.spec.model.Spec` objects."""

import builtins
import keyword
import math
import tomllib
from pathlib import Path
from typing import Any

from codegen.numerics.primitives import CONSTANTS, FUNCTIONS
from codegen.spec.axis import AxisReader
from codegen.spec.model import CLOSED_FORM_ORDER, Param, Spec, Switch

_FIELDS = {
    "name",
    "summary",
    "description",
    "expression",
    "params",
    "switch",
    "aliases",
    "jax_nn",
    "references",
    "domain",
    "closed_form_order",
    "widen",
    "residual",
    "accuracy",
    "axis",
    "module",
    "inputs",
}
# Names the generated modules define or import: a parameter or function of
# the same name would shadow them.  The support helpers are in the list too.
_GENERATED_NAMES = {
    *("y", "y_dot", "dtype", "primals", "tangents", "axis", "where", "keepdims"),
    *("jax", "jnp", "lax", "special", "functools", "operator", "Array", "ArrayLike"),
    *("nn", "nnx", "linen", "flax", "tp", "Dtype", "MappingProxyType", "support"),
    *("widen", "apart", "native", "narrow", "cast", "horner"),
    *("is_zero", "sum_tangents", "defjvps_lazy", "through", "forward_autodiff"),
    *("shifted", "masked", "zeroed", "reduced", "axis_sum", "axis_mean", "SymbolicZero"),
}
# What the backward pass of an element-wise function keeps, the spec's
# ``residual``: "output" computes dy/dx from y, which the next layer keeps
# anyway, wherever dy/dx is a function of y; "derivative" keeps dy/dx from x,
# accurate everywhere; "auto" takes y where dy/dx from it is cheap and meets
# the accuracy targets (codegen/analysis/residual.py).
RESIDUALS = ("auto", "output", "derivative")
# How close to correctly rounded the value and the gradient are near the
# roots of either, the spec's ``accuracy``.  There every closed form cancels,
# and a Taylor polynomial about the root is accurate; but it costs two flops
# a term for every element, 20 against silu' 's 30, which made silu's
# gradient 1.5 times jax.nn's.  "standard" keeps those polynomials only at
# derivative orders 2 and 3, which a training step does not evaluate;
# "strict" keeps them at every order.
ACCURACIES = ("standard", "strict")
# Python's builtins: a module-level function named ``sum`` would hide one.
_BUILTINS = {name for name in dir(builtins) if not name.startswith("_")}


class SpecError(ValueError):
    """A spec is invalid; the message names the file and the field."""

    def __init__(self, path: str, field: str, message: str):
        super().__init__(f"{path}: field '{field}' {message}")
        self.path = path
        self.field = field
        self.message = message

    def __reduce__(self):  # so that it crosses process boundaries intact
        return (SpecError, (self.path, self.field, self.message))


def load_spec(path: Path, root: Path) -> Spec:
    """Read and validate one spec file; ``root`` makes its path relative."""
    where = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SpecError(where, "(file)", f"is not valid TOML: {error}") from None
    return read_spec(where, data, default_name=path.stem)


def read_spec(where: str, data: dict[str, Any], default_name: str) -> Spec:
    """Validate a spec's parsed TOML; ``where`` names it in messages."""
    return _Reader(where, data).spec(default_name=default_name)


class _Reader(AxisReader):
    def __init__(self, where: str, data: dict[str, Any]):
        self.where = where
        self.data = data

    def error(self, field: str, message: str) -> SpecError:
        return SpecError(self.where, field, message)

    def spec(self, default_name: str) -> Spec:
        unknown = sorted(set(self.data) - _FIELDS)
        if unknown:
            known = ", ".join(sorted(_FIELDS))
            raise self.error(unknown[0], f"is not a spec field; the fields are {known}")
        name = self.exported("name", self.data.get("name", default_name))
        params = self.params()
        return Spec(
            path=self.where,
            name=name,
            summary=self.text("summary", required=True),
            expression=self.text("expression", required=True),
            description=self.text("description"),
            params=params,
            switch=self.switch({p.name for p in params}),
            aliases=tuple(self.exported("aliases", a) for a in self.strings("aliases")),
            jax_nn=self.text("jax_nn") or None,
            references=self.strings("references"),
            domain=self.domain(),
            closed_form_order=self.order(),
            widen=self.flag("widen", default=True),
            residual=self.residual(gated=any(p.input for p in params)),
            accuracy=self.one_of("accuracy", ACCURACIES),
            axis=self.axis(),
            module=self.module(name, params),
        )

    def one_of(self, field: str, choices: tuple[str, ...]) -> str:
        """One of ``choices``, the first by default."""
        value = self.data.get(field, choices[0])
        if value not in choices:
            raise self.error(field, f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    def residual(self, gated: bool) -> str:
        """What the backward pass keeps: see :data:`RESIDUALS`."""
        value = self.one_of("residual", RESIDUALS)
        if value != "auto" and "axis" in self.data:
            raise self.error("residual", "is for element-wise specs: axis-wise ones keep y")
        if gated:
            # y = relu(x)*gate is not positive where x is, if the gate is negative:
            # y alone does not give dy/dx, and the two partials are all that is kept.
            if value == "output":
                raise self.error("residual", "cannot be output with several inputs")
            return "derivative"
        return value

    def text(self, field: str, *, required: bool = False) -> str:
        value = self.data.get(field)
        if value is None:
            if required:
                raise self.error(field, "is missing; every spec needs it")
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, f"must be a non-empty string, not {value!r}")
        return value.strip()

    def strings(self, field: str) -> tuple[str, ...]:
        value = self.data.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(field, f"must be a list of strings, not {value!r}")
        return tuple(value)

    def identifier(self, field: str, value: Any) -> str:
        if not isinstance(value, str) or not value.isidentifier() or keyword.iskeyword(value):
            raise self.error(field, f"must be a Python identifier, not {value!r}")
        if value.startswith("_"):
            raise self.error(field, f"cannot be {value!r}: names starting with _ are private")
        if value in _BUILTINS:
            raise self.error(field, f"cannot be {value!r}: it would hide Python's builtin")
        return value

    def exported(self, field: str, value: Any) -> str:
        """A name the generated package exports: it must not hide its own names."""
        name = self.identifier(field, value)
        if name in _GENERATED_NAMES:
            raise self.error(field, f"cannot be {name!r}: the generated code uses that name")
        return name

    def symbol(self, field: str, value: Any) -> str:
        """A name the formulas use, so it must not hide x or a function."""
        name = self.identifier(field, value)
        if name == "x" or name in FUNCTIONS or name in CONSTANTS or name in _GENERATED_NAMES:
            raise self.error(field, f"cannot be {name!r}: the name is reserved")
        # The printer reads *_dot as a tangent; dy_d* is kept for derivatives' names.
        if name.endswith("_dot") or name.startswith("dy_d"):
            raise self.error(field, f"cannot be {name!r}: *_dot and dy_d* name derivatives")
        return name

    def params(self) -> tuple[Param, ...]:
        """The array inputs after x, then the parameters of ``[params]``."""
        table = self.data.get("params", {})
        if not isinstance(table, dict):
            raise self.error("params", "must be a table of name = default value")
        inputs = self.inputs()
        for name in table:
            if name in {p.name for p in inputs}:
                raise self.error(f"params.{name}", f"{name!r} is already an input")
        return (*inputs, *(self.param(name, entry) for name, entry in table.items()))

    def inputs(self) -> tuple[Param, ...]:
        """``inputs = ["x", "gate"]``: array arguments besides x, each with its partial."""
        names = self.strings("inputs") or ("x",)
        if names[0] != "x" or len(set(names)) != len(names):
            raise self.error("inputs", f"must list distinct names, x first, not {list(names)}")
        if names != ("x",) and "axis" in self.data:
            raise self.error("inputs", "is for element-wise specs: axis-wise ones take one array")
        # The analysis samples an input at 1 and scaled copies, as a parameter.
        return tuple(
            Param(self.symbol("inputs", n), 1.0, "input array, broadcast against x", input=True)
            for n in names[1:]
        )

    def param(self, name: str, entry: Any) -> Param:
        field = f"params.{name}"
        self.symbol(field, name)
        doc, optional, learnable = "", False, False
        if isinstance(entry, dict):
            extra = sorted(set(entry) - {"default", "doc", "optional", "learnable"})
            if extra:
                raise self.error(field, f"has the unknown key {extra[0]!r}; use default and doc")
            optional = entry.get("optional", False)
            if not isinstance(optional, bool) or (optional and "axis" not in self.data):
                raise self.error(field, "can be optional (true) only in an axis-wise spec")
            learnable = entry.get("learnable", False)
            if not isinstance(learnable, bool) or (learnable and "axis" in self.data):
                raise self.error(field, "can be learnable (true) only in an element-wise spec")
            doc = entry.get("doc", "")
            if not isinstance(doc, str):
                raise self.error(field, f"has a doc that is not a string: {doc!r}")
            entry = entry.get("default")
        if isinstance(entry, bool) or not isinstance(entry, int | float):
            raise self.error(field, f"must have a number as its default, not {entry!r}")
        if not math.isfinite(entry):
            raise self.error(field, f"must have a finite default, not {entry!r}")
        return Param(name, entry, doc.strip(), optional, learnable)

    def switch(self, param_names: set[str]) -> Switch | None:
        table = self.data.get("switch")
        if table is None:
            return None
        if not isinstance(table, dict):
            raise self.error("switch", "must be a table with name, default and expression")
        extra = sorted(set(table) - {"name", "default", "expression", "doc"})
        if extra:
            raise self.error(f"switch.{extra[0]}", "is not a switch field")
        name = self.symbol("switch.name", table.get("name"))
        if name in param_names:
            raise self.error("switch.name", f"{name!r} is already a parameter")
        default = table.get("default")
        if not isinstance(default, bool):
            raise self.error("switch.default", f"must be true or false, not {default!r}")
        expression = table.get("expression")
        if not isinstance(expression, str) or not expression.strip():
            raise self.error(
                "switch.expression", "must be the formula used when the switch is flipped"
            )
        doc = table.get("doc", "")
        if not isinstance(doc, str):
            raise self.error("switch.doc", f"must be a string, not {doc!r}")
        return Switch(name, default, expression.strip(), doc.strip())

    def flag(self, field: str, default: bool) -> bool:
        value = self.data.get(field, default)
        if not isinstance(value, bool):
            raise self.error(field, f"must be true or false, not {value!r}")
        return value

    def order(self) -> int:
        value = self.data.get("closed_form_order", CLOSED_FORM_ORDER)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
            raise self.error("closed_form_order", f"must be an integer from 0 to 6, not {value!r}")
        return value

    def domain(self) -> tuple[float, float]:
        value = self.data.get("domain", [-math.inf, math.inf])
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            or not value[0] < value[1]
        ):
            raise self.error("domain", f"must be [low, high] with low < high, not {value!r}")
        return (float(value[0]), float(value[1]))

    def module(self, name: str, params: tuple[Param, ...]) -> str:
        """The Flax module's class name: the spec's, or the CamelCase of its name."""
        if not any(p.learnable for p in params):
            if "module" in self.data:
                raise self.error("module", "needs a parameter with learnable = true")
            return ""
        default = "".join(part.capitalize() for part in name.split("_"))
        module = self.identifier("module", self.data.get("module", default))
        if not module[0].isupper():
            raise self.error("module", f"must be a class name in CamelCase, not {module!r}")
        return module
