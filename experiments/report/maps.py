"""Maps of a county at the end of a run: stores, township centres and express service
against the plan's lines (:func:`county_map`), and delivery routes (:func:`logistics_map`).

Both draw from a :class:`~experiments.report.map_data.MapData` (read from the model, or
sent to a worker process by `countysim run`), so they need no model to draw.

Markers and line styles differ as well as colours, so the maps stay readable in grayscale.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection

from experiments.report.map_data import MapData, as_map_data
from experiments.report.plan_lines import target_lines
from sim.geography import ROAD_CLASSES

ROAD_STYLE = {
    "county_road": {"color": "0.25", "lw": 1.6, "ls": "-"},
    "township_road": {"color": "0.45", "lw": 1.0, "ls": "-"},
    "village_road": {"color": "0.7", "lw": 0.5, "ls": ":"},
}


def county_map(model: MapData | Any) -> plt.Figure:
    """Villages by store situation and express service, township centres, the county town
    (and its logistics centre), and where the county stands against the plan's lines.

    Args:
        model: A model at the end of its run, or its :class:`MapData` (what a worker
            process is sent).
    """
    m = as_map_data(model)
    fig, ax = plt.subplots(figsize=(7.5, 7))
    for road_class, style in ROAD_STYLE.items():
        edges = [(u, v) for u, v, c in m.edges if (c if c in ROAD_STYLE else "village_road") == road_class]
        _roads(ax, m, edges, color=style["color"], linewidths=style["lw"], linestyles=style["ls"])
    _villages_by_store(ax, m)
    _townships_by_centre(ax, m)
    v = m.villages
    no_door = v[m.door_share[v] <= 0]
    ax.scatter(
        m.x_km[no_door],
        m.y_km[no_door],
        s=120,
        facecolors="none",
        edgecolors="black",
        linewidths=0.9,
        linestyle="--",
        zorder=2,
        label=f"village without express delivery (快递进村) ({len(no_door)})",
    )
    town = "county town" + (" + logistics centre (县级物流配送中心)" if m.logistics_center else "")
    ax.scatter([m.x_km[0]], [m.y_km[0]], s=260, marker="*", c="black", label=town, zorder=5)
    _criteria_box(ax, m)
    ax.set_aspect("equal")
    ax.set_xlabel("km east")
    ax.set_ylabel("km north")
    cov = float(np.mean(m.stores_per_node[v] > 0)) if len(v) else 0.0
    ax.set_title(f"{m.name}: village store coverage {cov:.0%} at {m.today}")
    handles = [plt.Line2D([], [], **{k: s[k] for k in ("color", "lw", "ls")}) for s in ROAD_STYLE.values()]
    leg1 = ax.legend(handles, [r.replace("_", " ") for r in ROAD_CLASSES], loc="lower right", fontsize=7, title="roads")
    ax.add_artist(leg1)
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9)
    return fig


def _roads(ax: Axes, m: MapData, edges: list[tuple[int, int]], **style: Any) -> None:
    """Roads as one collection of segments: one artist instead of one line per road (hundreds
    in a county), which made the maps several times slower to draw and save."""
    segments = [((m.x_km[u], m.y_km[u]), (m.x_km[v], m.y_km[v])) for u, v in edges]
    ax.add_collection(LineCollection(segments, zorder=1, **style))


def _villages_by_store(ax: Axes, m: MapData) -> None:
    """Villages without a store, with traditional stores only, and with a new-type store."""
    v = m.villages
    per_node = m.stores_per_node
    groups = [
        ("no store", (per_node[v] == 0), "white", "X"),
        ("traditional store(s) only", (per_node[v] > 0) & ~m.newtype[v], "0.6", "o"),
        ("new-type store", m.newtype[v], "black", "s"),
    ]
    for what, mask, color, marker in groups:
        idx = v[mask]
        ax.scatter(
            m.x_km[idx],
            m.y_km[idx],
            s=18,
            c=color,
            marker=marker,
            edgecolors="black",
            linewidths=0.6,
            label=f"village: {what} ({mask.sum()})",
            zorder=3,
        )


def _townships_by_centre(ax: Axes, m: MapData) -> None:
    """Townships with a commerce centre (filled) and without (open)."""
    t, has_center = m.townships, m.has_center
    ax.scatter(
        m.x_km[t[has_center]],
        m.y_km[t[has_center]],
        s=90,
        marker="^",
        c="black",
        label=f"township with commerce centre ({has_center.sum()})",
        zorder=4,
    )
    ax.scatter(
        m.x_km[t[~has_center]],
        m.y_km[t[~has_center]],
        s=90,
        marker="^",
        c="white",
        edgecolors="black",
        label=f"township without centre ({(~has_center).sum()})",
        zorder=4,
    )


def _criteria_box(ax: Axes, m: MapData) -> None:
    """The county's standing against each reference line at the map's date (latest week)."""
    if not m.latest:
        return
    now = m.latest
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


def logistics_map(model: MapData | Any) -> plt.Figure:
    """Villages by share of parcels delivered to the door, with the delivery routes.

    Routes are the consortium's when co-distribution runs, otherwise the largest carrier's;
    each tour is drawn as straight legs between its stops (the van follows roads).

    Args:
        model: A model at the end of its run, or its :class:`MapData`.
    """
    m = as_map_data(model)
    fig, ax = plt.subplots(figsize=(7.5, 7))
    _roads(ax, m, [(u, v) for u, v, _ in m.edges], color="0.85", linewidths=0.5)
    for tour in m.routes:
        path = list(tour)
        ax.plot(m.x_km[path], m.y_km[path], color="black", lw=0.9, ls="--", zorder=2)
    v = m.villages
    door = m.door_share[v]
    sc = ax.scatter(
        m.x_km[v], m.y_km[v], c=door, cmap="Greys", vmin=0, vmax=1, s=24, edgecolors="black", linewidths=0.6, zorder=3
    )
    unserved = v[door == 0]
    ax.scatter(
        m.x_km[unserved],
        m.y_km[unserved],
        marker="x",
        c="black",
        s=40,
        zorder=4,
        label=f"no delivery to the village ({len(unserved)})",
    )
    t = m.townships
    ax.scatter(
        m.x_km[t], m.y_km[t], s=90, marker="^", c="white", edgecolors="black", label="township station", zorder=4
    )
    town = "county town" + (" + logistics centre" if m.logistics_center else "")
    ax.scatter([m.x_km[0]], [m.y_km[0]], s=260, marker="*", c="black", label=town, zorder=5)
    ax.plot([], [], color="black", lw=0.9, ls="--", label=f"routes of the {m.routes_of}")
    fig.colorbar(sc, ax=ax, shrink=0.7, label="share of parcels delivered to the village")
    ax.set_aspect("equal")
    ax.set_xlabel("km east")
    ax.set_ylabel("km north")
    cov = float((door > 0).mean()) if len(v) else 0.0
    ax.set_title(f"{m.name}: express to {cov:.0%} of villages at {m.today}")
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9)
    return fig
