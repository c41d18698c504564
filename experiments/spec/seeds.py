"""Every seed of an experiment, spawned from the experiment seed: never by scheduling order.

Seed tree (numpy ``SeedSequence``, entropy = the experiment seed)::

    spawn key (0,)                  the design sampler (LHS, Sobol', Morris)
    spawn key (1, r)                run seed of replicate r at every point (common random numbers)
    spawn key (1, point, r)         run seed of (point, r) when common_random_numbers is false

A run seed is the first 64-bit word of its SeedSequence's state shifted right by one bit
(a non-negative int64, as parquet and the scenario schema want).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def run_seed(experiment_seed: int, point: int, replicate: int, common_random_numbers: bool = True) -> int:
    """The seed of one run, spawned from the experiment seed (see the module docstring)."""
    key = (1, replicate) if common_random_numbers else (1, point, replicate)
    state = np.random.SeedSequence(experiment_seed, spawn_key=key).generate_state(1, dtype=np.uint64)[0]
    return int(state >> np.uint64(1))


def design_rng(experiment_seed: int) -> np.random.Generator:
    """The random stream of the design sampler."""
    return np.random.default_rng(np.random.SeedSequence(experiment_seed, spawn_key=(0,)))


def seed_tree(
    experiment_seed: int, common_random_numbers: bool, replicates: int, runs: Sequence[tuple[int, int, int]]
) -> dict[str, Any]:
    """The seed tree as the manifest records it, so a reader can re-derive every seed.

    Args:
        experiment_seed: The experiment seed (the tree's entropy).
        common_random_numbers: Whether replicate r has the same seed at every point.
        replicates: Runs per design point.
        runs: (point, replicate, seed) of every run, in run order.
    """
    if common_random_numbers:
        tree_runs = [
            {"replicate": r, "spawn_key": [1, r], "seed": run_seed(experiment_seed, 0, r, True)}
            for r in range(replicates)
        ]
    else:
        tree_runs = [
            {"point": point, "replicate": r, "spawn_key": [1, point, r], "seed": seed} for point, r, seed in runs
        ]
    return {
        "entropy": experiment_seed,
        "generator": "numpy.random.SeedSequence",
        "common_random_numbers": common_random_numbers,
        "design": {"spawn_key": [0]},
        "run_seed": "SeedSequence(entropy, spawn_key).generate_state(1, uint64)[0] >> 1",
        "runs": tree_runs,
    }
