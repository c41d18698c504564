"""Layer 2, running: the runner, execution backends, the results store, provenance.

Imports ``sim`` and ``experiments.spec``.
"""
