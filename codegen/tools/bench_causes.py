"""What the benchmark report says about the functions it finds slower or
doing more work than jax.nn: measured causes, found in the HLO."""

# More transcendentals than jax.nn's, each for accuracy jax.nn lacks (docs/accuracy.md).
EXTRA_WORK = {
    "mish": "softplus computed without overflow, and tanh(softplus) from one exponential",
    "log1mexp": "log(-expm1(-x)) and log1p(-exp(-x)) by branch, each accurate on its side",
    "glu": (
        "sigmoid(b) * sigmoid(-b), accurate in both tails, as two logistics: from one "
        "exponential, as the element-wise functions take it, XLA's CPU plan of glu's "
        "value_and_grad ran 2-5 times slower"
    ),
}

# Why a gradient is slower than jax.nn's, where it is: found in the HLO.
CAUSES = {
    "silu": (
        "silu' has a zero at x = -1.278 where its two terms cancel; a Taylor polynomial "
        "(10 float32 terms) about it keeps the error within 4 ulps, where jax.nn's is "
        "unbounded (docs/accuracy.md), and a select evaluates it for every element. "
        "Without it the gradient measured 1.07-1.13."
    ),
    "gelu": (
        "as for silu: polynomials about the zeros of gelu' and gelu'', each evaluated "
        "for every element, buy the accuracy near them that jax.nn lacks."
    ),
    "swiglu": "as for silu, which it multiplies: the polynomial about the zero of silu'.",
    "geglu": "as for gelu, which it multiplies: the polynomials about the zeros.",
    "mish": (
        "softplus without overflow, tanh(softplus) and sigmoid from one exponential: five "
        "transcendentals to jax.nn's four, and a polynomial about the zero of mish'."
    ),
    "tanh": (
        "tanh' = 4e/(1 + e)^2 with e = exp(-2|x|) costs an exponential and a division; "
        "jax.nn's 1 - tanh(x)^2 reuses the forward tanh, which XLA computes as a rational "
        "function, but is off by 1.4e7 ulps for |x| above 9."
    ),
    "sigmoid": (
        "sigmoid' = e/(1 + e)^2 from e = exp(-|x|), where jax.nn reuses the forward "
        "logistic in s(1 - s), which loses all accuracy above x = 17."
    ),
    "glu": (
        "a * sigmoid(b) * sigmoid(-b) takes a second logistic where jax.nn's "
        "s * (1 - s) reuses the first, and loses all accuracy above b = 17."
    ),
    "softmax": (
        "a row whose largest entry is not finite (all masked, or all -inf) is shifted by "
        "0, not by NaN: a select, and an extra fusion that shows on small arrays."
    ),
    "log_softmax": "as for softmax: the guard on rows whose largest entry is not finite.",
    "standardize": (
        "measured from 1.02 to 1.67 in runs on this machine. Its gradient does 13 flops "
        "an element to jax.nn's 8: the fast variance clipped at 0, and the clip's step in "
        "the tangent."
    ),
    "squareplus": (
        "the rationalised branch b/(s - x) for x < 0, where jax.nn's x + s cancels (off by "
        "1.4e7 ulps), costs a second division and a select: 11 flops an element to 6."
    ),
}
