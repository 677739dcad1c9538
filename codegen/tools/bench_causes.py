"""What the benchmark report says about the functions it finds slower or
doing more work than jax.nn: measured causes, found in the HLO."""

# More transcendentals than jax.nn's, each for accuracy jax.nn lacks (docs/accuracy.md).
EXTRA_WORK = {
    "log1mexp": "log(-expm1(-x)) and log1p(-exp(-x)) by branch, each accurate on its side",
    "glu": (
        "sigmoid(b) * sigmoid(-b), accurate in both tails, as two logistics: from one "
        "exponential, as the element-wise functions take it, XLA's CPU plan of glu's "
        "value_and_grad ran 2-5 times slower"
    ),
    "sparse_plus": (
        "dy/dx is sqrt(y) from its output, which the next layer keeps anyway: one square "
        "root, which XLA counts as a transcendental, for 36 MiB in the MLP to jax.nn's 64. "
        "From x it had none. The 1-D step in 31 pairs: at 65536 elements 1.04 from x, "
        "0.98 and 1.10 in two runs from y; at 4194304, 1.02 from x, 0.83 and 0.81 from y"
    ),
}

# Why a gradient is slower than jax.nn's, where it is: found in the HLO.
CAUSES = {
    "silu": (
        "silu' = sigmoid(x)(1 + x sigmoid(-x)) from e = exp(-|x|): a second exponential "
        "and a division, where jax.nn reuses the forward logistic. The Taylor polynomial "
        "about silu's zero, accurate where jax.nn's error is unbounded, is in the "
        'gradient only with accuracy = "strict": with it the gradient measured 1.5-1.6.'
    ),
    "gelu": (
        "gelu' from e = exp(-|2u|) costs an exponential and a division, where jax.nn "
        "reuses the forward tanh; as for silu, the polynomial about the zero of gelu' "
        'is in the gradient only with accuracy = "strict" (with it: 1.65).'
    ),
    "swiglu": (
        "as for silu, which it multiplies: two transcendentals per x in the gradient to "
        "jax.nn's one, the exponential and division of silu' on top of the forward logistic "
        "that both keep for the gate's partial. It shows most at 65536 elements, where the "
        "step runs from cache. One JVP rule computing silu and silu' from one exp(-|x|) "
        "measured 1.26 at 65536 and 1.13 at 4194304, and planned 192 MiB in the gated MLP "
        "to 132 (one run, 21 pairs)."
    ),
    "geglu": (
        "as for gelu, which it multiplies: two transcendentals per x in the gradient to "
        "jax.nn's one, the exponential and division of gelu' beside the forward tanh, which "
        "jax.nn's gradient reuses. It shows most at 65536 elements, where the step runs "
        "from cache."
    ),
    "mish": (
        "mish' takes one exponential and one division (codegen/analysis/exponential.py), "
        "to jax.nn's four transcendentals; mish itself keeps x*tanh(softplus(x)), three, as "
        "jax.nn's does: from the one exponential too, the MLP planned 12 MiB more."
    ),
    "tanh": (
        "tanh' = 4e/(1 + e)^2 with e = exp(-2|x|) costs an exponential and a division; "
        "jax.nn's 1 - tanh(x)^2 reuses the forward tanh, which XLA computes as a rational "
        "function, but is off by 1.4e7 ulps for |x| above 9: two transcendentals in the step "
        'to one. residual = "output" trades the tail for jax.nn\'s rule.'
    ),
    "sigmoid": (
        "sigmoid' = e/(1 + e)^2 from e = exp(-|x|): the step takes two exponentials, where "
        "jax.nn's s(1 - s) reuses the forward logistic and loses all accuracy above x = 17. "
        "From one exponential for both, XLA's CPU fusion kept e as an array and the step "
        "measured 3.5 times jax.nn's. residual = \"output\" trades the tail for jax.nn's rule."
    ),
    "glu": (
        "a * sigmoid(b) * sigmoid(-b) takes a second logistic where jax.nn's "
        "s * (1 - s) reuses the first, and loses all accuracy above b = 17."
    ),
    "softmax": (
        "not found. A row whose largest entry is not finite (all masked, or all -inf) is "
        "shifted by 0, a select that kept XLA's CPU from fusing the max into the "
        "exponential; without it softmax's gradient took 1.13 to 1.2 times as long (31 "
        "pairs, three runs, 65536 elements), so it keeps it."
    ),
    "log_softmax": (
        "its shift has no guard for rows whose largest entry is not finite, as softmax's "
        "has: without it the gradient took 0.73 to 0.79 of the time with it (31 pairs, "
        "three runs, 65536 elements) and plans as many fusions as jax.nn's."
    ),
    "standardize": (
        "measured from 1.02 to 1.67 in runs on this machine. Its gradient does 13 flops "
        "an element to jax.nn's 8: the fast variance clipped at 0, and the clip's step in "
        "the tangent."
    ),
    "squareplus": (
        "the rationalised branch b/(s - x) for x < 0, where jax.nn's x + s cancels (off by "
        "1.4e7 ulps), costs a division and a select, and dy/dx from y, 1/(1 + b/(4y**2)), "
        "two more divisions: 16 flops an element to 7 in the gradient, each with one square "
        "root. In the step XLA counts 18 flops and 28 bytes an element to jax.nn's 11 and "
        "44: the backward pass reads only y, which the next layer keeps anyway."
    ),
    "softplus": (
        "XLA's cost analysis counts less work in ours: 11 flops, 3 transcendentals and 28 "
        "bytes an element in the step, to 14, 3 and 32. The MLP's step, below, is the "
        "measure in a network's shape."
    ),
}

# Why XLA plans more temp memory for ours than for jax.nn's, where it does.
MEMORY_CAUSES = {
    "sigmoid": (
        'keeps dy/dx, one array a layer, for its tails; with residual = "output" it '
        "keeps y as jax.nn does, which the next layer keeps anyway, and plans 36 MiB in "
        "float32 and 56 in bfloat16, as jax.nn's."
    ),
    "tanh": 'as for sigmoid: with residual = "output", 36 and 56 MiB, as jax.nn\'s.',
    "identity": "plain autodiff of x itself plans the same 40 MiB: XLA's plan, not the rule.",
    "log1mexp": (
        "2 MiB is one 4096 by 256 bfloat16 array. Both keep one array a layer; ours "
        "computes in float32 for its accuracy, jax.nn's in bfloat16. Not analysed further."
    ),
}

# Why ours plans the same temp memory as jax.nn's where jax.nn keeps more
# than one array in one application (the benchmark's kept column).
LEVEL_CAUSES = {
    "hard_tanh": (
        "dy/dx is 1 at x = 1 and -1, as jax.nn's, where y is 1 and -1 as on the flat "
        "branches, so it is computed from x. A hand-written rule from y, jnp.where(|y| < 1, "
        "g, 0), planned the same 64, 58 and 16 MiB: the plan is XLA's, not the kept array."
    ),
    "softplus": (
        "both plan 7 arrays of 16 MiB, one a layer: the chain's own intermediate values, "
        "from which ours computes dy/dx. jax.nn's second array is fused away in the chain."
    ),
    "log_sigmoid": "as for softplus: 7 arrays of 16 MiB in both, one a layer.",
    "reglu": (
        "x * gate alone, with no activation, plans 100 MiB: the two halves a product "
        "keeps are the floor for any gated function, and both are 4 MiB above it."
    ),
    "tanh": (
        "ours keeps dy/dx for its tails, as sigmoid's does (above); in bfloat16 XLA "
        "plans the same 56 MiB for that as for jax.nn's rule from y."
    ),
}
