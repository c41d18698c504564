"""Figures: the county map, indicator series against the plan's 2025 lines, channel shares,
farm sales, lever sweeps, sensitivity indices, target attainment, tiers and cost-effectiveness.

Plots read the model's public state, a run's series or an experiment's tables; they hold no
model logic. Markers, hatches and line styles differ as well as colours, so every figure
stays readable when printed in grayscale. Labels are in English with the Chinese term where
the plan has one, so a CJK font is registered at import (see :func:`configure_fonts`).

This module draws the figures of experiments (lever heat maps, sensitivity bars, attainment
curves, tiers, the cost frontier) and is the one place notebooks and scripts take every
figure from (``from experiments.report import plots``): the shared style is in
:mod:`experiments.report.style`, the plan's reference lines in
:mod:`experiments.report.plan_lines`, the maps in :mod:`experiments.report.maps` and a
run's other figures in :mod:`experiments.report.run_plots`, each re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from experiments.analysis.frontier import pareto_front
from experiments.report.maps import ROAD_STYLE, county_map, logistics_map
from experiments.report.plan_lines import (
    PHASE_SHADES,
    TARGET_STYLE,
    TargetLine,
    plan_phases,
    shade_phases,
    target_lines,
)
from experiments.report.run_plots import (
    CHANNELS,
    FARM_CHANNEL_COLUMNS,
    PLAN_SERIES,
    channel_shares,
    farm_sales,
    indicator_series,
    run_figures,
    timeseries,
)
from experiments.report.style import BUNDLED_CJK, CJK_FAMILIES, CJK_FAMILY, configure_fonts, label, save
from sim.policy.indicators import BY_NAME
from sim.policy.tiers import TIER_LABELS, Tier

__all__ = [
    "BUNDLED_CJK",
    "CHANNELS",
    "CJK_FAMILIES",
    "CJK_FAMILY",
    "FARM_CHANNEL_COLUMNS",
    "LINESTYLES",
    "MARKERS",
    "PHASE_SHADES",
    "PLAN_SERIES",
    "ROAD_STYLE",
    "SENSITIVITY_COLUMNS",
    "TARGET_STYLE",
    "TIER_STYLE",
    "TargetLine",
    "attainment_curve",
    "channel_shares",
    "configure_fonts",
    "cost_frontier",
    "county_map",
    "farm_sales",
    "indicator_series",
    "label",
    "lever_heatmap",
    "lever_levels",
    "logistics_map",
    "pareto_front",
    "plan_phases",
    "run_figures",
    "save",
    "sensitivity_bars",
    "shade_phases",
    "target_lines",
    "tier_distribution",
    "timeseries",
    "wilson_interval",
]

# --- experiments: sweeps, sensitivity, attainment, tiers, frontier ---------------------------


def _ok(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] == "ok"] if "status" in runs.columns else runs


def lever_levels(values: pd.Series, max_levels: int = 8) -> pd.Series:
    """A lever's values as plot levels: themselves when few (a grid), else equal-width bins
    labelled by their midpoints (a sampling design such as LHS or Sobol)."""
    if values.nunique() <= max_levels or not pd.api.types.is_numeric_dtype(values) or values.dtype == bool:
        return values
    binned = pd.cut(values.astype(float), bins=max_levels)
    return binned.map(lambda iv: float(iv.mid)).astype(float)


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{v:.3g}"
    return str(v)


def lever_heatmap(
    runs: pd.DataFrame, x: str, y: str, metric: str, agg: str = "mean", max_levels: int = 8
) -> plt.Figure:
    """A metric over two levers: each cell is the ``agg`` of the metric over its runs.

    Cells carry their value as text, so the map reads without colour. Levers sampled
    continuously are binned (see :func:`lever_levels`).

    Args:
        runs: An experiment's runs table (failed runs are ignored).
        x, y: Lever columns.
        metric: Metric column.
        agg: Aggregation over the runs in a cell (``mean``, ``median``, ...).
        max_levels: Bins per lever for continuous designs.
    """
    ok = _ok(runs)
    for c in (x, y, metric):
        if c not in ok.columns:
            raise ValueError(f"the runs table has no column '{c}'")
    frame = pd.DataFrame(
        {"x": lever_levels(ok[x], max_levels), "y": lever_levels(ok[y], max_levels), "m": ok[metric].astype(float)}
    )
    table = frame.pivot_table(index="y", columns="x", values="m", aggfunc=agg, observed=True).sort_index(
        ascending=False
    )
    counts = frame.groupby(["y", "x"], observed=True).size()
    fig, ax = plt.subplots(figsize=(1.1 * table.shape[1] + 3.2, 0.7 * table.shape[0] + 2.2))
    data = table.to_numpy(dtype=float)
    im = ax.imshow(data, cmap="Greys", aspect="auto")
    finite = data[np.isfinite(data)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            if np.isfinite(data[i, j]):
                ax.text(
                    j,
                    i,
                    _fmt(data[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if data[i, j] > mid else "black",
                )
    ax.set_xticks(range(table.shape[1]), [_fmt(v) for v in table.columns], fontsize=8)
    ax.set_yticks(range(table.shape[0]), [_fmt(v) for v in table.index], fontsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    unit = BY_NAME[metric].summary_unit if metric in BY_NAME else ""
    fig.colorbar(im, ax=ax, label=f"{agg} {unit}".strip())
    ax.set_title(f"{label(metric)}\n{agg} of {int(counts.min())}-{int(counts.max())} runs per cell", fontsize=9)
    fig.tight_layout()
    return fig


SENSITIVITY_COLUMNS = ("metric", "parameter", "S1", "S1_conf", "ST", "ST_conf")


def sensitivity_bars(table: pd.DataFrame, metrics: Sequence[str] | None = None) -> plt.Figure:
    """First-order (S1) and total (ST) Sobol indices per lever with their confidence intervals.

    Args:
        table: Columns ``metric, parameter, S1, S1_conf, ST, ST_conf`` (one row per metric and
            lever; ``*_conf`` is the half-width of the confidence interval, as SALib reports it).
        metrics: Metrics to show, one panel each (default: all in the table).
    """
    missing = [c for c in SENSITIVITY_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"the sensitivity table lacks columns {missing}")
    metrics = list(metrics or dict.fromkeys(table["metric"]))
    params = list(dict.fromkeys(table["parameter"]))
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(4.2 * len(metrics) + 1.5, 0.45 * len(params) + 1.8), sharey=True, squeeze=False
    )
    for ax, metric in zip(axes.flat, metrics, strict=True):
        sub = table[table["metric"] == metric].set_index("parameter").reindex(params)
        ypos = np.arange(len(params))
        h = 0.38
        ax.barh(
            ypos - h / 2,
            sub["S1"],
            height=h,
            xerr=sub["S1_conf"],
            color="white",
            edgecolor="black",
            hatch="//",
            capsize=2.5,
            label="first order S1",
        )
        ax.barh(
            ypos + h / 2,
            sub["ST"],
            height=h,
            xerr=sub["ST_conf"],
            color="0.45",
            edgecolor="black",
            capsize=2.5,
            label="total ST",
        )
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(ypos, params, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(label(metric), fontsize=8.5)
        ax.set_xlabel("Sobol index (bars: confidence interval)", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.suptitle("Which levers matter: global sensitivity (敏感性分析)", fontsize=10)
    fig.tight_layout()
    return fig


def wilson_interval(successes: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial share: honest near 0 and 1, where attainment
    shares of a few replicates usually sit."""
    n = np.asarray(n, dtype=float)
    p = np.divide(successes, n, out=np.zeros_like(n), where=n > 0)
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.")


def attainment_curve(
    runs: pd.DataFrame,
    lever: str,
    metric: str,
    threshold: float,
    op: str = ">=",
    by: str | None = None,
    max_levels: int = 8,
) -> plt.Figure:
    """Probability of meeting a target against a lever: the share of runs (replicates and
    other levers' settings) whose metric meets the threshold, with 95% Wilson intervals.

    Args:
        runs: An experiment's runs table (failed runs are ignored).
        lever: Lever column on the x axis (binned when sampled continuously).
        metric: Metric column.
        threshold: The target value.
        op: ``>=`` or ``<=``.
        by: Optional second lever: one curve per value (binned likewise).
        max_levels: Bins for continuous levers.
    """
    ok = _ok(runs)
    for c in (lever, metric, *([by] if by else [])):
        if c not in ok.columns:
            raise ValueError(f"the runs table has no column '{c}'")
    values = ok[metric].astype(float)
    met = values >= threshold if op == ">=" else values <= threshold
    frame = pd.DataFrame({"x": lever_levels(ok[lever], max_levels), "met": met.astype(float)})
    frame["g"] = lever_levels(ok[by], max_levels) if by else "all runs"
    fig, ax = plt.subplots(figsize=(7, 4.3))
    n_groups = frame["g"].nunique()
    xvals = frame["x"].astype(float)
    # curves that coincide stay distinguishable: each group is shifted by a sliver of the x range
    dodge = 0.012 * float(xvals.max() - xvals.min() or 1.0)
    for k, (g, sub) in enumerate(frame.groupby("g", observed=True, sort=True)):
        stats = sub.groupby("x", observed=True)["met"].agg(["sum", "count"]).sort_index()
        xs = stats.index.to_numpy(dtype=float) + dodge * (k - (n_groups - 1) / 2)
        p = (stats["sum"] / stats["count"]).to_numpy()
        lo, hi = wilson_interval(stats["sum"].to_numpy(), stats["count"].to_numpy())
        name = f"{by} = {_fmt(g)}" if by else str(g)
        ax.errorbar(
            xs,
            p,
            yerr=[np.maximum(p - lo, 0.0), np.maximum(hi - p, 0.0)],  # rounding can put p a hair outside
            marker=MARKERS[k % len(MARKERS)],
            ls=LINESTYLES[k % len(LINESTYLES)],
            color=str(0.6 * k / max(1, n_groups - 1)),
            mfc="white" if k % 2 else None,
            capsize=3,
            label=name,
        )
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(lever)
    ax.set_ylabel(f"P({metric} {op} {threshold:g})")
    ax.set_title(f"Attainment: {label(metric)} {op} {threshold:g}", fontsize=9.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


#: Bar colour and hatch of each tier, in stacking order from the bottom (names from sim.policy.tiers).
TIER_STYLE: dict[Tier, tuple[str, str]] = {
    Tier.ADVANCED: ("0.1", "xx"),
    Tier.ENHANCED: ("0.4", "//"),
    Tier.BASIC: ("0.7", ".."),
    Tier.NONE: ("white", ""),
}


def tier_distribution(shares: pd.DataFrame, basic_target: float | None = 0.9) -> plt.Figure:
    """The national distribution of county tiers by year, with the 90%-at-basic line.

    Args:
        shares: One row per year (index), one column per tier, named ``none, basic, enhanced,
            advanced`` or numbered 0-3 (the ``county_tier`` code); shares or counts (each row
            is normalised to 1).
        basic_target: The plan's share of counties at basic or above by 2025 (None: no line).
    """
    by_code = TIER_LABELS
    frame = shares.rename(columns=lambda c: by_code.get(c, c) if not isinstance(c, str) else c.lower())
    unknown = [c for c in frame.columns if c not in by_code.values()]
    if unknown:
        raise ValueError(f"unknown tier columns {unknown}; use none, basic, enhanced, advanced or 0-3")
    frame = frame.reindex(columns=[t.label for t in TIER_STYLE]).fillna(0.0).astype(float)
    totals = frame.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError("every year needs a positive total")
    frame = frame.div(totals, axis=0)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(frame) + 3), 4.5))
    x = np.arange(len(frame))
    bottom = np.zeros(len(frame))
    for tier, (color, hatch) in TIER_STYLE.items():
        name, zh = tier.label, tier.zh
        vals = frame[name].to_numpy()
        ax.bar(x, vals, bottom=bottom, color=color, hatch=hatch, edgecolor="black", lw=0.5, label=f"{name} ({zh})")
        for xi, b, v in zip(x, bottom, vals, strict=True):
            if v >= 0.06:
                ax.text(
                    xi,
                    b + v / 2,
                    f"{v:.0%}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    bbox={"fc": "white", "lw": 0, "pad": 1},
                )
        bottom += vals
    if basic_target is not None:
        ax.axhline(
            basic_target, color="black", ls="--", lw=1.2, label=f"2025 target: {basic_target:.0%} at basic or above"
        )
    ax.set_xticks(x, [str(i) for i in frame.index])
    ax.set_ylim(0, 1.0)
    ax.set_ylabel("share of counties")
    ax.set_xlabel("year")
    ax.set_title("County tiers nationwide (县域商业建设分级)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def cost_frontier(
    points: pd.DataFrame, cost: str, outcome: str, label_col: str | None = None, cost_scale: float = 1e6
) -> plt.Figure:
    """Cost against outcome for policy packages, with the cost-effectiveness (Pareto) frontier.

    Args:
        points: One row per package (e.g. design points averaged over replicates).
        cost: Cost column (yuan); plotted in units of ``cost_scale``.
        outcome: Outcome column (more is better).
        label_col: Column naming each package, written next to frontier points.
        cost_scale: Divisor for the cost axis (default million yuan).
    """
    for c in (cost, outcome, *([label_col] if label_col else [])):
        if c not in points.columns:
            raise ValueError(f"no column '{c}'")
    df = points.dropna(subset=[cost, outcome])
    c = df[cost].to_numpy(dtype=float) / cost_scale
    o = df[outcome].to_numpy(dtype=float)
    front = pareto_front(c, o)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ax.scatter(c[~front], o[~front], marker="o", facecolors="white", edgecolors="0.4", s=28, label="dominated package")
    order = np.argsort(c[front])
    ax.step(c[front][order], o[front][order], where="post", color="black", lw=1.2)
    ax.scatter(c[front], o[front], marker="s", color="black", s=36, zorder=3, label="frontier (帕累托前沿)")
    if label_col:
        for xi, yi, text in zip(c[front], o[front], df[label_col].to_numpy()[front], strict=True):
            ax.annotate(str(text), (xi, yi), textcoords="offset points", xytext=(4, -10), fontsize=6.5)
    unit = "million yuan" if cost_scale == 1e6 else f"yuan x {cost_scale:g}"
    ax.set_xlabel(f"{label(cost)}, {unit}")
    ax.set_ylabel(label(outcome))
    ax.set_title("Cost-effectiveness frontier (成本效益)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
