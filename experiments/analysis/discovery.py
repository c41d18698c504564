"""Scenario discovery: the lever ranges in which the targets are met (or missed), by PRIM.

PRIM (the Patient Rule Induction Method, Friedman and Fisher 1999) peels a box off the
lever space, a little at a time, keeping the part where the cases of interest are
densest, and so traces a trajectory from the whole space (coverage 1, density = the base
rate) to small, pure boxes. Each box is reported with:

* **coverage**: the share of all cases of interest (runs meeting, or missing, the target)
  that fall inside the box;
* **density**: the share of runs inside the box that are cases of interest (the chance of
  meeting, or missing, the target there);
* **mass**: the share of all runs inside the box.

The box chosen from the trajectory is the one with the largest coverage among those whose
density reaches the wanted density, the usual scenario-discovery choice; when none reaches
it, the densest box, flagged as such. The wanted density is the larger of the one asked
for (0.8 by default) and halfway from the base rate to 1, so that a box always says more
than the whole space does (when the plan fails in 90% of runs anyway, a box where it fails
in 80% would say nothing). Restrictions that peeling made by chance are then dropped:
one whose quasi-p-values (Bryant and Lempert 2010, a one-sided binomial test of each
limit) are above :data:`QP_MAX` at both ends is released, as long as the box keeps the
wanted density, so the box names only the levers that matter.

The implementation is the EMA Workbench's (``ema_workbench.analysis.prim``), a
maintained package; it is imported only here, because it is slow to import.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.records import jsonable
from experiments.analysis.threads import one_blas_thread
from sim.errors import InputError

#: Smallest share of runs a box may hold (PRIM's ``mass_min``).
MASS_MIN = 0.05
#: Share of the box peeled off per step (PRIM's ``peel_alpha``, the usual 5%).
PEEL_ALPHA = 0.05
#: PRIM needs a few cases of interest and of the rest to say anything.
MIN_CASES = 2
#: A limit whose quasi-p-value is above this could be chance (Bryant and Lempert 2010).
QP_MAX = 0.05


@dataclass
class Box:
    """One PRIM box.

    Attributes:
        outcome: What was explained (a goal name, or ``all_targets``).
        cases: ``met`` or ``missed``: which runs are the cases of interest.
        limits: Per restricted lever: ``{"min", "max"}`` for numbers, ``{"values"}`` for
            switches and choices; levers not named are unrestricted.
        coverage: Share of the cases of interest inside the box.
        density: Share of the runs inside the box that are cases of interest.
        mass: Share of all runs inside the box.
        runs: Runs inside the box.
        base_rate: Share of cases of interest among all runs (the density of the whole space).
        density_wanted: The density the box was chosen to reach (see the module docstring).
        reached: Whether it reached it.
        p_values: Per restricted lever, the quasi-p-values of its lower and upper limit (a
            small value: the restriction is unlikely to be chance).
        step: Position of the box on the peeling trajectory.
    """

    outcome: str
    cases: str
    limits: dict[str, dict[str, Any]]
    coverage: float
    density: float
    mass: float
    runs: int
    base_rate: float
    density_wanted: float
    reached: bool
    p_values: dict[str, list[float | None]] = field(default_factory=dict)
    step: int = 0

    def describe(self) -> str:
        """The box in one sentence."""
        parts = []
        for lever, lim in self.limits.items():
            if "values" in lim:
                parts.append(f"{lever} in {{{', '.join(map(str, lim['values']))}}}")
            else:
                parts.append(f"{lever} in [{lim['min']:.3g}, {lim['max']:.3g}]")
        where = " and ".join(parts) if parts else "anywhere in the sampled space"
        flag = "" if self.reached else f" (no box reached the wanted {self.density_wanted:.0%}: this is the densest)"
        return (
            f"{self.outcome} {self.cases} in {self.density:.0%} of runs (against {self.base_rate:.0%} overall) "
            f"when {where}; the box holds {self.coverage:.0%} of all runs where it is {self.cases} "
            f"and {self.mass:.0%} of all runs{flag}."
        )

    def to_dict(self) -> dict[str, Any]:
        return jsonable({**asdict(self), "description": self.describe()})


def _prim_module() -> Any:
    with warnings.catch_warnings():
        # the workbench warns at import that optional parallel back-ends are missing
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim  # slow to import (see the module docstring): only here

    return prim


def _inputs(x: pd.DataFrame) -> pd.DataFrame:
    """Lever columns as PRIM takes them: numbers as floats, everything else as categories."""
    out = {}
    for c in x.columns:
        s = x[c]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            out[c] = s.astype(str).astype("category")
        else:
            out[c] = s.astype(float)
    return pd.DataFrame(out).reset_index(drop=True)


def find_box(
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    density: float = 0.8,
    mass_min: float = MASS_MIN,
    outcome: str = "outcome",
    cases: str = "met",
) -> Box | None:
    """The PRIM box of the lever space where ``y`` is true.

    Args:
        x: One row per run, one column per lever (in the levers' own units).
        y: True for the cases of interest (runs meeting, or missing, a target).
        density: The wanted share of cases of interest inside the box.
        mass_min: Smallest share of runs a box may hold.
        outcome: Name of what is explained, for the report.
        cases: ``met`` or ``missed``, for the report.

    Returns:
        The chosen box, or None when there are fewer than two cases of interest or two
        other runs (nothing to separate).

    Raises:
        InputError: ``x`` and ``y`` differ in length, or a setting is out of range.
    """
    y = np.asarray(y, dtype=bool)
    _check(x, y, density, mass_min)
    if y.sum() < MIN_CASES or (~y).sum() < MIN_CASES:
        return None
    inputs = _inputs(x)
    varying = [c for c in inputs.columns if inputs[c].nunique() > 1]
    if not varying:
        return None
    inputs = inputs[varying]
    box = _peel(inputs, y, mass_min)
    if box is None:
        return None
    wanted = max(density, (1 + float(y.mean())) / 2)
    step, reached = _choose(box.peeling_trajectory, wanted)
    step = _drop_chance_limits(box, step, wanted if reached else None)
    row = box.peeling_trajectory.loc[step]
    limits, pvals = _limits(box, step, inputs)
    return Box(
        outcome=outcome,
        cases=cases,
        limits=limits,
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        runs=int(row["n"]),
        base_rate=float(y.mean()),
        density_wanted=float(wanted),
        reached=reached,
        p_values=pvals,
        step=step,
    )


def _check(x: pd.DataFrame, y: np.ndarray, density: float, mass_min: float) -> None:
    if len(y) != len(x):
        raise InputError(f"{len(x)} runs of levers but {len(y)} outcomes", "prim", "y")
    if not 0 < density <= 1:
        raise InputError(f"density must lie in (0, 1] (got {density})", "prim", "density")
    if not 0 < mass_min < 1:
        raise InputError(f"mass_min must lie in (0, 1) (got {mass_min})", "prim", "mass_min")


def _peel(inputs: pd.DataFrame, y: np.ndarray, mass_min: float) -> Any:
    """The workbench's PRIM box of the cases ``y`` (None if it finds none), run quietly."""
    prim = _prim_module()
    logger = logging.getLogger("EMA")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), one_blas_thread():
            warnings.simplefilter("ignore")
            p = prim.Prim(inputs, y.copy(), peel_alpha=PEEL_ALPHA, mass_min=mass_min)
            return p.find_box()
    finally:
        logger.setLevel(level)


def _choose(traj: pd.DataFrame, wanted: float) -> tuple[int, bool]:
    """The trajectory step with the largest coverage among those reaching the wanted density,
    else the densest (see the module docstring); and whether it reached it."""
    good = traj[traj["density"] >= wanted - 1e-12]
    if len(good):
        return int(good.sort_values(["coverage", "density"], ascending=False).index[0]), True
    return int(traj.sort_values(["density", "coverage"], ascending=False).index[0]), False


def _limits(
    box: Any, step: int, inputs: pd.DataFrame
) -> tuple[dict[str, dict[str, Any]], dict[str, list[float | None]]]:
    """The restrictions of trajectory box ``step`` (levers it leaves as they were are not
    named), and their quasi-p-values."""
    lims = box.box_lims[step]
    init = box.box_lims[0]
    limits: dict[str, dict[str, Any]] = {}
    pvals: dict[str, list[float | None]] = {}
    qp = box.p_values[step] if step < len(box.p_values) else {}
    for c in inputs.columns:
        a, b = lims[c].tolist(), init[c].tolist()
        if a == b:
            continue
        if isinstance(inputs[c].dtype, pd.CategoricalDtype):
            limits[c] = {"values": sorted(map(str, a[0]))}
        else:
            limits[c] = {"min": float(a[0]), "max": float(a[1])}
        if c in qp:
            pvals[c] = [None if (v is None or v < 0 or not math.isfinite(v)) else float(v) for v in qp[c]]
    return limits, pvals


def _insignificant(qp: dict[str, list[float]]) -> list[str]:
    """Restricted levers whose limits could be chance, the least significant first."""
    out = []
    for lever, values in qp.items():
        valid = [v for v in values if v is not None and v >= 0 and math.isfinite(v)]
        if all(v > QP_MAX for v in valid):
            out.append((min(valid) if valid else 1.0, lever))
    return [lever for _, lever in sorted(out, reverse=True)]


def _drop_chance_limits(box: Any, step: int, wanted: float | None) -> int:
    """Release the restrictions of trajectory box ``step`` that could be chance (see the
    module docstring); returns the trajectory index of the resulting box."""
    box.select(step)
    current = step
    tried: set[str] = set()
    while True:
        candidates = [u for u in _insignificant(box.p_values[current]) if u not in tried]
        if not candidates:
            return current
        lever = candidates[0]
        tried.add(lever)
        box.drop_restriction(lever, current)
        new = len(box.peeling_trajectory) - 1
        if wanted is not None and box.peeling_trajectory.loc[new, "density"] < wanted - 1e-12:
            box.select(current)
            continue
        current = new


def discover(levers: pd.DataFrame, met: pd.DataFrame, *, density: float = 0.8, mass_min: float = MASS_MIN) -> list[Box]:
    """PRIM boxes where each goal (a column of ``met``: 1 met, 0 missed, NaN unknown) is met
    and where it is missed, over the runs that have a value."""
    boxes = []
    for outcome in met.columns:
        v = met[outcome].to_numpy(dtype=float)
        have = np.isfinite(v)
        for cases, y in (("met", v[have] == 1), ("missed", v[have] == 0)):
            box = find_box(levers[have], y, density=density, mass_min=mass_min, outcome=outcome, cases=cases)
            if box is not None:
                boxes.append(box)
    return boxes
