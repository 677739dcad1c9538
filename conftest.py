"""Doctests of the Flax modules need the optional Flax dependency."""

import importlib.util

collect_ignore = (
    [] if importlib.util.find_spec("flax") else ["generated/linen.py", "generated/nnx.py"]
)
