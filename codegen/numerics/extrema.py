"""Max and Min, differentiated so that weights at a tie sum to 1."""

import sympy as sp


class Max(sp.Max):
    """SymPy's Max, differentiated as Max(Max(a, b), c): where arguments tie,
    SymPy's own weights are Heaviside(0) = 1/2 each, and sum to 3/2 for
    three; nested, they sum to 1 at any tie."""

    def __new__(cls, *args, **options):
        return _n_ary(cls, sp.Max(*args, **options))

    def fdiff(self, argindex=1):
        return _nested_weight(self.args, argindex - 1, lambda u, v: sp.Heaviside(u - v), Max)


class Min(sp.Min):
    """SymPy's Min, differentiated as Min(Min(a, b), c): see :class:`Max`."""

    def __new__(cls, *args, **options):
        return _n_ary(cls, sp.Min(*args, **options))

    def fdiff(self, argindex=1):
        return _nested_weight(self.args, argindex - 1, lambda u, v: sp.Heaviside(v - u), Min)


def _n_ary(cls, value: sp.Expr) -> sp.Expr:
    """``value``, SymPy's Max or Min, as ``cls`` if it keeps three arguments
    or more: SymPy's own simplification compares classes by identity."""
    if not isinstance(value, (sp.Max, sp.Min)) or len(value.args) < 3:
        return value
    obj = sp.Expr.__new__(cls, *value.args)
    obj._argset = value._argset
    return obj


def _nested_weight(args: tuple, index: int, wins, func) -> sp.Expr:
    """d/d args[index] of func(*args) taken as func(func(*args[:-1]), args[-1]);
    wins(u, v) is 1 where u is taken over v, 1/2 at a tie."""
    *rest, last = args
    if not rest:
        return sp.S.One
    head = func(*rest)
    if index == len(rest):
        return wins(last, head)
    return wins(head, last) * _nested_weight(tuple(rest), index, wins, func)
