"""symjvp's generator: activation specs -> JAX functions with closed-form JVPs.

The pipeline, one module a stage: spec (with parse) -> model -> derive (with
stabilise, search, series and lower; axiswise for specs that reduce along an
axis) -> emit (through cse and printer; emit_axiswise, emit_flax) -> format ->
write.  ``accuracy`` scores the result against mpmath, ``bench`` times it
against jax.nn, and ``reference`` gives the plain-autodiff baseline.
"""


def __getattr__(name: str):
    # Imported on first use: the command line starts without SymPy.
    if name == "activation":
        from codegen.runtime import activation

        return activation
    raise AttributeError(f"module 'codegen' has no attribute {name!r}")
