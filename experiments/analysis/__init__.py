"""Layer 3, reading results: sensitivity (SALib), target attainment, scenario discovery (PRIM).

Imports ``sim``, ``experiments.spec`` and ``experiments.run``; draws nothing.
"""
