"""Layer 6, the command line: ``countysim run | experiment | analyze | calibrate | report | viz | ...``."""

from experiments.cli.main import main

__all__ = ["main"]
