"""Every exported function on an input sharded over 8 host devices.

Run by tests/test_sharding.py in a process of its own, started with
XLA_FLAGS=--xla_force_host_platform_device_count=8: the flag must be set
before JAX starts.  It exits non-zero, saying which function and which
check, if a sharded result differs from the unsharded one.
"""

import inspect
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import generated

ROWS, COLUMNS = 16, 128
RTOL = 1e-5  # a reduction over shards may add in another order


def functions() -> dict[str, object]:
    """Each function once, under its own name (aliases left out); a gated
    one with its gate made from the same sharded input, cos(x)."""
    unique = {}
    for name in generated.__all__:
        function = getattr(generated, name)
        unique.setdefault(id(function), (name, gated(function)))
    return dict(unique.values())


def gated(function):
    parameters = inspect.signature(function).parameters.values()
    gates = [p for p in parameters if p.default is inspect.Parameter.empty][1:]
    if not gates:
        return function
    return lambda x: function(x, *[jnp.cos(x)] * len(gates))


def axis_wise(function) -> bool:
    return "axis" in inspect.signature(function).parameters


def close(actual, expected, what: str) -> None:
    np.testing.assert_allclose(
        np.asarray(actual), np.asarray(expected), rtol=RTOL, atol=1e-6, err_msg=what
    )


def check(name: str, function, x: jax.Array, sharded: jax.Array, label: str) -> None:
    value = jax.jit(function)(sharded)
    close(value, function(x), f"{name}, {label}: value")
    summed = jax.jit(jax.grad(lambda v: function(v).sum()))
    gradient = summed(sharded)
    close(gradient, jax.grad(lambda v: function(v).sum())(x), f"{name}, {label}: gradient")
    # A gradient that does not depend on x (identity's ones) may come back
    # replicated, as jax.nn's does; a value must keep the input's layout.
    if not axis_wise(function) and not value.sharding.is_equivalent_to(sharded.sharding, x.ndim):
        raise AssertionError(f"{name}, {label}: the value lost the input's sharding")


def main() -> int:
    devices = jax.devices()
    if len(devices) != 8:
        print(f"expected 8 devices, found {len(devices)}: set XLA_FLAGS", file=sys.stderr)
        return 2
    mesh = Mesh(np.array(devices), ("d",))
    # Outside a domain (log1mexp's x > 0) both sides give NaN, which compare equal.
    x = jnp.asarray(np.random.default_rng(0).normal(0.0, 3.0, (ROWS, COLUMNS)), jnp.float32)
    layouts = {
        "rows sharded, axis -1 not": P("d", None),
        "axis -1 sharded": P(None, "d"),
    }
    checked = 0
    for name, function in sorted(functions().items()):
        for label, spec in layouts.items():
            check(name, function, x, jax.device_put(x, NamedSharding(mesh, spec)), label)
            checked += 1
    print(f"checked {checked} sharded calls of {len(functions())} functions on 8 devices")
    return 0


if __name__ == "__main__":
    sys.exit(main())
