"""Everything that runs the model many times: experiments, their results on disk, the CLI.

Public API::

    from experiments import run_experiment
    runs = run_experiment("configs/experiments/lhs_screen.yaml", out="results/experiments/lhs", backend="processes")
    runs.groupby("point")["store_village_coverage"].mean()

    from experiments import analyze, analyze_experiment
    analyze_experiment("results/experiments/sobol_levers")   # indices, attainment, PRIM, frontier
    analyze(lambda p: p["a"] + 2 * p["b"], {"a": (0, 1), "b": (0, 1)}, method="sobol", n=1024)

This package imports ``sim``; ``sim`` never imports it.
"""

from experiments.analysis.function import analyze
from experiments.report.experiment_analysis import analyze_experiment
from experiments.run.runner import run_experiment
from experiments.run.store import read_runs, read_timeseries
from experiments.spec.experiment import ExperimentSpec, load_spec

__all__ = [
    "ExperimentSpec",
    "analyze",
    "analyze_experiment",
    "load_spec",
    "read_runs",
    "read_timeseries",
    "run_experiment",
]
