"""Layer 5, the nation: the county ensemble's national table and projection, and calibration.

Built on the layers before it: a national experiment is a spec with an ``ensemble``
section, run by the runner, its figures drawn by ``experiments.report``.
"""
