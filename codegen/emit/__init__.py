"""Stage 3: the analysis model -> Python source text.

``cse`` and ``printer`` turn SymPy into assignments and jax.numpy text; one
emitter per output kind (``activation``, ``axiswise``, ``flax``) renders its
jinja2 templates; ``format`` runs black; ``support.py`` is copied as is.
"""
