"""Numbers for every stage: the primitives the formulas are written in, and how
they are evaluated (exactly by mpmath, in float32 and float64 by NumPy) and scored
(errors in float32 ulps).
"""
