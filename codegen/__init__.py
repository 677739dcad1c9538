"""symjvp's generator: activation specs -> JAX functions with closed-form JVPs.

The pipeline, one module a stage: spec -> model -> derive (with stabilise and
lower) -> emit (through cse and printer) -> format -> write.
"""
