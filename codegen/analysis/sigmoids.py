"""Exponentials over powers of 1 + exp(b), and exponentials times powers of
sigmoids, as powers of sigmoids; polynomials in a sigmoid that vanish where
it tends to 1, factored.

asinh(exp(x))' is exp(x)/sqrt(exp(2x) + 1): past x = 44 both overflow in
float32, where sqrt(sigmoid(2x)) is finite.  Its third derivative is
sqrt(s)(1 - 4s + 3s**2) with s = sigmoid(2x), which cancels as s tends to 1:
0 where the truth is 4e-9, at x = 10.  Factored, it is
-sqrt(s) sigmoid(-2x) (3s - 1), with nothing left to cancel.
"""

import sympy as sp

from codegen.numerics.primitives import sigmoid

_MOST_TERMS = 8  # a larger sum is left as it is: factoring it costs too much


def exp_over_one_plus_exp(e: sp.Expr) -> sp.Expr | None:
    """exp(q*b) / (1 + exp(b))**p -> sigmoid(b)**q * sigmoid(-b)**(p - q), 0 <= q <= p.

    Products only: the rules rewrite the innermost expressions first, and a
    power alone would be rewritten before the product that holds exp(q*b).
    """
    if not e.is_Mul:
        return None
    factors = list(e.args)
    for f in factors:
        b = _exp_in_one_plus(f)
        if b is None:
            continue
        p, rest = -f.exp, [g for g in factors if g is not f]
        for g in rest:
            q = sp.cancel(g.args[0] / b) if isinstance(g, sp.exp) else None
            if q is not None and q.is_Rational and 0 <= q <= p and (q == p or not p.is_Integer):
                rest.remove(g)
                return sp.Mul(sigmoid(b) ** q, sigmoid(-b) ** (p - q), *rest)
        if not p.is_Integer:
            return sp.Mul(sigmoid(-b) ** p, *rest)
    return None


def _exp_in_one_plus(f: sp.Expr) -> sp.Expr | None:
    """b if ``f`` is (1 + exp(b))**-p for a rational p > 0 other than 1, else None.

    The caller rewrites an integer power only as a whole power of a sigmoid,
    as exp(4x)/(1 + exp(2x))**2 is sigmoid(2x)**2: other integer powers are
    left to the sigmoid rules before this one, and taken here too they
    rewrote silu's derivatives into forms that needed wider series about
    their roots."""
    if not (f.is_Pow and f.exp.is_Rational and f.exp < 0 and f.base.is_Add):
        return None
    if f.exp == -1:
        return None
    terms = set(f.base.args)
    if len(terms) != 2 or sp.S.One not in terms:
        return None
    (other,) = terms - {sp.S.One}
    return other.args[0] if isinstance(other, sp.exp) else None


def root_at_one(e: sp.Expr) -> sp.Expr | None:
    """P(sigmoid(u)) with P(1) = 0 -> P factored, its factor s - 1 as -sigmoid(-u)."""
    s = _one_sigmoid(e)
    if s is None:
        return None
    t = sp.Dummy("s", positive=True)
    p = e.xreplace({s: t})
    found = [_exponent(term, t) for term in p.args]
    exponents = [k for k in found if k is not None]
    # Degree 2 and up: a linear c*s - c is the complement rule's, and
    # taking it here too rewrote silu's derivatives into longer forms.
    if len(exponents) < len(found) or max(exponents) - min(exponents) < 2:
        return None
    if sp.expand(p.subs(t, 1)) != 0:
        return None
    return _factored_at_one(p, t, s)


def exp_times_sigmoid_power(e: sp.Expr) -> sp.Expr | None:
    """exp(q*u) * sigmoid(-u)**p -> sigmoid(u)**q * sigmoid(-u)**(p - q), 0 < q <= p.

    exp(x)*sqrt(sigmoid(-2x)) is sqrt(sigmoid(2x)): inf * 0 past x = 89 in
    float32 as written, where the rewrite is finite.
    """
    if not e.is_Mul:
        return None
    for f in e.args:
        if not isinstance(f, sp.exp):
            continue
        for g in e.args:
            base, p = (g.base, g.exp) if g.is_Pow else (g, sp.S.One)
            if not (isinstance(base, sigmoid) and p.is_Rational and p > 0):
                continue
            u = -base.args[0]
            q = sp.cancel(f.args[0] / u)
            if q.is_Rational and 0 < q <= p:
                rest = [h for h in e.args if h is not f and h is not g]
                return sp.Mul(sigmoid(u) ** q, sigmoid(-u) ** (p - q), *rest)
    return None


def grouped_root_at_one(e: sp.Expr) -> sp.Expr | None:
    """c*P(sigmoid(u)) + rest, P(1) = 0 with a fractional power -> P factored.

    The terms of a sum that share a factor c free of the sigmoid are taken
    as one polynomial: c*(s**(3/2) - s**(1/2)) is c*sqrt(s)*(s - 1), which
    cancels as s tends to 1, beside terms that do not.  Integer powers are
    left to ``root_at_one``, which takes the whole sum.
    """
    s = _one_sigmoid(e)
    if s is None:
        return None
    t = sp.Dummy("s", positive=True)
    groups: dict[sp.Expr, list[tuple[sp.Expr, sp.Expr]]] = {}
    for term in e.args:
        coefficient, power = term.xreplace({s: t}).as_coeff_exponent(t)
        number, factor = coefficient.as_coeff_Mul()
        if not power.is_Rational or factor.has(t):
            return None
        groups.setdefault(factor, []).append((term, number * t**power))
    for factor, members in groups.items():
        polynomial = sp.Add(*(monomial for _, monomial in members))
        fractional = any(not m.as_coeff_exponent(t)[1].is_Integer for _, m in members)
        if len(members) < 2 or not fractional or polynomial.subs(t, 1) != 0:
            continue
        factored = _factored_at_one(polynomial, t, s)
        if factored is not None:
            grouped = {term for term, _ in members}
            rest = [term for term in e.args if term not in grouped]
            return sp.Add(factor * factored, *rest)
    return None


def _one_sigmoid(e: sp.Expr) -> sp.Expr | None:
    """The sigmoid in ``e``, a sum small enough to factor, if it holds just one."""
    if not e.is_Add or len(e.args) > _MOST_TERMS:
        return None
    atoms = e.atoms(sigmoid)
    return next(iter(atoms)) if len(atoms) == 1 else None


def _factored_at_one(p: sp.Expr, t: sp.Dummy, s: sp.Expr) -> sp.Expr | None:
    """``p``, a polynomial in t = s that vanishes at 1, factored, with s - 1
    as -sigmoid(-u); None if factoring leaves no such factor."""
    complement = sigmoid(-s.args[0])
    factored = sp.factor(p).xreplace({t - 1: -complement, 1 - t: complement})
    return factored.xreplace({t: s}) if factored.has(complement) else None


def _exponent(term: sp.Expr, t: sp.Dummy) -> sp.Rational | None:
    """k if ``term`` is c * t**k, k rational and c free of t, else None."""
    coefficient, exponent = term.as_coeff_exponent(t)
    return exponent if exponent.is_Rational and not coefficient.has(t) else None
