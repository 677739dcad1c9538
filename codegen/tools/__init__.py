"""Stage 5: what users run on top of the pipeline.

``cli`` (the ``symjvp`` command), ``scaffold`` (``symjvp new``), ``describe``,
``docs`` and ``plots``; ``accuracy`` and ``bench`` write the reports;
``reference`` is the plain-autodiff baseline the tests compare against.
"""
