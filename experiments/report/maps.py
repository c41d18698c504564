"""Maps of a county at the end of a run: stores, township centres and express service
against the plan's lines (:func:`county_map`), and delivery routes (:func:`logistics_map`).

Markers and line styles differ as well as colours, so the maps stay readable in grayscale.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from experiments.report.plan_lines import target_lines
from sim.geography import ROAD_CLASSES

ROAD_STYLE = {
    "county_road": {"color": "0.25", "lw": 1.6, "ls": "-"},
    "township_road": {"color": "0.45", "lw": 1.0, "ls": "-"},
    "village_road": {"color": "0.7", "lw": 0.5, "ls": ":"},
}


def county_map(model) -> plt.Figure:
    """Villages by store situation and express service, township centres, the county town
    (and its logistics centre), and where the county stands against the plan's lines."""
    c = model.county
    fig, ax = plt.subplots(figsize=(7.5, 7))
    for u, v, d in c.graph.edges(data=True):
        style = ROAD_STYLE.get(d.get("road_class"), ROAD_STYLE["village_road"])
        ax.plot([c.x_km[u], c.x_km[v]], [c.y_km[u], c.y_km[v]], zorder=1, **style)
    per_node = model.stores_per_node()
    _villages_by_store(ax, model, per_node)
    _townships_by_centre(ax, model)
    v = c.villages
    no_door = v[model.logistics.door_share[v] <= 0]
    ax.scatter(
        c.x_km[no_door],
        c.y_km[no_door],
        s=120,
        facecolors="none",
        edgecolors="black",
        linewidths=0.9,
        linestyle="--",
        zorder=2,
        label=f"village without express delivery (快递进村) ({len(no_door)})",
    )
    town = "county town" + (" + logistics centre (县级物流配送中心)" if model.logistics.center else "")
    ax.scatter([c.x_km[0]], [c.y_km[0]], s=260, marker="*", c="black", label=town, zorder=5)
    _criteria_box(ax, model)
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


def _villages_by_store(ax: Axes, model: Any, per_node: np.ndarray) -> None:
    """Villages without a store, with traditional stores only, and with a new-type store."""
    c = model.county
    newtype = model.newtype_at()
    v = c.villages
    groups = [
        ("no store", (per_node[v] == 0), "white", "X"),
        ("traditional store(s) only", (per_node[v] > 0) & ~newtype[v], "0.6", "o"),
        ("new-type store", newtype[v], "black", "s"),
    ]
    for what, mask, color, marker in groups:
        idx = v[mask]
        ax.scatter(
            c.x_km[idx],
            c.y_km[idx],
            s=18,
            c=color,
            marker=marker,
            edgecolors="black",
            linewidths=0.6,
            label=f"village: {what} ({mask.sum()})",
            zorder=3,
        )


def _townships_by_centre(ax: Axes, model: Any) -> None:
    """Townships with a commerce centre (filled) and without (open)."""
    c = model.county
    t = c.townships
    has_center = model.center_table.at_node[t] >= 0
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


def _criteria_box(ax: Axes, model) -> None:
    """The county's standing against each reference line at the map's date (latest week)."""
    if not model.rows:
        return
    now = model.rows[-1]
    lines = [
        f"{'✓' if line.met(now[name]) else '✗'} {name.replace('_', ' ')} {now[name]:.2f} {line.op} {line.value:g}"
        f" ({'basic tier' if line.kind == 'basic' else '2025 target'})"
        for name, group in target_lines().items()
        if name in now
        for line in group
    ]
    if lines:
        ax.text(
            0.01,
            0.01,
            "\n".join(lines),
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=6.5,
            family="DejaVu Sans Mono",
            bbox={"fc": "white", "ec": "0.5", "alpha": 0.9},
            zorder=6,
        )


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
    town = "county town" + (" + logistics centre" if lg.center else "")
    ax.scatter([c.x_km[0]], [c.y_km[0]], s=260, marker="*", c="black", label=town, zorder=5)
    ax.plot([], [], color="black", lw=0.9, ls="--", label=f"routes of the {who}")
    fig.colorbar(sc, ax=ax, shrink=0.7, label="share of parcels delivered to the village")
    ax.set_aspect("equal")
    ax.set_xlabel("km east")
    ax.set_ylabel("km north")
    cov = float((door > 0).mean()) if len(v) else 0.0
    ax.set_title(f"{model.config.name}: express to {cov:.0%} of villages at {model.today}")
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9)
    return fig
