"""Figures: the county map, indicator series against the plan's 2025 lines, channel shares,
farm sales, lever sweeps, sensitivity indices, target attainment, tiers and cost-effectiveness.

Plots read the model's public state, a run's series or an experiment's tables; they hold no
model logic. Markers, hatches and line styles differ as well as colours, so every figure
stays readable when printed in grayscale. Labels are in English with the Chinese term where
the plan has one, so a CJK font is registered at import (see :func:`configure_fonts`).
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

if "ipykernel" not in sys.modules:
    # batch use (CLI, workers, servers) needs no display; in a notebook keep the inline backend
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager

from experiments.run import atomic
from sim.geography import ROAD_CLASSES
from sim.policy.catalogue import PHASES, Phase
from sim.policy.indicators import BY_NAME, INDICATORS
from sim.policy.tiers import TIER_LABELS, Tier

# --- fonts ------------------------------------------------------------------------------

#: CJK font families tried in order when the bundled font is not installed.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei")
#: The font file bundled by the ``mplfonts`` package (a dependency), inside its package folder.
BUNDLED_CJK = ("fonts", "NotoSansCJKsc-Regular.otf")


def _bundled_cjk_file() -> Path | None:
    """The CJK font shipped inside the mplfonts wheel, found without importing the package
    (its import would touch the user's matplotlib configuration)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*BUNDLED_CJK)
    return path if path.is_file() else None


def configure_fonts() -> str | None:
    """Make Chinese terms render in every figure, and return the CJK family used.

    The bundled Noto Sans CJK SC is preferred so figures look the same on every machine;
    a system CJK font is the fallback. Latin text stays in DejaVu Sans; matplotlib falls
    back glyph by glyph to the CJK family for Chinese characters.

    Returns:
        The CJK family name, or None when no CJK font exists (Chinese then shows as boxes,
        and matplotlib warns "Glyph ... missing from font(s)").
    """
    family = None
    bundled = _bundled_cjk_file()
    if bundled is not None:
        font_manager.fontManager.addfont(str(bundled))
        family = font_manager.FontProperties(fname=str(bundled)).get_name()
    else:
        installed = {f.name for f in font_manager.fontManager.ttflist}
        family = next((f for f in CJK_FAMILIES if f in installed), None)
    if family is not None:
        # a list of families (not the generic "sans-serif") is what turns on per-glyph fallback
        matplotlib.rcParams["font.family"] = ["DejaVu Sans", family]
    matplotlib.rcParams["svg.fonttype"] = "path"  # SVGs carry their glyphs: no font needed to view them
    return family


CJK_FAMILY = configure_fonts()


def label(name: str) -> str:
    """An indicator's English name with its Chinese term, for axis titles and legends."""
    ind = BY_NAME.get(name)
    return f"{name.replace('_', ' ')} ({ind.zh})" if ind is not None else name.replace("_", " ")


# --- the plan's reference lines: phases and 2025 targets ---------------------------------


@dataclass(frozen=True)
class TargetLine:
    """A threshold drawn on an indicator's series and checked in reports.

    Attributes:
        indicator: The indicator it applies to.
        value: The threshold.
        label: Short text for legends and tables.
        source: Where the number comes from (or why it is assumed).
        op: ``>=`` (reach at least) or ``<=`` (stay at most).
        kind: ``target`` (a 2025 target of the plan) or ``basic`` (a basic-tier criterion).
    """

    indicator: str
    value: float
    label: str
    source: str
    op: str = ">="
    kind: str = "target"

    def met(self, value: float) -> bool:
        return bool(value >= self.value) if self.op == ">=" else bool(value <= self.value)


#: Reference lines used when ``sim.policy.evaluation`` (tier criteria and targets from a config) is
#: not there: one place, each with its source, so the evaluation module can replace them.
FALLBACK_TARGETS: tuple[TargetLine, ...] = (
    TargetLine(
        "express_village_coverage",
        1.0,
        "2025 target: express to every village where conditions allow (村村通快递)",
        "Three-Year Action Plan (2023-07-27) section 2: 具备条件的地区基本实现村村通快递",
    ),
    TargetLine(
        "store_village_coverage",
        0.9,
        "basic tier (基本型): at least 90% of villages with a store",
        "Shanxi 2023-2025 implementation plan (China Quality News, 2024-01-09), basic criteria; "
        "configs/data/official/tier_criteria.md",
        kind="basic",
    ),
    TargetLine(
        "township_center_coverage",
        0.9,
        "basic tier (基本型): at least 90% of townships with a commerce centre",
        "Shanxi 2023-2025 implementation plan (China Quality News, 2024-01-09), basic criteria; the 2021 "
        "opinion 商流通发〔2021〕99号 asks for a centre in every township; configs/data/official/tier_criteria.md",
        kind="basic",
    ),
)


def plan_phases() -> tuple[Phase, ...]:
    """The plan's phases (``sim.policy.catalogue.PHASES``, from the plan's annex), for shading time axes."""
    return tuple(PHASES)


def target_lines(criteria: str | Path | None = None) -> dict[str, list[TargetLine]]:
    """Reference lines by indicator: the 2025 targets and basic-tier thresholds.

    Read from a criteria file of ``sim.policy.evaluation`` when the model has it (so a change of
    criteria changes every figure and report), else :data:`FALLBACK_TARGETS`. Only
    thresholds (``>=``/``<=``) become lines; "increase" targets have none.

    Args:
        criteria: A criteria file (default: the model's default, configs/criteria/national.yaml).
    """
    lines: list[TargetLine] = []
    if importlib.util.find_spec("sim.policy.evaluation") is None:
        lines = list(FALLBACK_TARGETS)
    else:
        crit = importlib.import_module("sim.policy.evaluation").load_criteria(criteria).criteria
        for t in crit.targets_2025.items:
            if t.op in (">=", "<=") and t.threshold is not None:
                lines.append(
                    TargetLine(
                        t.indicator, float(t.threshold), f"2025 target: {t.goal}", t.source or t.reason or "", t.op
                    )
                )
        for c in crit.tiers.basic:
            lines.append(
                TargetLine(
                    c.indicator,
                    float(c.threshold),
                    f"basic tier (基本型): {c.op} {c.threshold:g}",
                    c.source or c.reason or "",
                    c.op,
                    kind="basic",
                )
            )
    out: dict[str, list[TargetLine]] = {}
    for line in lines:
        out.setdefault(line.indicator, []).append(line)
    return out


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
    """Villages by store situation and express service, township centres, the county town
    (and its logistics centre), and where the county stands against the plan's lines."""
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


def _criteria_box(ax: plt.Axes, model) -> None:
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
PHASE_SHADES = ("0.93", "0.86", "0.93")
TARGET_STYLE = {"target": {"color": "black", "ls": "--", "lw": 1.1}, "basic": {"color": "0.35", "ls": ":", "lw": 1.4}}


def shade_phases(ax: plt.Axes, phases: Sequence[Phase] | None = None, labels: bool = True) -> None:
    """Shade the plan's phases behind a time axis (gray levels alternate; names written in)."""
    phases = plan_phases() if phases is None else phases
    for k, ph in enumerate(phases):
        ax.axvspan(
            pd.Timestamp(ph.start),
            pd.Timestamp(ph.end) + pd.Timedelta(days=1),
            color=PHASE_SHADES[k % len(PHASE_SHADES)],
            zorder=0,
            lw=0,
        )
        ax.axvline(pd.Timestamp(ph.start), color="0.6", lw=0.6, zorder=0)
        if labels:
            ax.text(
                pd.Timestamp(ph.start) + pd.Timedelta(days=8),
                0.98,
                f"{ph.name}\n{ph.zh}",
                transform=ax.get_xaxis_transform(),
                va="top",
                fontsize=6.5,
                color="0.25",
            )


def _draw_targets(ax: plt.Axes, lines: Iterable[TargetLine]) -> list[TargetLine]:
    drawn = []
    for line in lines:
        ax.axhline(line.value, zorder=2, label=line.label, **TARGET_STYLE.get(line.kind, TARGET_STYLE["target"]))
        drawn.append(line)
    return drawn


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
        _draw_targets(ax, targets.get(name, []))
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
    fig.suptitle("Indicators against the plan's phases and 2025 lines (县域商业三年行动)", fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


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


# --- experiments: sweeps, sensitivity, attainment, frontier ---------------------------------


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


def run_figures(model, ts: pd.DataFrame, folder: Path) -> list[Path]:
    """All figures of a single run, written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = save(county_map(model), folder, "county_map")
    paths += save(logistics_map(model), folder, "logistics_map")
    paths += save(farm_sales(ts), folder, "farm_sales")
    paths += save(timeseries(ts), folder, "indicators")
    paths += save(indicator_series(ts), folder, "targets")
    paths += save(channel_shares(ts), folder, "channel_shares")
    return paths
