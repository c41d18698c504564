"""Figures of one run: the county map and the indicator time series.

Plots read the model's public state and the run's series; they hold no model logic.
Markers and line styles differ as well as colours, so figures stay readable in grayscale.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from experiments import atomic
from sim.geography import ROAD_CLASSES
from sim.indicators import BY_NAME, INDICATORS

ROAD_STYLE = {
    "county_road": {"color": "0.25", "lw": 1.6, "ls": "-"},
    "township_road": {"color": "0.45", "lw": 1.0, "ls": "-"},
    "village_road": {"color": "0.7", "lw": 0.5, "ls": ":"},
}


def save(fig: plt.Figure, folder: Path, name: str) -> list[Path]:
    """Write a figure as PNG and SVG, atomically."""
    paths = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=130, bbox_inches="tight")
        path = folder / f"{name}.{ext}"
        atomic.write_bytes(path, buf.getvalue())
        paths.append(path)
    plt.close(fig)
    return paths


def county_map(model) -> plt.Figure:
    """Villages coloured by their store situation; township centres and the county town marked."""
    c = model.county
    fig, ax = plt.subplots(figsize=(7.5, 7))
    for u, v, d in c.graph.edges(data=True):
        style = ROAD_STYLE.get(d.get("road_class"), ROAD_STYLE["village_road"])
        ax.plot([c.x_km[u], c.x_km[v]], [c.y_km[u], c.y_km[v]], zorder=1, **style)
    per_node = model.stores_per_node()
    newtype = np.zeros(c.n, dtype=bool)
    for s in model.open_stores():
        newtype[s.node] |= s.kind == "newtype"
    v = c.villages
    groups = [
        ("no store", (per_node[v] == 0), "white", "X"),
        ("traditional store(s) only", (per_node[v] > 0) & ~newtype[v], "0.6", "o"),
        ("new-type store", newtype[v], "black", "s"),
    ]
    for label, mask, color, marker in groups:
        idx = v[mask]
        ax.scatter(
            c.x_km[idx],
            c.y_km[idx],
            s=18,
            c=color,
            marker=marker,
            edgecolors="black",
            linewidths=0.6,
            label=f"village: {label} ({mask.sum()})",
            zorder=3,
        )
    t = c.townships
    has_center = np.array([model.center_at(int(n)) is not None for n in t], dtype=bool)
    ax.scatter(
        c.x_km[t[has_center]],
        c.y_km[t[has_center]],
        s=90,
        marker="^",
        c="black",
        label=f"township with commerce centre ({has_center.sum()})",
        zorder=4,
    )
    ax.scatter(
        c.x_km[t[~has_center]],
        c.y_km[t[~has_center]],
        s=90,
        marker="^",
        c="white",
        edgecolors="black",
        label=f"township without centre ({(~has_center).sum()})",
        zorder=4,
    )
    ax.scatter([c.x_km[0]], [c.y_km[0]], s=260, marker="*", c="black", label="county town", zorder=5)
    ax.set_aspect("equal")
    ax.set_xlabel("km east")
    ax.set_ylabel("km north")
    cov = float(np.mean(per_node[v] > 0)) if len(v) else 0.0
    ax.set_title(f"{model.config.name}: village store coverage {cov:.0%} at {model.today}")
    handles = [plt.Line2D([], [], **{k: s[k] for k in ("color", "lw", "ls")}) for s in ROAD_STYLE.values()]
    leg1 = ax.legend(handles, [r.replace("_", " ") for r in ROAD_CLASSES], loc="lower right", fontsize=7, title="roads")
    ax.add_artist(leg1)
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9)
    return fig


def logistics_map(model) -> plt.Figure:
    """Villages by share of parcels delivered to the door, with the delivery routes.

    Routes are the consortium's when co-distribution runs, otherwise the largest carrier's;
    each tour is drawn as straight legs between its stops (the van follows roads).
    """
    c = model.county
    lg = model.logistics
    fig, ax = plt.subplots(figsize=(7.5, 7))
    for u, v, _d in c.graph.edges(data=True):
        ax.plot([c.x_km[u], c.x_km[v]], [c.y_km[u], c.y_km[v]], color="0.85", lw=0.5, zorder=1)
    if lg.consortium is not None and lg.consortium.plans and any(car.member for car in lg.carriers):
        plans, who = lg.consortium.plans, "co-distribution consortium"
    else:
        top = max(lg.carriers, key=lambda car: car.share)
        plans, who = top.plans, f"carrier {top.name}"
    for t, plan in plans.items():
        if plan.served:
            path = [t, *plan.served, t]
            ax.plot(c.x_km[path], c.y_km[path], color="black", lw=0.9, ls="--", zorder=2)
    v = c.villages
    door = lg.door_share[v]
    sc = ax.scatter(
        c.x_km[v], c.y_km[v], c=door, cmap="Greys", vmin=0, vmax=1, s=24, edgecolors="black", linewidths=0.6, zorder=3
    )
    unserved = v[door == 0]
    ax.scatter(
        c.x_km[unserved],
        c.y_km[unserved],
        marker="x",
        c="black",
        s=40,
        zorder=4,
        label=f"no delivery to the village ({len(unserved)})",
    )
    t = c.townships
    ax.scatter(
        c.x_km[t], c.y_km[t], s=90, marker="^", c="white", edgecolors="black", label="township station", zorder=4
    )
    label = "county town" + (" + logistics centre" if lg.center else "")
    ax.scatter([c.x_km[0]], [c.y_km[0]], s=260, marker="*", c="black", label=label, zorder=5)
    ax.plot([], [], color="black", lw=0.9, ls="--", label=f"routes of the {who}")
    fig.colorbar(sc, ax=ax, shrink=0.7, label="share of parcels delivered to the village")
    ax.set_aspect("equal")
    ax.set_xlabel("km east")
    ax.set_ylabel("km north")
    cov = float((door > 0).mean()) if len(v) else 0.0
    ax.set_title(f"{model.config.name}: express to {cov:.0%} of villages at {model.today}")
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9)
    return fig


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


def timeseries(ts: pd.DataFrame, names: list[str] | None = None) -> plt.Figure:
    """Small multiples of the weekly indicators, each with its unit."""
    names = names or [i.name for i in INDICATORS]
    ncol = 3
    nrow = -(-len(names) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 2.4 * nrow), sharex=True, squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        ind = BY_NAME[name]
        ax.plot(ts["date"], ts[name], color="black", lw=1.2)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel(ind.unit, fontsize=7)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def run_figures(model, ts: pd.DataFrame, folder: Path) -> list[Path]:
    """All figures of a single run, written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = save(county_map(model), folder, "county_map")
    paths += save(logistics_map(model), folder, "logistics_map")
    paths += save(farm_sales(ts), folder, "farm_sales")
    paths += save(timeseries(ts), folder, "indicators")
    return paths
