"""symjvp's generator: activation specs -> JAX functions with closed-form JVPs.

The pipeline, one module a stage: spec (with parse) -> model -> derive (with
stabilise, search and lower) -> emit (through cse and printer) -> format ->
write.  ``accuracy`` scores the result against mpmath; ``reference`` gives
the plain-autodiff baseline.
"""
