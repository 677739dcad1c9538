"""Expression text -> SymPy, without ``eval``.

Spec files are untrusted, and ``sympy.sympify`` runs ``eval``.  Instead the
text is parsed with :mod:`ast`, and each node is checked against an
allow-list and translated to SymPy here.  Nothing in the text is executed.
"""

import ast
import difflib
import operator
from collections.abc import Callable, Mapping

import sympy as sp

from codegen.numerics.primitives import CONSTANTS, FUNCTIONS

MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_EXPONENT = 64
MAX_DIGITS = 40


class ExpressionError(ValueError):
    """The expression text is not a formula this generator accepts."""


_BINARY: dict[type[ast.operator], Callable] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.BitAnd: sp.And,
    ast.BitOr: sp.Or,
}
_COMPARE: dict[type[ast.cmpop], Callable] = {
    ast.Lt: sp.Lt,
    ast.LtE: sp.Le,
    ast.Gt: sp.Gt,
    ast.GtE: sp.Ge,
}


def parse_expression(
    text: str, symbols: Mapping[str, sp.Symbol], functions: Mapping[str, type] = FUNCTIONS
) -> sp.Basic:
    """Translate ``text`` to SymPy; it may use ``symbols`` and call ``functions``."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"is {len(text)} characters long; the limit is {MAX_LENGTH}")
    try:
        # Whitespace, newlines included, only separates tokens in a formula.
        tree = ast.parse(" ".join(text.split()), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"is not a valid formula: {error.msg} in {text!r}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"is nested more than {MAX_DEPTH} levels deep") from None
    try:
        result = _Translator(symbols, functions).visit(tree.body, depth=0)
    except (TypeError, ValueError) as error:  # SymPy refusing, as in 0/True
        raise ExpressionError(f"is not a valid formula: {error} in {text!r}") from None
    if not isinstance(result, sp.Basic):
        raise ExpressionError(f"is a tuple, not a formula: {text!r}")
    return result


class _Translator:
    def __init__(self, symbols: Mapping[str, sp.Symbol], functions: Mapping[str, type]):
        self.symbols = symbols
        self.functions = functions

    def visit(self, node: ast.AST, depth: int):
        if depth > MAX_DEPTH:
            raise ExpressionError(f"is nested more than {MAX_DEPTH} levels deep")
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            snippet = ast.unparse(node)
            raise ExpressionError(f"uses {type(node).__name__} ({snippet!r}), which is not allowed")
        return method(node, depth + 1)

    def visit_Constant(self, node: ast.Constant, depth: int):
        value = node.value
        if isinstance(value, bool):
            return sp.true if value else sp.false
        if isinstance(value, int):
            if len(str(abs(value))) > MAX_DIGITS:
                raise ExpressionError(f"has an integer longer than {MAX_DIGITS} digits")
            return sp.Integer(value)
        if isinstance(value, float):
            return sp.Float(repr(value))
        raise ExpressionError(f"uses the constant {value!r}; only numbers are allowed")

    def visit_Name(self, node: ast.Name, depth: int):
        name = node.id
        if name in self.symbols:
            return self.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in self.functions:
            raise ExpressionError(f"uses the function {name} without calling it")
        where = "arrays in inputs, parameters under [params]"
        hint = f"; declare {where}"
        close = difflib.get_close_matches(name, [*self.symbols, *CONSTANTS], n=1)
        if close:
            hint = f"; did you mean {close[0]!r}? Declare {where}"
        raise ExpressionError(f"uses the unknown symbol {name!r}{hint}")

    def visit_BinOp(self, node: ast.BinOp, depth: int):
        apply = _BINARY.get(type(node.op))
        if apply is None:
            raise ExpressionError(
                f"uses the operator in {ast.unparse(node)!r}, which is not allowed"
            )
        left = self.visit(node.left, depth)
        right = self.visit(node.right, depth)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right, ast.unparse(node))
        return apply(left, right)

    def visit_UnaryOp(self, node: ast.UnaryOp, depth: int):
        operand = self.visit(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Invert):
            return sp.Not(operand)
        raise ExpressionError(f"uses the operator in {ast.unparse(node)!r}; write ~ for 'not'")

    def visit_Compare(self, node: ast.Compare, depth: int):
        terms = [self.visit(node.left, depth)]
        relations = []
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            compare = _COMPARE.get(type(op))
            if compare is None:
                raise ExpressionError(
                    f"uses the comparison in {ast.unparse(node)!r}; use <, <=, >, >="
                )
            terms.append(self.visit(comparator, depth))
            relations.append(compare(terms[-2], terms[-1]))
        return sp.And(*relations)

    def visit_Tuple(self, node: ast.Tuple, depth: int):
        return tuple(self.visit(item, depth) for item in node.elts)

    def visit_Call(self, node: ast.Call, depth: int):
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(
                f"calls {ast.unparse(node.func)!r}; only named functions are allowed"
            )
        name = node.func.id
        function = self.functions.get(name)
        if function is None:
            close = difflib.get_close_matches(name, self.functions, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ExpressionError(f"calls the unknown function {name!r}{hint}")
        if node.keywords:
            raise ExpressionError(f"passes keyword arguments to {name}; pass them by position")
        args = [self.visit(arg, depth) for arg in node.args]
        try:
            return function(*args)
        except (TypeError, ValueError) as error:
            raise ExpressionError(
                f"calls {name} wrongly in {ast.unparse(node)!r}: {error}"
            ) from None


def _check_power(base, exponent, source: str) -> None:
    """Refuse powers big enough to hang SymPy or exhaust memory."""
    if not (isinstance(exponent, sp.Expr) and exponent.is_number):
        return
    size = abs(exponent.evalf(5))
    if size > MAX_EXPONENT:
        raise ExpressionError(f"has the exponent in {source!r}, larger than {MAX_EXPONENT}")
    if isinstance(base, sp.Expr) and base.is_number and base != 0:
        digits = size * abs(sp.log(abs(base.evalf(5)), 10).evalf(5))
        if digits > MAX_DIGITS:
            raise ExpressionError(f"has the power {source!r}, with more than {MAX_DIGITS} digits")
