"""Layer 4, showing results: figures and the one-page HTML report.

Imports the layers before it (spec, run, analysis); nothing below imports it.
"""
