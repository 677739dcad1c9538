"""symjvp's generator: activation specs -> JAX functions with closed-form JVPs.

One subpackage a stage, imports flowing one way: ``numerics`` (primitives,
evaluation) -> ``spec`` -> ``analysis`` -> ``emit`` -> ``build`` -> ``tools``.
"""


def __getattr__(name: str):
    # Imported on first use: the command line starts without SymPy.
    if name == "activation":
        from codegen.build.runtime import activation

        return activation
    raise AttributeError(f"module 'codegen' has no attribute {name!r}")
