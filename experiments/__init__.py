"""Everything that runs the model many times: experiments, their results on disk, the CLI.

Public API::

    from experiments import run_experiment
    runs = run_experiment("configs/experiments/lhs_screen.yaml", out="results/experiments/lhs", backend="processes")
    runs.groupby("point")["store_village_coverage"].mean()

This package imports ``sim``; ``sim`` never imports it.
"""

from experiments.runner import run_experiment
from experiments.spec import ExperimentSpec, load_spec
from experiments.store import read_runs, read_timeseries

__all__ = ["ExperimentSpec", "load_spec", "read_runs", "read_timeseries", "run_experiment"]
