"""The figures of one run: indicator series against the plan's phases and 2025 lines,
shopping channels, farm sales, every indicator week by week, and (with the maps) all of
them written into a run's folder (:func:`run_figures`).

Hatches and gray levels differ as well as colours, so every figure reads in grayscale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from experiments.report.map_data import MapData, map_data
from experiments.report.maps import county_map, logistics_map
from experiments.report.plan_lines import TargetLine, draw_targets, plan_phases, shade_phases, target_lines
from experiments.report.style import label, save
from sim.policy.indicators import BY_NAME, INDICATORS

FARM_CHANNEL_COLUMNS = ("farm_trader_share", "farm_market_share", "farm_anchor_share", "farm_self_online_share")


def farm_sales(ts: pd.DataFrame) -> plt.Figure:
    """Farm sales by channel over time (monthly), with the online value on a second axis."""
    monthly = ts.set_index("date")[[*FARM_CHANNEL_COLUMNS, "farm_online_sales"]].resample("MS").mean()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    shades = ("0.85", "0.65", "0.35", "0.1")
    hatches = ("", "..", "//", "xx")
    bottom = np.zeros(len(monthly))
    for col, shade, hatch in zip(FARM_CHANNEL_COLUMNS, shades, hatches, strict=True):
        vals = monthly[col].fillna(0.0).to_numpy()
        ax.bar(
            monthly.index,
            vals,
            bottom=bottom,
            width=25,
            color=shade,
            hatch=hatch,
            edgecolor="black",
            linewidth=0.3,
            label=col.removeprefix("farm_").removesuffix("_share").replace("_", " "),
        )
        bottom += vals
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of farm output sold (farm-gate value)")
    ax2 = ax.twinx()
    ax2.plot(
        monthly.index,
        monthly["farm_online_sales"] * 52 / 12 / 1e6,
        color="black",
        lw=1.5,
        marker="o",
        ms=3,
        label="online sales (million yuan/month)",
    )
    ax2.set_ylabel("online farm sales, million yuan per month")
    ax.set_title("Farm sales by channel")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=7, ncol=3, framealpha=0.9)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


#: Layout of :func:`timeseries` in inches: panel height, column width, and the margins of
#: the grid. Fixed rather than computed by tight_layout, which measures every tick label of
#: every panel (seconds for the ~85 panels) to arrive at much the same numbers.
PANEL_HEIGHT, PANEL_WIDTH, GRID_MARGINS = 1.9, 4.2, {"top": 0.35, "bottom": 0.35, "left": 0.55, "right": 0.15}


def timeseries(ts: pd.DataFrame, names: list[str] | None = None) -> plt.Figure:
    """Small multiples of the weekly indicators, each titled with its unit.

    Drawn for speed as well as reading (issue 17: this figure was most of `countysim run`'s
    time): the panels do not share an axis object (matplotlib propagates every limit change
    across shared axes, quadratic in their number) but get the same limits and yearly ticks,
    and the grid's margins are fixed.
    """
    names = names or [i.name for i in INDICATORS]
    ncol = 3
    nrow = -(-len(names) // ncol)
    width, height = PANEL_WIDTH * ncol, PANEL_HEIGHT * nrow
    fig, axes = plt.subplots(nrow, ncol, figsize=(width, height), squeeze=False)
    m = GRID_MARGINS
    fig.subplots_adjust(
        left=m["left"] / width, right=1 - m["right"] / width, top=1 - m["top"] / height, bottom=m["bottom"] / height,
        hspace=0.55, wspace=0.22,
    )  # fmt: skip
    dates = ts["date"].to_numpy()
    for k, (ax, name) in enumerate(zip(axes.flat, names, strict=False)):
        ax.plot(dates, ts[name].to_numpy(), color="black", lw=1.0)
        ax.set_title(f"{name} [{BY_NAME[name].unit}]", fontsize=8, pad=2)
        ax.set_xlim(dates[0], dates[-1])
        ax.xaxis.set_major_locator(mdates.YearLocator())  # a locator belongs to one axis
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.yaxis.set_major_locator(MaxNLocator(4))
        # years under the last panel of each column only, as with a shared axis
        ax.tick_params(labelsize=6.5, pad=1, labelbottom=k >= len(names) - ncol)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    return fig


# --- series against the plan ------------------------------------------------------------

#: Indicators shown against the plan's lines by default (those missing from a series are skipped).
PLAN_SERIES = (
    "express_village_coverage",
    "store_village_coverage",
    "township_center_coverage",
    "newtype_store_share",
    "service_point_share",
    "codistribution_parcel_share",
    "online_share",
    "farm_online_sales",
    "consumer_surplus",
)


def indicator_series(
    ts: pd.DataFrame,
    names: Sequence[str] | None = None,
    targets: dict[str, list[TargetLine]] | None = None,
) -> plt.Figure:
    """Indicators over time with the plan's phases shaded and the 2025 target lines.

    Args:
        ts: A run's weekly series (``date`` and indicator columns), or several runs stacked
            with a ``run_id`` column: each run is then drawn thin and their median thick.
        names: Indicators to show (default :data:`PLAN_SERIES`, those present in ``ts``).
        targets: Reference lines by indicator (default :func:`target_lines`).
    """
    names = [n for n in (names or PLAN_SERIES) if n in ts.columns]
    if not names:
        raise ValueError("none of the requested indicators is in the series")
    targets = target_lines() if targets is None else targets
    ncol = min(3, len(names))
    nrow = -(-len(names) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.4 * ncol, 2.9 * nrow), sharex=True, squeeze=False)
    _fixed_margins(fig, nrow, ncol, SERIES_MARGINS)
    runs = [g for _, g in ts.groupby("run_id")] if "run_id" in ts.columns else [ts]
    for k, (ax, name) in enumerate(zip(axes.flat, names, strict=False)):
        shade_phases(ax, labels=(k == 0))
        if len(runs) > 1:
            for g in runs:
                ax.plot(g["date"], g[name], color="0.55", lw=0.5, zorder=3)
            med = ts.groupby("date")[name].median()
            ax.plot(med.index, med.to_numpy(), color="black", lw=1.6, zorder=4, label=f"median of {len(runs)} runs")
        else:
            ax.plot(ts["date"], ts[name], color="black", lw=1.4, zorder=4, label="simulated")
        draw_targets(ax, targets.get(name, []))
        ax.set_title(label(name), fontsize=8.5)
        ax.set_ylabel(BY_NAME[name].unit if name in BY_NAME else "", fontsize=7)
        ax.tick_params(labelsize=7)
        if name in BY_NAME and BY_NAME[name].unit.startswith("share"):
            # headroom above 1.0 keeps the phase names clear of a target line at 100%
            ax.set_ylim(-0.02, 1.25 if k == 0 else 1.05)
        if targets.get(name):
            ax.legend(fontsize=5.5, loc="lower right", framealpha=0.9)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    # the panels share one x axis: yearly ticks set once, short enough to need no rotation
    # (matplotlib's automatic date ticks were most of this figure's drawing time)
    axes[0, 0].xaxis.set_major_locator(mdates.YearLocator())
    axes[0, 0].xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    # the title a fixed distance from the top, whatever the figure's height (the margins are fixed too)
    top = 1 - SERIES_MARGINS["title"] / fig.get_size_inches()[1]
    fig.suptitle("Indicators against the plan's phases and 2025 lines (县域商业三年行动)", fontsize=10, y=top)
    return fig


#: Margins of :func:`indicator_series` in inches: its title (whose top is ``title`` below the
#: figure's) above, the years below, each panel's title above it and its y label and ticks to
#: its left. Fixed rather than computed by tight_layout, which measured every label to arrive
#: at about these numbers (a fifth of the figure's time; issue 17).
SERIES_MARGINS = {
    "title": 0.08,
    "top": 0.58,
    "bottom": 0.32,
    "left": 0.62,
    "right": 0.12,
    "between_rows": 0.42,
    "between_columns": 0.72,
}


def _fixed_margins(fig: plt.Figure, nrow: int, ncol: int, m: dict[str, float]) -> None:
    """Place a grid of panels with margins and gaps given in inches (whatever the figure's size)."""
    width, height = fig.get_size_inches()
    panel_width = (width - m["left"] - m["right"] - (ncol - 1) * m["between_columns"]) / ncol
    panel_height = (height - m["top"] - m["bottom"] - (nrow - 1) * m["between_rows"]) / nrow
    fig.subplots_adjust(
        left=m["left"] / width, right=1 - m["right"] / width, top=1 - m["top"] / height, bottom=m["bottom"] / height,
        wspace=m["between_columns"] / panel_width, hspace=m["between_rows"] / panel_height,
    )  # fmt: skip


#: Everyday-spending channels of rural households: column, English, Chinese, hatch, gray.
CHANNELS = (
    ("village_store_share", "village store", "村级商店", "", "0.92"),
    ("township_share", "township", "乡镇", "..", "0.75"),
    ("county_town_share", "county town", "县城", "//", "0.55"),
    ("online_share", "online", "网购", "xx", "0.35"),
    ("instant_retail_share", "instant retail", "即时零售", "\\\\\\\\", "0.15"),
)


def channel_shares(ts: pd.DataFrame) -> plt.Figure:
    """Where rural households buy everyday goods, month by month (stacked shares)."""
    cols = [c for c in CHANNELS if c[0] in ts.columns]
    if not cols:
        raise ValueError("the series has no channel share columns")
    monthly = ts.set_index("date")[[c[0] for c in cols]].resample("MS").mean().fillna(0.0)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    polys = ax.stackplot(
        monthly.index,
        *[monthly[c[0]].to_numpy() for c in cols],
        labels=[f"{c[1]} ({c[2]})" for c in cols],
        colors=[c[4] for c in cols],
        edgecolor="black",
        linewidth=0.4,
    )
    for poly, c in zip(polys, cols, strict=True):
        poly.set_hatch(c[3])
    for ph in plan_phases():
        ax.axvline(pd.Timestamp(ph.start), color="black", lw=0.8, ls="--")
        ax.text(pd.Timestamp(ph.start), 1.01, f" {ph.name} {ph.zh}", fontsize=7, transform=ax.get_xaxis_transform())
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of rural everyday spending")
    ax.set_title("Shopping channels over time (消费渠道)", pad=16)
    ax.legend(loc="lower left", fontsize=7, ncol=3, framealpha=0.9)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


#: The figures `countysim run` writes into a run's ``figures/`` folder, by file name: each
#: drawn from the end-of-run map record and the weekly series.
RUN_FIGURES: dict[str, Callable[[MapData, pd.DataFrame], plt.Figure]] = {
    "county_map": lambda m, ts: county_map(m),
    "logistics_map": lambda m, ts: logistics_map(m),
    "farm_sales": lambda m, ts: farm_sales(ts),
    "targets": lambda m, ts: indicator_series(ts),
    "channel_shares": lambda m, ts: channel_shares(ts),
}


#: Run figures laid out with fixed margins: saved as laid out, without trimming to the drawn
#: content (which costs a layout pass per file).
FIXED_LAYOUT = frozenset({"targets"})


def draw_figures(names: Sequence[str], data: MapData, ts: pd.DataFrame, folder: Path) -> list[Path]:
    """Draw some of a run's figures (names of :data:`RUN_FIGURES`) into ``folder`` as PNG and SVG.

    What a figure worker of `countysim run` executes for its share of the figures; a run
    drawn in one process calls it with every name (:func:`run_figures`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    return [
        path
        for name in names
        for path in save(RUN_FIGURES[name](data, ts), folder, name, trim=name not in FIXED_LAYOUT)
    ]


def run_figures(model, ts: pd.DataFrame, folder: Path) -> list[Path]:
    """The figures of a single run, written into ``folder``: the maps (which need the model)
    and the series a researcher reads first, all in this process.

    The small multiples of every indicator (:func:`timeseries`, about 85 panels) are not
    drawn here: they took most of `countysim run`'s time (issue 17) and need only the time
    series, so `countysim report` draws them into ``figures/indicators`` when it builds
    the page.
    """
    return draw_figures(tuple(RUN_FIGURES), map_data(model), ts, folder)
