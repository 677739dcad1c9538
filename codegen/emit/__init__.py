"""Stage 3: the analysis model -> Python source text.

``cse`` and ``printer`` turn SymPy into assignments and jax.numpy text;
``environment`` holds the one jinja2 Environment and the header line;
``constants`` names each Taylor polynomial's coefficients; one emitter per
output kind (``activation`` with ``docstring``, ``axiswise``, ``flax``)
renders its templates; ``format`` runs black; ``support.py`` is copied as is.
"""
