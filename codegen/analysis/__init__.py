"""Stage 2: a Spec -> the analysis model (:mod:`codegen.analysis.model`).

``derive`` differentiates; ``stabilise`` and ``differences`` rewrite into stable
forms; ``search`` picks the most accurate form; ``series`` and ``tails`` add
regimes; ``lower`` turns Piecewise into selects; ``axiswise`` handles specs
that reduce along an axis.  ``budget`` bounds the time one spec may take.
"""
