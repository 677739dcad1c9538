"""Stage 4: specs -> a generated package, on disk or in memory.

``pipeline`` runs the stages per spec, ``cache`` keeps analyses,
``write`` replaces the output folder atomically, ``stamp`` guards against
hand edits, ``runtime`` builds one formula in memory.
"""
