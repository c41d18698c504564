"""The figures of an experiment's analysis, drawn from what :func:`analyze_folder` returns.

Written into ``folder/figures`` (PNG and SVG):

* ``sensitivity_<methods>[_k]``: Sobol'/eFAST S1 and ST per lever, a few metrics a figure;
* ``morris_mu_sigma``: Morris μ* against σ;
* ``sensitivity_pawn_delta``: PAWN and delta indices;
* ``target_<goal>_attainment``: the chance of meeting a target against the lever that moves
  it most (targets met in some runs and missed in others);
* ``target_<goal>_frontier``: fiscal cost against the target's indicator, with the frontier.

Figures of an earlier analysis of the folder are removed first: with other methods, metrics
or targets they would mislead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from experiments.analysis.analyze import AnalysisSummary
from experiments.analysis.attainment import Attainment, Goal
from experiments.report.plots import attainment_curve, cost_frontier, label, save, sensitivity_bars

#: Figures of attainment curves and frontiers drawn at most (one per target).
MAX_TARGET_FIGURES = 8
#: Metrics per index figure (one panel each); more make further figures.
PANELS_PER_FIGURE = 4
#: Figures an analysis draws, as file patterns (those of an earlier analysis are removed).
ANALYSIS_FIGURES = ("sensitivity_*.*", "morris_mu_sigma.*", "target_*_attainment.*", "target_*_frontier.*")


def morris_figure(table: pd.DataFrame) -> Any:
    """Morris μ* against σ per lever, one panel per metric, with μ*'s interval.

    Levers far right matter; levers high up act non-linearly or through interactions;
    levers near the origin can be fixed. Axes are μ* and σ as shares of the largest μ*
    of the metric, so panels compare.
    """
    metrics = list(dict.fromkeys(table["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.3 * len(metrics) + 0.8, 4.4), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=True):
        sub = table[table["metric"] == metric]
        top = float(sub["mu_star"].max()) or 1.0
        x = sub["mu_star"] / top
        y = sub["sigma"] / top
        ax.errorbar(x, y, xerr=sub["mu_star_conf"] / top, fmt="o", mfc="white", color="black", capsize=2.5)
        for xi, yi, name in zip(x, y, sub["parameter"], strict=True):
            ax.annotate(str(name).split(".")[-1], (xi, yi), textcoords="offset points", xytext=(4, 3), fontsize=7)
        lim = max(1.05, float(np.nanmax(y)) * 1.1 if len(y) else 1.05)
        ax.plot([0, lim], [0, lim], ls=":", color="0.5", lw=0.8)
        ax.set_xlim(-0.03, 1.15)
        ax.set_ylim(-0.03, lim)
        ax.set_xlabel("μ* (share of the largest)", fontsize=8)
        ax.set_ylabel("σ (share of the largest μ*)", fontsize=8)
        ax.set_title(label(metric), fontsize=8.5)
        ax.grid(alpha=0.3)
    fig.suptitle("Morris screening (敏感性筛选): effect μ* against spread σ", fontsize=10)
    fig.tight_layout()
    return fig


def moment_independent_figure(table: pd.DataFrame) -> Any:
    """PAWN and delta indices per lever with their intervals, one panel per metric."""
    metrics = list(dict.fromkeys(table["metric"]))
    params = list(dict.fromkeys(table["parameter"]))
    cols = [(c, f"{c}_conf", hatch) for c, hatch in (("pawn", "//"), ("delta", "")) if c in table.columns]
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(4.2 * len(metrics) + 1.5, 0.45 * len(params) + 1.8), sharey=True, squeeze=False
    )
    for ax, metric in zip(axes.flat, metrics, strict=True):
        sub = table[table["metric"] == metric].set_index("parameter").reindex(params)
        ypos = np.arange(len(params))
        h = 0.8 / max(1, len(cols))
        for i, (c, conf, hatch) in enumerate(cols):
            ax.barh(
                ypos + (i - (len(cols) - 1) / 2) * h, sub[c], height=h, xerr=sub[conf], capsize=2.5,
                color="white" if hatch else "0.45", edgecolor="black", hatch=hatch, label=c,
            )  # fmt: skip
        ax.set_yticks(ypos, params, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(label(metric), fontsize=8.5)
        ax.set_xlabel("index (bars: confidence interval)", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.suptitle("Which levers matter: moment-independent indices (PAWN, delta)", fontsize=10)
    fig.tight_layout()
    return fig


def analysis_figures(summary: AnalysisSummary) -> list[Path]:
    """Draw an analysis's figures into ``summary.folder / "figures"``; returns the files written."""
    out_dir = summary.folder / "figures"
    out_dir.mkdir(exist_ok=True)
    for pattern in ANALYSIS_FIGURES:
        for old in out_dir.glob(pattern):
            old.unlink(missing_ok=True)
    table = summary.sensitivity_table
    # the indices of the first base scenario
    first = table[table["base"] == table["base"].iloc[0]] if len(table) else table
    paths = _index_figures(first, summary.methods, out_dir)
    if summary.attainment is None or not summary.goals:
        return paths
    paths += _attainment_figures(summary.goals, summary.attainment, summary.ok_runs, out_dir)
    if summary.points is not None and "fiscal_cost" in summary.points.columns:
        paths += _frontier_figures(summary.goals, summary.points, out_dir)
    return paths


def _index_figures(first: pd.DataFrame, methods: list[str], out_dir: Path) -> list[Path]:
    """Sobol'/eFAST bars (a few metrics a figure), the Morris μ*–σ plot, PAWN and delta bars."""
    paths: list[Path] = []
    if len(first) and first[["S1", "ST"]].notna().any().any():
        name = "sensitivity_" + "_".join(m for m in methods if m in ("sobol", "efast"))
        shown = first.dropna(subset=["ST"])
        metrics = list(dict.fromkeys(shown["metric"]))
        for i in range(0, len(metrics), PANELS_PER_FIGURE):
            part = metrics[i : i + PANELS_PER_FIGURE]
            suffix = f"_{i // PANELS_PER_FIGURE + 1}" if len(metrics) > PANELS_PER_FIGURE else ""
            paths += save(sensitivity_bars(shown, part), out_dir, name + suffix)
    if "morris" in methods and "mu_star" in first.columns:
        paths += save(morris_figure(first.dropna(subset=["mu_star"])), out_dir, "morris_mu_sigma")
    if any(m in methods for m in ("pawn", "delta")):
        cols = [c for c in ("pawn", "delta") if c in first.columns]
        paths += save(
            moment_independent_figure(first.dropna(subset=cols, how="all")), out_dir, "sensitivity_pawn_delta"
        )
    return paths


def _attainment_figures(goals: list[Goal], att: Attainment, ok: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Per target met in some runs and missed in others, its attainment curve against the lever
    with the largest effect (at most :data:`MAX_TARGET_FIGURES`)."""
    paths: list[Path] = []
    dep = att.dependence
    probs = att.probabilities.set_index("goal")
    drawn = 0
    for g in goals:
        p = probs.loc[g.name, "probability"] if g.name in probs.index else np.nan
        sub = dep[(dep["goal"] == g.name) & dep["lever"].isin(ok.columns)]
        if not (0 < p < 1) or sub.empty or drawn >= MAX_TARGET_FIGURES:
            continue
        lever = str(sub.loc[sub["effect"].abs().idxmax(), "lever"])
        if not (pd.api.types.is_numeric_dtype(ok[lever]) or pd.api.types.is_bool_dtype(ok[lever])):
            continue
        frame = ok.copy()
        if g.op == ">":
            frame[f"{g.name} met"] = g.met(frame[g.column])
            fig = attainment_curve(frame, lever, f"{g.name} met", 1.0, ">=")
        else:
            fig = attainment_curve(frame, lever, g.column, g.threshold, g.op)
        paths += save(fig, out_dir, f"target_{g.name}_attainment")
        drawn += 1
    return paths


def _frontier_figures(goals: list[Goal], points: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Fiscal cost against each target's indicator (at most :data:`MAX_TARGET_FIGURES`), in the
    direction the target wants."""
    paths: list[Path] = []
    for g in goals[:MAX_TARGET_FIGURES]:
        sub = points.dropna(subset=["fiscal_cost", g.column])
        if sub[g.column].nunique() < 2 or sub["fiscal_cost"].nunique() < 2:
            continue
        if g.better == "min":
            sub = sub.assign(**{g.column: -sub[g.column]})
        paths += save(cost_frontier(sub, "fiscal_cost", g.column), out_dir, f"target_{g.name}_frontier")
    return paths
