"""The report page of an experiment folder (``countysim experiment``): the experiment card,
how often the plan's 2025 lines are met, key numbers, design points, the tables an analysis
left (sensitivity indices, attainment, frontier, national indicators) and the figures.

An experiment folder has ``manifest.json`` (kind ``experiment``) and its runs; its figures
(lever heat maps, attainment curves, the cost frontier, sensitivity bars when a sensitivity
table is present) are drawn from the runs table and also written to ``DIR/figures/``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.report.page_parts import (
    Figure,
    embed,
    esc,
    figure_html,
    html_table,
    indicator_label,
    num,
    page_html,
    provenance_rows,
    read_json,
    read_parquet,
)
from experiments.report.plan_lines import TargetLine, target_lines
from experiments.report.plots import (
    SENSITIVITY_COLUMNS,
    attainment_curve,
    cost_frontier,
    lever_heatmap,
    sensitivity_bars,
    tier_distribution,
    wilson_interval,
)
from experiments.report.run_plots import indicator_series
from experiments.run import atomic
from experiments.run.store import read_runs, read_timeseries
from sim.errors import InputError

#: Files a sensitivity analysis may leave in an experiment folder (first found is used).
SENSITIVITY_FILES = ("sensitivity.parquet", "sensitivity.csv", "sensitivity.json")
MAX_HEATMAP_METRICS = 6
MAX_ATTAINMENT_LEVERS = 3


def read_sensitivity(folder: Path) -> pd.DataFrame | None:
    """The sensitivity table of an experiment folder, if an analysis left one.

    Expected columns: ``metric, parameter, S1, S1_conf, ST, ST_conf`` (extra columns kept).
    """
    for name in SENSITIVITY_FILES:
        path = folder / name
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            table = read_parquet(path)
        elif path.suffix == ".csv":
            try:
                table = pd.read_csv(path)
            except Exception as exc:
                raise InputError(f"cannot be read as CSV ({exc})", source=path) from None
        else:
            data = read_json(path)
            records = data.get("indices", data.get("rows")) if isinstance(data, dict) else data
            if not isinstance(records, list):
                raise InputError("expected a list of rows (or an 'indices' list)", source=path)
            table = pd.DataFrame(records)
        missing = [c for c in SENSITIVITY_COLUMNS if c not in table.columns]
        if missing:
            raise InputError(f"lacks the columns {missing} of a sensitivity table", source=path)
        return table
    return None


def sobol_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The rows of a sensitivity table that carry first-order and total indices, from one
    method and one base scenario (tables from several bases or methods, e.g. Morris rows
    without S1/ST, would otherwise mix in one bar chart), and a caption saying which."""
    rows = table[table["S1"].notna() | table["ST"].notna()]
    what = []
    for col in ("method", "base"):
        if col in rows.columns and rows[col].nunique() > 1:
            first = rows[col].iloc[0]
            rows = rows[rows[col] == first]
            what.append(f"{col} {first}")
        elif col in rows.columns and len(rows):
            what.append(f"{col} {rows[col].iloc[0]}")
    return rows, (" (" + ", ".join(what) + ")") if what else ""


#: Tables other analyses leave in an experiment folder, shown when present (first rows).
ANALYSIS_TABLES = {
    "national.csv": "National indicators (national ensemble) by year, with 95% bands",
    "attainment.csv": "Probability of meeting each 2025 target",
    "frontier.csv": "Design points on the cost frontier",
}


def _analysis_tables(folder: Path, limit: int = 60) -> list[tuple[str, str]]:
    out = []
    for name, title in ANALYSIS_TABLES.items():
        path = folder / name
        if not path.is_file():
            continue
        try:
            table = pd.read_csv(path)
        except Exception as exc:
            raise InputError(f"cannot be read as CSV ({exc})", source=path) from None
        rows = [[esc(num(v)) for v in r] for r in table.head(limit).itertuples(index=False)]
        more = (
            f"<p>First {limit} of {len(table)} rows; the whole table is {esc(name)}.</p>" if len(table) > limit else ""
        )
        out.append((title, html_table([str(c) for c in table.columns], rows, "numbers") + more))
    return out


def _national_tiers(folder: Path) -> Any | None:
    """The tier distribution by year from a national ensemble's ``national.csv``, if any."""
    path = folder / "national.csv"
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    if not {"indicator", "year", "mean"} <= set(table.columns):
        return None
    tiers = table[table["indicator"].astype(str).str.startswith("share_tier_")]
    if tiers.empty:
        return None
    shares = tiers.assign(tier=tiers["indicator"].str.removeprefix("share_tier_")).pivot(
        index="year", columns="tier", values="mean"
    )
    return tier_distribution(shares)


def _metric_indicator(manifest: dict[str, Any], column: str) -> tuple[str | None, str | None]:
    info = manifest.get("columns", {}).get("metrics", {}).get(column, {})
    return info.get("indicator"), info.get("stat")


def _target_metrics(manifest: dict[str, Any], runs: pd.DataFrame) -> list[tuple[str, TargetLine]]:
    """(metric column, reference line) for metrics that are an indicator's end value."""
    lines = target_lines()
    out = []
    for col in manifest.get("columns", {}).get("metrics", {}):
        ind, stat = _metric_indicator(manifest, col)
        if col in runs.columns and ind in lines and stat in ("final_year", "final"):
            out.extend((col, line) for line in lines[ind])
    return out


def _levers(manifest: dict[str, Any], runs: pd.DataFrame) -> list[str]:
    return [p for p in manifest.get("columns", {}).get("levers", {}) if p in runs.columns and runs[p].nunique() > 1]


def _plottable(runs: pd.DataFrame, lever: str) -> bool:
    col = runs[lever]
    return pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)


def experiment_figures(folder: Path, manifest: dict[str, Any], runs: pd.DataFrame) -> list[Figure]:
    """Figures drawn from an experiment's tables (and written to ``folder/figures``)."""
    ok = runs[runs["status"] == "ok"]
    figures: list[Figure] = []
    if ok.empty:
        return figures
    levers = [lv for lv in _levers(manifest, ok) if _plottable(ok, lv)]
    metrics = [c for c in manifest.get("columns", {}).get("metrics", {}) if c in ok.columns]
    metrics = [c for c in metrics if pd.api.types.is_numeric_dtype(ok[c]) and ok[c].notna().any()]
    sens = read_sensitivity(folder)
    if sens is not None:
        bars, which = sobol_rows(sens)
        if len(bars):
            figures.append(
                embed(
                    "sensitivity",
                    sensitivity_bars(bars),
                    f"First-order and total sensitivity indices of each lever, with confidence intervals{which}.",
                )
            )
            # heat maps over the two levers that matter most
            top = bars.sort_values("ST", ascending=False)["parameter"].tolist()
            levers = [p for p in dict.fromkeys(top) if p in levers] + [p for p in levers if p not in top]
    national = _national_tiers(folder)
    if national is not None:
        figures.append(
            embed("national_tiers", national, "Shares of county units by tier at the end of each year (national.csv).")
        )
    figures += _heatmaps(ok, levers, metrics)
    figures += _attainment_curves(manifest, ok, levers)
    figures += _frontiers(manifest, ok, metrics, levers)
    figures += _series(folder, ok)
    return _write_figures(folder / "figures", figures)


def _heatmaps(ok: pd.DataFrame, levers: list[str], metrics: list[str]) -> list[Figure]:
    """Each metric's mean over the two levers that matter most (the first two)."""
    if len(levers) < 2:
        return []
    x, y = levers[0], levers[1]
    return [
        embed(f"heatmap_{m}", lever_heatmap(ok, x, y, m), f"Mean {m} over the runs at each setting of {x} and {y}.")
        for m in metrics[:MAX_HEATMAP_METRICS]
    ]


def _attainment_curves(manifest: dict[str, Any], ok: pd.DataFrame, levers: list[str]) -> list[Figure]:
    """The share of runs meeting each reference line against each of the first levers."""
    figures = []
    for col, line in _target_metrics(manifest, ok):
        for lever in levers[:MAX_ATTAINMENT_LEVERS]:
            figures.append(
                embed(
                    f"attainment_{col}_{line.kind}_{lever}",
                    attainment_curve(ok, lever, col, line.value, line.op),
                    f"Share of runs with {col} {line.op} {line.value:g} ({line.label}) against {lever}, "
                    "with 95% Wilson intervals.",
                )
            )
    return figures


def _frontiers(manifest: dict[str, Any], ok: pd.DataFrame, metrics: list[str], levers: list[str]) -> list[Figure]:
    """Subsidy spent against (up to two) outcomes per design point, with the frontier."""
    if "subsidy_spent" not in metrics or not levers:
        return []
    points = ok.groupby("point", as_index=False)[[*metrics, *levers]].mean(numeric_only=True)
    points["package"] = [f"P{int(p)}" for p in points["point"]]
    outcomes = [c for c, _ in _target_metrics(manifest, ok)] or [m for m in metrics if m != "subsidy_spent"]
    return [
        embed(
            f"frontier_{outcome}",
            cost_frontier(points, "subsidy_spent", outcome, label_col="package"),
            f"Subsidy spent against {outcome} for each design point (mean over replicates); "
            "black squares are the packages no other package beats on both.",
        )
        for outcome in list(dict.fromkeys(outcomes))[:2]
    ]


def _series(folder: Path, ok: pd.DataFrame) -> list[Figure]:
    """Indicator series of up to 40 runs against the plan's lines (if the spec kept series)."""
    try:
        ts = read_timeseries(folder, sorted(ok["run_id"].astype(int))[:40])
        return [
            embed(
                "targets",
                indicator_series(ts),
                "Indicator series of up to 40 runs (thin) and their median (thick) against the plan's lines.",
            )
        ]
    except InputError:
        return []  # the spec did not keep time series


def _write_figures(fig_dir: Path, figures: list[Figure]) -> list[Figure]:
    """Write the figures into ``fig_dir``; returns them with the figures other analyses of the
    folder drew there (countysim analyze, the national ensemble)."""
    for f in figures:
        atomic.write_bytes(fig_dir / f"{f.name}.png", f.png)
        if f.svg is not None:
            atomic.write_bytes(fig_dir / f"{f.name}.svg", f.svg)
    mine = {f.name for f in figures}
    for path in sorted(fig_dir.glob("*.png")) if fig_dir.is_dir() else []:
        if path.stem not in mine:
            figures.append(Figure(path.stem, path.read_bytes(), "Drawn by another analysis of this folder."))
    return figures


def _metric_stats(manifest: dict[str, Any], ok: pd.DataFrame) -> str:
    metrics = manifest.get("columns", {}).get("metrics", {})
    rows = []
    for col, info in metrics.items():
        if col not in ok.columns:
            continue
        values = ok[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            # a date metric (first week a threshold was reached): earliest, median and latest date
            v = values.dropna()
            day = [esc(x.date()) if len(v) else "–" for x in (v.min(), v.median(), v.max())]
            reached = f"{len(v)} of {len(values)} runs reached it"
            rows.append([indicator_label(col), esc(info.get("stat", "")), reached, day[0], day[1], day[2], "", "date"])
            continue
        v = values.astype(float).dropna()
        q = v.quantile([0.05, 0.5, 0.95]) if len(v) else pd.Series([np.nan] * 3, index=[0.05, 0.5, 0.95])
        rows.append(
            [
                indicator_label(col),
                esc(info.get("stat", "")),
                num(v.mean() if len(v) else None),
                num(q[0.05]),
                num(q[0.5]),
                num(q[0.95]),
                num(v.std() if len(v) > 1 else None),
                esc(info.get("unit", "")),
            ]
        )
    return html_table(["metric", "statistic", "mean", "5%", "median", "95%", "sd", "unit"], rows, "numbers")


def _targets_section_experiment(manifest: dict[str, Any], ok: pd.DataFrame) -> str:
    rows = []
    for col, line in _target_metrics(manifest, ok):
        values = ok[col].astype(float).dropna()
        met = int(sum(line.met(v) for v in values))
        lo, hi = wilson_interval(np.array([met]), np.array([max(len(values), 1)]))
        rows.append(
            [
                indicator_label(col),
                esc(line.label),
                f"{esc(line.op)} {num(line.value)}",
                f"{met} of {len(values)}",
                f"{met / max(len(values), 1):.0%} <small>({lo[0]:.0%}–{hi[0]:.0%})</small>",
                f"<small>{esc(line.source)}</small>",
            ]
        )
    if not rows:
        return "<p>No metric of this experiment is an indicator with a 2025 line (final-year values).</p>"
    note = "<p>Lines from the model's default criteria file (configs/criteria/national.yaml).</p>"
    header = ["metric", "line", "threshold", "runs meeting it", "share (95% interval)", "source"]
    return note + html_table(header, rows, "targets")


def _points_table(manifest: dict[str, Any], runs: pd.DataFrame, limit: int = 60) -> str:
    levers = [p for p in manifest.get("columns", {}).get("levers", {}) if p in runs.columns]
    metrics = [c for c in manifest.get("columns", {}).get("metrics", {}) if c in runs.columns]
    numeric = [m for m in metrics if pd.api.types.is_numeric_dtype(runs[m])]
    ok = runs[runs["status"] == "ok"]
    if ok.empty:
        return "<p>No finished run.</p>"
    g = ok.groupby(["point", "base"], as_index=False)
    table = g[levers].first().merge(g[numeric].mean(), on=["point", "base"]).merge(g.size(), on=["point", "base"])
    rows = [
        [esc(int(r["point"])), esc(r["base"])]
        + [esc(num(r[c])) for c in levers]
        + [num(r[c]) for c in numeric]
        + [esc(int(r["size"]))]
        for _, r in table.head(limit).iterrows()
    ]
    more = f"<p>First {limit} of {len(table)} points.</p>" if len(table) > limit else ""
    return html_table(["point", "base", *levers, *numeric, "runs"], rows, "numbers") + more


def _lever_rows(manifest: dict[str, Any], runs: pd.DataFrame) -> list[list[Any]]:
    """Per lever: its kind, how many levels it took and its range (or first values)."""
    lever_rows = []
    for path, kind in manifest.get("columns", {}).get("levers", {}).items():
        if path in runs.columns:
            values = runs[path].dropna()
            span = (
                f"{num(values.min())} to {num(values.max())}"
                if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
                else ", ".join(num(v) for v in list(dict.fromkeys(values))[:8])
            )
            lever_rows.append([f"<code>{esc(path)}</code>", esc(kind), esc(values.nunique()), esc(span)])
    return lever_rows


def _experiment_card(folder: Path, manifest: dict[str, Any], runs: pd.DataFrame, ok: pd.DataFrame) -> str:
    """What was run: the experiment's facts, its levers, its base scenarios and the full spec."""
    failed = runs[runs["status"] != "ok"]
    design = manifest.get("design", {})
    spec = manifest.get("spec", {})
    lever_rows = _lever_rows(manifest, runs)
    base_rows = [
        [esc(b.get("label", "")), esc(b.get("scenario_file", "")), esc(json.dumps(b.get("overrides", {})))]
        for b in manifest.get("bases", [])
    ]
    facts = [
        ["experiment", f"<b>{esc(manifest.get('name', folder.name))}</b>"],
        ["description", esc(manifest.get("description", "") or "–")],
        ["design", esc(f"{design.get('method', '?')}, {design.get('points', '?')} point(s)")],
        ["replicates", esc(manifest.get("runs", {}).get("replicates", spec.get("replicates", "?")))],
        ["runs", esc(f"{len(ok)} ok, {len(failed)} failed, of {manifest.get('runs', {}).get('total', len(runs))}")],
        ["status", esc(manifest.get("status", "?"))],
        ["experiment seed", esc(spec.get("seed", "–"))],
        ["experiment hash", f"<code>{esc(manifest.get('hashes', {}).get('experiment', '–'))}</code>"],
        ["run time (sum over runs)", f"{num(manifest.get('timings', {}).get('run_seconds_total'))} s"],
        *provenance_rows(manifest),
    ]
    return (
        html_table(["", ""], facts, "card")
        + "<h3>Levers</h3>"
        + (html_table(["lever", "kind", "levels", "values"], lever_rows, "card") if lever_rows else "<p>None.</p>")
        + "<h3>Base scenarios</h3>"
        + html_table(["label", "scenario file", "overrides"], base_rows, "card")
        + "<details><summary>The full spec</summary><pre>"
        + html.escape(json.dumps(spec, indent=2, ensure_ascii=False, default=str))
        + "</pre></details>"
    )


def _failures(runs: pd.DataFrame) -> str:
    """The most frequent errors of failed runs (empty when none failed)."""
    failed = runs[runs["status"] != "ok"]
    if not len(failed):
        return ""
    counts = failed["error"].fillna("unknown").value_counts().head(5)
    return "<h3>Failed runs</h3>" + html_table(
        ["error", "runs"], [[esc(t), esc(n)] for t, n in counts.items()], "numbers"
    )


def _sensitivity_table(folder: Path) -> str:
    """The sensitivity indices an analysis left, as a table (empty when there are none)."""
    sens = read_sensitivity(folder)
    if sens is None:
        return ""
    # the indices each row has: Sobol'/eFAST S1 and ST, Morris mu* and sigma, PAWN, delta
    extra = [c for c in ("method", "base") if c in sens.columns]
    indices = ("S1", "S1_conf", "ST", "ST_conf", "mu_star", "mu_star_conf", "sigma", "pawn", "delta")
    shown = [c for c in indices if c in sens.columns and sens[c].notna().any()]
    rows = [
        [esc(r[c]) for c in extra]
        + [indicator_label(r["metric"]), f"<code>{esc(r['parameter'])}</code>"]
        + [num(r[c]) for c in shown]
        for _, r in sens.iterrows()
    ]
    return html_table([*extra, "metric", "lever", *shown], rows, "numbers")


def experiment_report(folder: str | Path) -> str:
    """The HTML page of an experiment folder."""
    folder = Path(folder)
    manifest = read_json(folder / "manifest.json")
    try:
        runs = read_runs(folder)
    except (OSError, ValueError, ArithmeticError) as exc:  # a damaged Parquet file (pyarrow's errors subclass these)
        raise InputError(f"its runs cannot be read ({type(exc).__name__}: {exc})", source=folder) from None
    if runs.empty:
        raise InputError("holds no finished runs yet", source=folder)
    ok = runs[runs["status"] == "ok"]
    card = _experiment_card(folder, manifest, runs, ok)
    failures = _failures(runs)
    sens_html = _sensitivity_table(folder)
    sections = [
        ("Experiment card", card),
        ("The plan's 2025 lines: how often they are met", _targets_section_experiment(manifest, ok)),
        ("Key numbers", _metric_stats(manifest, ok) + failures),
        ("Design points (mean over replicates)", _points_table(manifest, runs)),
    ]
    if sens_html:
        sections.append(("Sensitivity indices", sens_html))
    sections += _analysis_tables(folder)
    figures = experiment_figures(folder, manifest, runs)
    sections.append(
        ("Figures", "\n".join(figure_html(f) for f in figures) or "<p>No figure: no finished run varies a lever.</p>")
    )
    return page_html(f"countysim experiment: {manifest.get('name', folder.name)}", folder, sections)
