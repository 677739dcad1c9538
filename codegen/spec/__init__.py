"""Stage 1: spec files -> validated :class:`~codegen.spec.model.Spec` objects.

``load`` reads and checks the TOML, ``parse`` the formula, ``axis`` the tables
of axis-wise specs, ``domain`` infers where a formula is real.
"""
