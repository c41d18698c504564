"""Designs: which lever settings an experiment runs.

``list`` zips the levers' value lists; ``grid`` takes their full product; ``lhs`` (SciPy's
Latin hypercube), ``sobol`` (SALib's Saltelli/Sobol' sampler), ``morris`` (SALib's
trajectories) and ``efast`` (SALib's eFAST search curves) sample the unit hypercube, which each lever then maps to its own values.
The samplers come from the libraries that analyse their output, so a design written
here can be analysed by SALib without reordering; the unit matrix and SALib "problem"
are kept with the results for that purpose.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from experiments.spec.levers import Lever
from experiments.spec.methods import EFAST_HARMONICS, EFAST_MIN

Method = Literal["list", "grid", "lhs", "sobol", "morris", "efast"]
METHODS: tuple[str, ...] = ("list", "grid", "lhs", "sobol", "morris", "efast")
SAMPLING = ("lhs", "sobol", "morris", "efast")


class Design(BaseModel):
    """How design points are chosen.

    Attributes:
        method: list | grid | lhs | sobol | morris | efast.
        samples: lhs: number of points; sobol: base sample size N (a power of 2; SALib
            runs N·(2k+2) points with second-order indices, N·(k+2) without); morris:
            number of trajectories (each of k+1 points); efast: points per lever's search
            curve (above 64; N·k points in all).
        second_order: sobol: also sample for second-order indices.
        levels: morris: grid levels per lever (even).
        optimal_trajectories: morris: pick this many well-spread trajectories out of
            ``samples`` candidates (Campolongo's method).
        optimization: lhs: SciPy's optional space-filling optimisation.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Method
    samples: int | None = Field(None, ge=1, le=10_000_000)
    second_order: bool = True
    levels: int = Field(4, ge=2, le=1000)
    optimal_trajectories: int | None = Field(None, ge=2)
    optimization: Literal["random-cd", "lloyd"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # "design: grid" is short for "design: {method: grid}"
        return {"method": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _check(self) -> Design:
        m = self.method
        if m in SAMPLING and self.samples is None:
            raise ValueError(f"the {m} design needs samples")
        if m not in SAMPLING and self.samples is not None:
            raise ValueError(f"samples applies to lhs, sobol, morris and efast, not to {m}")
        if m == "sobol" and self.samples is not None and self.samples & (self.samples - 1):
            lo = 1 << (self.samples.bit_length() - 1)
            raise ValueError(
                f"Sobol' sequences need samples to be a power of 2 (got {self.samples}; try {lo} or {2 * lo})"
            )
        if m == "efast" and self.samples is not None and self.samples < EFAST_MIN:
            raise ValueError(
                f"eFAST needs samples above 4·M² = {EFAST_MIN - 1} points per lever with M = "
                f"{EFAST_HARMONICS} harmonics (got {self.samples}; try {EFAST_MIN} or more)"
            )
        if m == "morris" and self.levels % 2:
            raise ValueError(f"morris needs an even number of levels (got {self.levels})")
        if self.optimal_trajectories is not None:
            if m != "morris":
                raise ValueError("optimal_trajectories applies only to morris")
            if self.samples is not None and self.optimal_trajectories >= self.samples:
                raise ValueError("optimal_trajectories must be smaller than samples (the candidate trajectories)")
        if self.optimization is not None and m != "lhs":
            raise ValueError("optimization applies only to lhs")
        return self


@dataclass
class DesignPoints:
    """The lever settings of every design point, in run order.

    Attributes:
        values: One dict per point: lever path → value.
        unit: For sampling designs, the (points × levers) matrix of unit coordinates.
        problem: For sampling designs, the SALib problem the matrix was drawn for
            (unit bounds; each lever maps unit coordinates to its values).
    """

    values: list[dict[str, Any]]
    unit: np.ndarray | None = None
    problem: dict[str, Any] | None = field(default=None)


def sample(design: Design, levers: list[Lever], rng: np.random.Generator) -> DesignPoints:
    """The design points of ``design`` over ``levers``.

    Args:
        design: The design.
        levers: The levers, in spec order (the order of the unit matrix's columns).
        rng: Random generator for the samplers (from the experiment's seed tree).

    Raises:
        ValueError: The levers do not suit the design (the message says why).
    """
    if design.method == "list":
        return _zipped(levers)
    if design.method == "grid":
        paths = [lv.path for lv in levers]
        cols = [lv.grid_values() for lv in levers]
        return DesignPoints([dict(zip(paths, row, strict=True)) for row in itertools.product(*cols)])
    return _sampled(design, levers, rng)


def _zipped(levers: list[Lever]) -> DesignPoints:
    """The list design: the i-th point takes the i-th value of every lever."""
    if not levers:
        return DesignPoints([{}])
    paths = [lv.path for lv in levers]
    lengths = {lv.path: len(lv.values) if lv.values is not None else None for lv in levers}
    if any(n is None for n in lengths.values()):
        bad = [p for p, n in lengths.items() if n is None]
        raise ValueError(f"the list design needs values for every lever ({', '.join(bad)} have none)")
    if len(set(lengths.values())) != 1:
        raise ValueError(
            "the list design pairs the i-th values of every lever, so all value lists need the same length "
            f"(got {', '.join(f'{p}: {n}' for p, n in lengths.items())})"
        )
    cols = [lv.values for lv in levers]
    return DesignPoints([dict(zip(paths, row, strict=True)) for row in zip(*cols, strict=True)])  # type: ignore[arg-type]


def _sampled(design: Design, levers: list[Lever], rng: np.random.Generator) -> DesignPoints:
    """A sampling design: unit-hypercube points from its sampler, mapped by each lever to its values."""
    m = design.method
    if not levers:
        raise ValueError(f"the {m} design needs at least one lever")
    paths = [lv.path for lv in levers]
    k = len(levers)
    problem = {"num_vars": k, "names": paths, "bounds": [[0.0, 1.0]] * k}
    assert design.samples is not None
    unit = np.asarray(_unit_sample(design, levers, problem, rng), dtype=float)
    columns = [lv.from_unit(unit[:, j]) for j, lv in enumerate(levers)]
    values = [dict(zip(paths, row, strict=True)) for row in zip(*columns, strict=True)]
    return DesignPoints(values, unit=unit, problem=problem)


def _unit_sample(design: Design, levers: list[Lever], problem: dict[str, Any], rng: np.random.Generator) -> Any:
    """The (points × levers) unit matrix drawn by the design's sampler (SciPy's LHS or SALib's)."""
    m = design.method
    # scipy.stats (~0.4 s to import) and SALib's samplers (which import it) load only when a design samples
    if m == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=len(levers), optimization=design.optimization, rng=rng).random(design.samples)
    if m == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, design.samples, calc_second_order=design.second_order, scramble=True, seed=rng)
    if m == "efast":
        from SALib.sample import fast_sampler

        return fast_sampler.sample(problem, design.samples, M=EFAST_HARMONICS, seed=rng)
    from SALib.sample import morris

    unbounded = [lv.path for lv in levers if not lv.bounded()]
    if unbounded:
        raise ValueError(
            f"morris samples the ends of every lever's range, but {', '.join(unbounded)} "
            "have unbounded distributions; give them low and high"
        )
    return morris.sample(
        problem,
        design.samples,
        num_levels=design.levels,
        optimal_trajectories=design.optimal_trajectories,
        local_optimization=True,
        seed=rng,
    )
