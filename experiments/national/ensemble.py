"""The national ensemble's results: national indicators with uncertainty bands, and the
projection against the plan's 2025 targets.

An ensemble experiment (a spec with an ``ensemble`` section, expanded into one labelled
base per simulated county by :mod:`experiments.spec.ensemble`) runs like any other; this
module turns its runs table back into national indicators, each county weighted by the
real county units it stands for. A stratified ensemble's estimates carry the stratified
sampling error, which :func:`national_indicators` reports beside the spread over seeds.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from experiments.report.plots import configure_fonts, save
from experiments.run.store import read_runs
from experiments.spec.ensemble import counties, parse_ensemble, spec_path
from sim.errors import InputError
from sim.policy.tiers import TIER_LABELS

#: Official series (configs/data/official/official_statistics.csv) → the national indicator
#: they are compared with; why each pairing holds is in experiments/national/calibration.py.
SERIES_INDICATOR: dict[str, str] = {
    "rural_online_retail_growth": "online_spending_growth",
    "farm_online_retail_growth": "farm_online_sales_growth",
    "express_village_coverage": "express_village_coverage",
    "leading_counties_batch": "leading_counties",
}


def _years(runs: pd.DataFrame) -> list[int]:
    return sorted(int(c.split("_")[1]) for c in runs.columns if c.startswith("tier_"))


def _county_values(runs: pd.DataFrame, y: int) -> dict[str, pd.Series]:
    """Per-run quantities whose weighted national mean (or total) is an indicator."""
    tier = runs[f"tier_{y}"]
    vals = {f"share_tier_{name}": (tier.round() == code).astype(float) for code, name in TIER_LABELS.items()}
    vals["share_basic_or_better"] = (tier.round() >= 1).astype(float)
    vals["leading_counties"] = runs[f"leading_{y}"].astype(float)
    vals["express_village_coverage"] = runs[f"express_{y}"].astype(float)
    vals["online_spending"] = runs[f"spending_{y}"] * runs[f"online_share_{y}"]
    vals["farm_online_sales"] = runs[f"farm_online_{y}"].astype(float)
    return vals


#: National indicators that are totals over counties (the others are county-weighted means).
_TOTALS = ("leading_counties", "online_spending", "farm_online_sales")


def _estimate(values: pd.Series, strata: pd.Series, weights: pd.Series, total: bool) -> tuple[float, float]:
    """Weighted national estimate and its stratified-sampling standard error.

    Standard stratified estimator of a total, sum_h N_h ybar_h, with variance
    sum_h N_h^2 (1 - n_h/N_h) s_h^2 / n_h (Cochran 1977, ch. 5); a mean divides both by N.
    A full ensemble (n_h = N_h) has no sampling error.
    """
    est = 0.0
    var = 0.0
    n_units = 0.0
    for _, idx in values.groupby(strata).groups.items():
        v = values.loc[idx]
        n = len(v)
        big_n = float(weights.loc[idx].sum())
        n_units += big_n
        est += big_n * float(v.mean())
        if n > 1:
            var += big_n**2 * max(0.0, 1 - n / big_n) * float(v.var(ddof=1)) / n
    if not total:
        est, var = est / n_units, var / n_units**2
    return est, math.sqrt(var)


def national_indicators(runs: pd.DataFrame, weights: dict[str, float], strata: dict[str, str]) -> pd.DataFrame:
    """National indicators by year with bands over seeds and sampled counties.

    Args:
        runs: The experiment's runs table (ok runs are used), with the columns of
            :func:`year_metrics`.
        weights: Real county units each base label stands for.
        strata: Stratum of each base label.

    Returns:
        One row per (year, indicator): ``mean`` over replicates of the national estimate,
        ``se`` (sampling error, root mean square over replicates, combined with the spread
        between replicates), ``low``/``high`` = mean ∓ 1.96·se, and for the growth rows
        (``online_spending_growth``, ``farm_online_sales_growth``) the year-on-year
        growth of the national total. Growth of a year whose previous year is a part year
        mixes seasons; read it only for full years.
    """
    ok = runs[runs["status"] == "ok"].copy()
    ok["_w"] = ok["base"].map(weights)
    ok["_s"] = ok["base"].map(strata)
    rows: list[dict[str, Any]] = []
    per_rep: dict[tuple[int, str], list[tuple[float, float]]] = {}
    years = _years(ok)
    for _rep, grp in ok.groupby("replicate"):
        for y in years:
            for name, v in _county_values(grp, y).items():
                per_rep.setdefault((y, name), []).append(_estimate(v, grp["_s"], grp["_w"], name in _TOTALS))
    for (y, name), pairs in per_rep.items():
        row = _band(y, name, [p[0] for p in pairs], [p[1] for p in pairs])
        if name not in _TOTALS:  # shares: a normal band must not leave [0, 1]
            row["low"], row["high"] = max(0.0, row["low"]), min(1.0, row["high"])
        else:  # counts and spending cannot be negative either
            row["low"] = max(0.0, row["low"])
        rows.append(row)
    for name in ("online_spending", "farm_online_sales"):
        for y in years[1:]:
            now, before = per_rep[(y, name)], per_rep[(y - 1, name)]
            g = [a[0] / b[0] - 1 if b[0] > 0 else float("nan") for a, b in zip(now, before, strict=True)]
            # delta method, errors of the two years treated as independent (conservative)
            se = [
                (a[0] / b[0]) * math.hypot(a[1] / a[0] if a[0] else 0.0, b[1] / b[0]) if b[0] > 0 else float("nan")
                for a, b in zip(now, before, strict=True)
            ]
            rows.append(_band(y, f"{name}_growth", g, se))
    return pd.DataFrame(rows).sort_values(["indicator", "year"]).reset_index(drop=True)


def _band(year: int, name: str, estimates: list[float], ses: list[float]) -> dict[str, Any]:
    est = np.asarray(estimates, dtype=float)
    mean = float(np.mean(est))
    between = float(np.var(est, ddof=1)) if len(est) > 1 else 0.0
    se = math.sqrt(float(np.mean(np.square(ses))) + between)
    return {
        "year": year,
        "indicator": name,
        "mean": mean,
        "se": se,
        "low": mean - 1.96 * se,
        "high": mean + 1.96 * se,
        "replicates": len(est),
    }


def write_national(ensemble: dict[str, Any], base_dir: Path | None, folder: str | Path) -> pd.DataFrame:
    """Write ``counties.csv`` (label, stratum, weight) and ``national.csv`` for a finished ensemble.

    Args:
        ensemble: The spec's ``ensemble`` section (as validated data).
        base_dir: Folder of the spec file (its relative paths start there).
        folder: The experiment folder holding ``runs.parquet``.
    """
    folder = Path(folder)
    cs = counties(parse_ensemble(ensemble, str(folder)), base_dir)
    pd.DataFrame(
        [{"base": c.label, "stratum": c.stratum, "weight": c.weight, "development": c.development} for c in cs]
    ).to_csv(folder / "counties.csv", index=False)
    table = national_indicators(read_runs(folder), {c.label: c.weight for c in cs}, {c.label: c.stratum for c in cs})
    table.to_csv(folder / "national.csv", index=False)
    figures = folder / "figures"
    figures.mkdir(exist_ok=True)
    ens = parse_ensemble(ensemble, str(folder))
    official = None if ens.official is None else official_points(spec_path(ens.official, base_dir), str(folder))
    save(projection_figure(table, official), figures, "national_projection")
    return table


def official_points(csv: Path, source: str) -> pd.DataFrame:
    """The official values of the series the ensemble is compared with: year, indicator, value."""
    if not csv.is_file():
        raise InputError(f"ensemble.official: file not found: {csv}", source=source)
    df = pd.read_csv(csv)
    df = df[df["series"].isin(list(SERIES_INDICATOR))]
    return pd.DataFrame(
        {"year": df["year"].astype(int), "indicator": df["series"].map(SERIES_INDICATOR), "value": df["value"]}
    )


#: The plan's national 2025 targets the projection figure is set against: about 500
#: leading counties and 90% of counties at basic tier or better (Three-Year Action Plan,
#: 2023-07; DESIGN.md and issue 8).
PLAN_TARGETS: dict[str, float] = {"leading_counties": 500.0, "share_basic_or_better": 0.9}


def projection_figure(national: pd.DataFrame, official: pd.DataFrame | None = None) -> Any:
    """National indicators by year with 95% bands, against the plan's 2025 targets.

    Four panels: cumulative leading counties (target ~500), share of counties at basic
    tier or better (target 90%), express coverage of villages, and year-on-year growth of
    online spending and farm online sales; with ``official`` (see :func:`official_points`)
    the reported values as black marks beside the simulated ones.
    """
    configure_fonts()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    panels = [
        ("leading_counties", "Leading counties (cumulative, after November)", None),
        ("share_basic_or_better", "Share of counties at basic tier or better", None),
        ("express_village_coverage", "Express coverage of administrative villages", None),
        ("online_spending_growth", "Year-on-year growth", "farm_online_sales_growth"),
    ]
    for ax, (name, title, second) in zip(axes.flat, panels, strict=True):
        for ind, colour in ((name, "C0"), (second, "C1")):
            if ind is None:
                continue
            d = national[national["indicator"] == ind].sort_values("year")
            if d.empty:
                continue
            ax.fill_between(d["year"], d["low"], d["high"], color=colour, alpha=0.25, label=f"{ind} 95% band")
            ax.plot(d["year"], d["mean"], "o-", color=colour, label=ind)
            if official is not None:
                o = official[
                    (official["indicator"] == ind) & official["year"].between(d["year"].min(), d["year"].max())
                ]
                if not o.empty:
                    marker = "s" if colour == "C0" else "D"
                    ax.plot(o["year"], o["value"], marker, color="black", mfc="none", label=f"official: {ind}")
        if name in PLAN_TARGETS:
            ax.axhline(PLAN_TARGETS[name], color="red", ls="--", label=f"plan target 2025: {PLAN_TARGETS[name]:g}")
        ax.set_title(title, fontsize=10)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if ax.get_legend_handles_labels()[0]:  # a panel whose indicator was not computed stays empty
            ax.legend(fontsize=7)
    fig.suptitle("National ensemble projection against the plan's targets")
    fig.tight_layout()
    return fig
