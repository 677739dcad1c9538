"""The ``[axis]`` table of a spec: what an axis-wise activation reduces."""

import math
from typing import Any

from codegen.spec.model import Axis, Choice

_AXIS_FIELDS = {
    "default",
    "reductions",
    "split",
    "masked",
    "input",
    "overrides",
    "arguments",
    "sign",
    "choice",
}


class AxisReader:
    """Reads ``[axis]``; mixed into the spec reader, whose ``error``,
    ``identifier`` and ``symbol`` it uses."""

    data: dict[str, Any]

    # The spec reader's, declared for the type checker.
    def error(self, field: str, message: str) -> ValueError:
        raise NotImplementedError

    def identifier(self, field: str, value: Any) -> str:
        raise NotImplementedError

    def symbol(self, field: str, value: Any) -> str:
        raise NotImplementedError

    def axis(self) -> Axis | None:
        table = self.data.get("axis")
        if table is None:
            return None
        if not isinstance(table, dict):
            raise self.error("axis", "must be a table: default, reductions, split, masked...")
        extra = sorted(set(table) - _AXIS_FIELDS)
        if extra:
            raise self.error(
                f"axis.{extra[0]}", f"is not an axis field; use {sorted(_AXIS_FIELDS)}"
            )
        if "switch" in self.data:
            raise self.error("switch", "is not supported by axis-wise specs")
        reductions = table.get("reductions", {})
        if not isinstance(reductions, dict) or not all(
            isinstance(v, str) for v in reductions.values()
        ):
            raise self.error("axis.reductions", 'must be a table of NAME = "sum(...)" formulas')
        overrides = table.get("overrides", {})
        if not isinstance(overrides, dict) or not set(overrides) <= set(reductions):
            raise self.error("axis.overrides", "must map reductions to argument names")
        sign = table.get("sign")
        if sign is not None and sign not in reductions:
            raise self.error("axis.sign", f"must name a reduction, not {sign!r}")
        split = table.get("split", [])
        if split and (len(split) < 2 or not all(isinstance(v, str) for v in split)):
            raise self.error("axis.split", f"must name two or more parts, not {split!r}")
        return Axis(
            default=self.default_axis(table.get("default", -1)),
            reductions=tuple((self.symbol("axis.reductions", k), v) for k, v in reductions.items()),
            split=tuple(self.symbol("axis.split", v) for v in split),
            masked=self.masked(table.get("masked")),
            input=self.identifier("axis.input", table.get("input", "x")),
            overrides=tuple(
                (k, self.identifier("axis.overrides", v)) for k, v in overrides.items()
            ),
            arguments=tuple(
                self.identifier("axis.arguments", v) for v in table.get("arguments", [])
            ),
            sign=sign,
            choice=self.choice(table.get("choice"), set(reductions)),
        )

    def choice(self, table: Any, reductions: set[str]) -> Choice | None:
        """A keyword-only string argument choosing alternative reductions."""
        if table is None:
            return None
        if not isinstance(table, dict) or sorted(table) != ["default", "doc", "name", "variants"]:
            raise self.error("axis.choice", "must be a table of name, default, doc and variants")
        name = self.symbol("axis.choice.name", table["name"])
        default, doc, variants = table["default"], table["doc"], table["variants"]
        if not isinstance(doc, str) or not isinstance(variants, dict) or not variants:
            raise self.error("axis.choice", "needs a doc string and a table of variants")
        if not isinstance(default, str) or default in variants:
            raise self.error("axis.choice.default", "must be a string naming no variant")
        for value, replaced in variants.items():
            field = f"axis.choice.variants.{value}"
            if not isinstance(replaced, dict) or not set(replaced) <= reductions:
                raise self.error(field, f"must replace some of the reductions {sorted(reductions)}")
            if not all(isinstance(v, str) for v in replaced.values()):
                raise self.error(field, "must map reductions to formulas")
        pairs = tuple((value, tuple(replaced.items())) for value, replaced in variants.items())
        return Choice(name, default, doc.strip(), pairs)

    def default_axis(self, value: Any) -> int | tuple[int, ...] | None:
        if value == "all":
            return None
        if isinstance(value, list) and value and all(type(v) is int for v in value):
            return tuple(value)
        if type(value) is not int:
            raise self.error("axis.default", f'must be an integer, a list or "all", not {value!r}')
        return value

    def masked(self, value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.error("axis.masked", f"must be a number, inf or -inf, not {value!r}")
        return float(value)
