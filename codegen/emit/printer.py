"""SymPy -> jax.numpy source text.

A subclass of SymPy's ``JaxPrinter`` that prints the way jax.nn is written:
``jnp``/``lax`` prefixes, Python operators for comparisons, element-wise
``jnp.maximum`` for ``Max``, ``jax.scipy.special`` for ``erf`` (``JaxPrinter``
prints ``math.erf``), and constants folded to float literals, which are
weakly typed and so never upcast a bfloat16 input.
"""

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.printing.numpy import JaxPrinter
from sympy.printing.precedence import PRECEDENCE

from codegen.numerics.arithmetic import ArithmeticPrinter
from codegen.numerics.evaluate import fold_constants
from codegen.numerics.primitives import Where, cbrt, isfinite, isinf, sigmoid

_CALLS_AS_IS = (sp.Function, isfinite, isinf)  # printed as calls: never parenthesised
_PREFIXES = {"jax.numpy.": "jnp.", "jax.lax.": "lax.", "jax.scipy.special.": "special."}
_CALLS = {
    sp.erf: "special.erf",
    sp.erfc: "special.erfc",
    sigmoid: "lax.logistic",
    log1p: "jnp.log1p",
    expm1: "jnp.expm1",
    sp.sign: "jnp.sign",
    sp.Abs: "jnp.abs",
    cbrt: "jnp.cbrt",
}


class JnpPrinter(ArithmeticPrinter, JaxPrinter):
    """Prints expressions as jax.numpy code, and adds to ``used`` each name
    the code reads from outside: ``jnp``, ``lax``, ``special``, ``horner``."""

    def __init__(self, used: set[str] | None = None):
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False})
        self.used = set() if used is None else used

    def _module_format(self, fqn: str, register: bool = True) -> str:
        for long, short in _PREFIXES.items():
            if fqn.startswith(long):
                return self._use(short + fqn[len(long) :])
        return self._use(fqn)

    def _use(self, name: str) -> str:
        """``name``, a qualified or a support function's, as the code calls it."""
        self.used.add(name.split(".")[0])
        return name

    def _print_Mul(self, expr: sp.Mul) -> str:
        # Tangents last: a*b*x_dot is (a*b)*x_dot, so the backward pass keeps
        # the one array a*b, not a and b.
        tangents = [f for f in expr.args if isinstance(f, sp.Symbol) and f.name.endswith("_dot")]
        others = expr.func(*(f for f in expr.args if f not in tangents))
        if tangents and not others.is_Number:
            return " * ".join([self._print(others), *(self._print(t) for t in tangents)])
        return super()._print_Mul(expr)

    def _rsqrt(self, base: str) -> str:
        return f"{self._use('lax.rsqrt')}({base})"

    def _print_Relational(self, expr: sp.core.relational.Relational) -> str:
        left = self.parenthesize(expr.lhs, PRECEDENCE["Relational"] + 1)
        right = self.parenthesize(expr.rhs, PRECEDENCE["Relational"] + 1)
        return f"{left} {expr.rel_op} {right}"

    def _print_boolean_op(self, expr, operator: str) -> str:
        # & and | bind tighter than comparisons in Python: always parenthesise.
        return f" {operator} ".join(
            self._print(arg)
            if arg.is_Atom or isinstance(arg, _CALLS_AS_IS)
            else f"({self._print(arg)})"
            for arg in expr.args
        )

    def _print_And(self, expr) -> str:
        return self._print_boolean_op(expr, "&")

    def _print_Or(self, expr) -> str:
        return self._print_boolean_op(expr, "|")

    def _print_Not(self, expr) -> str:
        (argument,) = expr.args
        if isinstance(argument, _CALLS_AS_IS):  # a call needs no parentheses
            return f"~{self._print(argument)}"
        return f"~({self._print(argument)})"

    def _print_BooleanTrue(self, expr) -> str:
        return "True"

    def _print_BooleanFalse(self, expr) -> str:
        return "False"

    def _print_isfinite(self, expr) -> str:
        return f"{self._use('jnp.isfinite')}({self._print(expr.args[0])})"

    def _print_isinf(self, expr) -> str:
        return f"{self._use('jnp.isinf')}({self._print(expr.args[0])})"

    def _print_Where(self, expr: Where) -> str:
        condition, if_true, if_false = (self._print(arg) for arg in expr.args)
        return f"{self._use('jnp.where')}({condition}, {if_true}, {if_false})"

    def _print_pairwise(self, expr, function: str) -> str:
        args = [self._print(arg) for arg in expr.args]
        result = args[0]
        for arg in args[1:]:
            result = f"{self._use(function)}({result}, {arg})"
        return result

    def _print_Max(self, expr) -> str:
        return self._print_pairwise(expr, "jnp.maximum")

    def _print_Min(self, expr) -> str:
        return self._print_pairwise(expr, "jnp.minimum")

    def _print_Heaviside(self, expr) -> str:
        argument, at_zero = expr.args
        heaviside = self._use("jnp.heaviside")
        return f"{heaviside}({self._print(argument)}, {self._print(sp.Float(at_zero))})"

    def _print_log_abs(self, expr) -> str:
        return f"{self._use('jnp.log')}(jnp.abs({self._print(expr.args[0])}))"

    def _print_softplus(self, expr) -> str:
        return f"{self._use('jnp.logaddexp')}({self._print(expr.args[0])}, 0.0)"

    def _print_reciprocal(self, expr) -> str:
        return f"(1 / {self.parenthesize(expr.args[0], PRECEDENCE['Pow'])})"

    def _print_offset(self, expr) -> str:
        x, centre = expr.args
        if x.could_extract_minus_sign():  # -x - c as (-c) - x: one subtraction
            return f"({self._print(-centre)} - {self._print(-x)})"
        negative = centre.could_extract_minus_sign()  # x - (-c) is x + c exactly
        magnitude = self._print(-centre if negative else centre)
        return f"({self._print(x)} {'+' if negative else '-'} {magnitude})"

    def _print_polynomial(self, expr) -> str:
        x, terms, *coefficients = expr.args
        items = ", ".join(map(self._print, coefficients))
        text = f"{self._use('horner')}({self._print(x)}, ({items})"
        return f"{text}, float32_terms={terms})" if terms < len(coefficients) else f"{text})"

    def _print_series(self, expr) -> str:
        x, terms, name, count = expr.args
        text = f"{self._use('horner')}({self._print(x)}, {name}"
        return f"{text}, float32_terms={terms})" if terms < count else f"{text})"

    def _print_axis_sum(self, expr) -> str:
        return f"{self._use('axis_sum')}({self._print(expr.args[0])}, axis, where)"

    def _print_axis_mean(self, expr) -> str:
        return f"{self._use('axis_mean')}({self._print(expr.args[0])}, axis, where)"

    def _print_Piecewise(self, expr) -> str:
        raise TypeError("Piecewise must be lowered to Where before printing")

    def _print_Symbol(self, expr) -> str:
        return expr.name


class series(sp.Function):
    """A polynomial whose coefficients are a module constant:
    ``series(x, n, NAME, count)`` prints as ``horner(x, NAME, float32_terms=n)``."""


def _call_printer(call: str):
    def print_call(self, expr) -> str:
        return f"{self._use(call)}({', '.join(self._print(arg) for arg in expr.args)})"

    return print_call


for _function, _call in _CALLS.items():
    setattr(JnpPrinter, f"_print_{_function.__name__}", _call_printer(_call))


def to_code(expr: sp.Basic) -> str:
    """The jax.numpy source text of ``expr``, to measure or to compare: a
    module's code is written by its backend, which keeps what it uses."""
    return JnpPrinter().doprint(fold_constants(expr))
