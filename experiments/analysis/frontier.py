"""What meeting the targets costs: design points, their Pareto front of fiscal cost against
each target indicator, and the cheapest point that meets every target often enough.

* :func:`point_table`: one row per design point (its lever values, the mean of the
  metrics over its finished runs, and the share of its runs meeting every goal);
* :func:`pareto_front`: the points no other point beats on cost and outcome together;
* :func:`frontier`: those points per goal, in the direction the goal wants;
* :func:`cheapest`: the cheapest point whose runs meet every goal with a chosen probability.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.attainment import ALL_GOALS, Goal

#: Indicators whose end values add up to the fiscal cost (sim.policy.evaluation's definition:
#: subsidy that reached its purpose plus leaked funds not clawed back).
COST_INDICATORS = ("subsidy_spent", "funds_leaked")


def pareto_front(cost: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Mask of the points no other point beats: none costs less (or the same) and achieves
    more (or the same), with at least one strictly better."""
    cost = np.asarray(cost, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    order = np.lexsort((-outcome, cost))  # by cost, then best outcome first
    mask = np.zeros(len(cost), dtype=bool)
    best = -np.inf
    for i in order:
        if outcome[i] > best:
            mask[i] = True
            best = outcome[i]
    return mask


def point_table(
    runs: pd.DataFrame, levers: list[str], columns: list[str], met: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Design points: lever values, the mean of ``columns`` over their finished runs, the
    number of runs, and (with ``met``) the share of runs meeting every goal."""
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    keys = [c for c in ("base", "point") if c in ok.columns] or ["point"]
    frame = ok[keys + levers + columns].copy()
    if met is not None and ALL_GOALS in met.columns:
        frame["p_all_targets"] = met.loc[ok.index, ALL_GOALS]
    agg: dict[str, Any] = {lv: "first" for lv in levers}
    agg.update({c: "mean" for c in columns})
    if "p_all_targets" in frame.columns:
        agg["p_all_targets"] = "mean"
    out = frame.groupby(keys, sort=True).agg(agg)
    out["runs"] = frame.groupby(keys, sort=True).size()
    return out.reset_index()


def frontier(points: pd.DataFrame, cost: str, goals: list[Goal]) -> pd.DataFrame:
    """The points on the Pareto front of cost against each goal's column: no other point
    costs as little or less and does as well or better (the direction the goal wants).

    Returns:
        One row per goal and frontier point: goal, column, cost, value, then the point's
        keys, levers and runs; sorted by goal and cost.
    """
    rows = []
    for g in goals:
        sub = points.dropna(subset=[cost, g.column])
        if sub.empty:
            continue
        value = sub[g.column].to_numpy(dtype=float)
        mask = pareto_front(sub[cost].to_numpy(dtype=float), value if g.better == "max" else -value)
        front = sub[mask].copy()
        front.insert(0, "value", front[g.column])
        front.insert(0, "cost", front[cost])
        front.insert(0, "column", g.column)
        front.insert(0, "goal", g.name)
        rows.append(front.sort_values("cost"))
    if not rows:
        return pd.DataFrame(columns=["goal", "column", "cost", "value"])
    out = pd.concat(rows, ignore_index=True)
    drop = [c for g in goals for c in [g.column] if c in out.columns] + ([cost] if cost in out.columns else [])
    return out.drop(columns=list(dict.fromkeys(drop)))


def cheapest(points: pd.DataFrame, cost: str, probability: float) -> dict[str, Any] | None:
    """The cheapest point whose runs meet every goal with at least ``probability`` (share
    of its replicates), or None when no point does."""
    if "p_all_targets" not in points.columns:
        return None
    ok = points[(points["p_all_targets"] >= probability) & points[cost].notna()]
    if ok.empty:
        return None
    best = ok.sort_values([cost, "p_all_targets"], ascending=[True, False]).iloc[0]
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in best.to_dict().items()}
