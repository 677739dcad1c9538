"""Stage 3: the analysis model -> Python source text.

``cse`` turns SymPy into named assignments; ``backend`` writes them, and any
expression, as jax.numpy text through ``printer``, and keeps the names that
text reads for the module's imports;
``environment`` holds the one jinja2 Environment and the header line;
``constants`` names each Taylor polynomial's coefficients; one emitter per
output kind (``activation`` with ``docstring``, ``axiswise``, ``flax``)
renders its templates; ``format`` runs black; ``support.py`` is copied as is.
"""
