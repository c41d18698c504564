"""``countysim report DIR``: one self-contained HTML page for a run or an experiment folder.

A researcher mails the page to a colleague who has no countysim, so everything is inside
it: figures as base64 PNG, the scenario card (what was run, what differs from the
defaults, where it came from), the table of the plan's 2025 lines and the key numbers.
No script, stylesheet or image is fetched from anywhere.

A run folder (``countysim run``) has ``manifest.json`` (kind ``run``), ``summary.json``,
``timeseries.parquet`` and usually ``figures/``; the map figures need the model, so only
those already in ``figures/`` are shown, while series figures missing there are drawn
from the time series. An experiment folder (``countysim experiment``) has
``manifest.json`` (kind ``experiment``) and its runs; its figures (lever heat maps,
attainment curves, the cost frontier, sensitivity bars when a sensitivity table is
present) are drawn from the runs table and also written to ``DIR/figures/``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.run import atomic
from sim.errors import InputError
from sim.policy.indicators import BY_NAME

REPORT = "report.html"
#: Scenario fields shown on every run's card, whether or not they differ from the defaults.
CARD_FIELDS = (
    "map.region",
    "map.size",
    "map.source",
    "timeline.start",
    "timeline.end",
    "population.households_per_agent",
    "policy.store_upgrade_subsidy",
    "policy.township_center_subsidy",
    "policy.annual_budget",
    "policy.local_cofunding_rate",
    "policy.codistribution.enabled",
    "policy.codistribution.parcel_subsidy",
    "carriers.village_delivery_fee",
    "anchors.training_capacity_per_month",
)
#: Figures of a run folder in reading order; others follow alphabetically.
RUN_FIGURE_ORDER = ("county_map", "logistics_map", "targets", "channel_shares", "farm_sales", "indicators")
FIGURE_CAPTIONS = {
    "county_map": "Villages by store situation, township commerce centres and roads at the end of the run.",
    "logistics_map": "Express delivery into villages and the delivery routes at the end of the run.",
    "targets": "Main indicators over time, the plan's phases shaded, with the 2025 target and basic-tier lines.",
    "channel_shares": "Where rural households buy everyday goods, month by month.",
    "farm_sales": "Farm sales by channel and online farm sales.",
    "indicators": "Every indicator, week by week.",
}
#: Files a sensitivity analysis may leave in an experiment folder (first found is used).
SENSITIVITY_FILES = ("sensitivity.parquet", "sensitivity.csv", "sensitivity.json")
MAX_HEATMAP_METRICS = 6
MAX_ATTAINMENT_LEVERS = 3


@dataclass
class Figure:
    """One embedded figure (the SVG, when there is one, is written beside the folder's PNG)."""

    name: str
    png: bytes
    caption: str
    svg: bytes | None = None


# --- reading folders ----------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot be read as JSON ({exc})", source=path) from None


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise InputError(f"cannot be read as Parquet ({type(exc).__name__}: {exc})", source=path) from None


def folder_kind(folder: str | Path) -> str:
    """``run`` or ``experiment``, from the folder's manifest.

    Raises:
        InputError: The folder is missing, not a folder, or holds no countysim manifest.
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputError("no such folder; give a run folder (countysim run) or an experiment folder", source=folder)
    if not folder.is_dir():
        raise InputError("is a file; give a run folder (countysim run) or an experiment folder", source=folder)
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise InputError(
            "is neither a run folder nor an experiment folder (no manifest.json); "
            "countysim run --out DIR or countysim experiment SPEC --out DIR makes one",
            source=folder,
        )
    data = _read_json(manifest)
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in ("run", "experiment"):
        raise InputError(f"manifest.json has kind {kind!r}; expected 'run' or 'experiment'", source=manifest)
    return kind


def _require(folder: Path, names: Iterable[str], what: str) -> None:
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise InputError(
            f"is a {what} folder but lacks {', '.join(missing)} (an interrupted or hand-edited folder?); "
            "rerun it to get a complete folder",
            source=folder,
        )


# --- small helpers ------------------------------------------------------------------------------


def _render(fig: Any, svg: bool = False) -> tuple[bytes, bytes | None]:
    """A figure as PNG bytes (and SVG bytes when asked), closing it."""
    import matplotlib.pyplot as plt

    out = []
    for fmt in ("png", "svg") if svg else ("png",):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=110, bbox_inches="tight")
        out.append(buf.getvalue())
    plt.close(fig)
    return out[0], (out[1] if svg else None)


def _png(fig: Any) -> bytes:
    return _render(fig)[0]


def _fig(name: str, fig: Any, caption: str) -> Figure:
    png, svg = _render(fig, svg=True)
    return Figure(name, png, caption, svg)


def _num(v: Any) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        a = abs(float(v))
        if a == 0:
            return "0"
        if a >= 1000:
            return f"{float(v):,.0f}"
        if a >= 1:
            return f"{float(v):,.2f}"
        return f"{float(v):.3g}"
    return str(v)


def _e(v: Any) -> str:
    return html.escape(str(v))


def _table(headers: list[str], rows: list[list[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    thead = f"<thead><tr>{head}</tr></thead>" if any(headers) else ""
    return f'<div class="wide"><table class="{cls}">{thead}<tbody>{body}</tbody></table></div>'


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        path = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            out.update(_flatten(v, path))
        else:
            out[path] = v
    return out


def _ind_label(name: str) -> str:
    ind = BY_NAME.get(name)
    return f"{_e(name)} <span class=zh>{_e(ind.zh)}</span>" if ind else _e(name)


def _figure_html(fig: Figure) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    return (
        f'<figure id="fig-{_e(fig.name)}"><img src="data:image/png;base64,{data}" alt="{_e(fig.caption or fig.name)}">'
        f"<figcaption><b>{_e(fig.name)}</b>: {_e(fig.caption)}</figcaption></figure>"
    )


def _provenance(manifest: dict[str, Any]) -> list[list[Any]]:
    versions = manifest.get("versions", {})
    machine = manifest.get("machine", {})
    return [
        ["created", _e(manifest.get("created", "–"))],
        ["git commit", f"<code>{_e(manifest.get('git_commit', '–'))}</code>"],
        ["versions", _e(", ".join(f"{k} {v}" for k, v in sorted(versions.items())))],
        ["machine", _e(", ".join(f"{k}: {v}" for k, v in machine.items()))],
    ]


# --- targets ----------------------------------------------------------------------------------


def _target_date() -> pd.Timestamp:
    return pd.Timestamp(2025, 12, 31)


def criteria_file(scenario: dict[str, Any]) -> tuple[Path | None, str]:
    """The criteria file a run's scenario names, if it can be found from here, and a note
    saying which file the report's lines come from."""
    named = (scenario.get("evaluation") or {}).get("criteria")
    if not named:
        return None, "Lines from the model's default criteria file (configs/criteria/national.yaml)."
    path = Path(named)
    if path.is_file():
        return path, f"Lines from the scenario's criteria file {path}."
    return None, (
        f"The scenario names the criteria file {named}, which is not found from here (it is relative to the "
        "scenario file); lines from the model's default criteria file instead."
    )


def run_targets(ts: pd.DataFrame, criteria: str | Path | None = None) -> list[dict[str, Any]]:
    """Each reference line on an indicator of the series: the value at the end of 2025 (or
    the run's last week if it ends earlier), whether it is met, and the first week it was.

    Args:
        ts: A run's weekly series.
        criteria: The criteria file the lines come from (default: the model's default).
    """
    from experiments.report.plots import target_lines

    dates = pd.to_datetime(ts["date"])
    upto = (dates <= _target_date()).to_numpy()
    at = int(np.flatnonzero(upto)[-1]) if upto.any() else len(ts) - 1
    out = []
    for name, lines in target_lines(criteria).items():
        if name not in ts.columns:
            continue
        series = ts[name].to_numpy(dtype=float)
        for line in lines:
            ok = series >= line.value if line.op == ">=" else series <= line.value
            first = int(np.argmax(ok)) if ok.any() else None
            out.append(
                {
                    "indicator": name,
                    "line": line,
                    "value": float(series[at]),
                    "at": dates.iloc[at].date().isoformat(),
                    "met": line.met(float(series[at])),
                    "first_met": dates.iloc[first].date().isoformat() if first is not None else None,
                }
            )
    return out


def _targets_section_run(ts: pd.DataFrame, scenario: dict[str, Any]) -> str:
    path, note = criteria_file(scenario)
    rows = []
    for t in run_targets(ts, path):
        line = t["line"]
        rows.append(
            [
                _ind_label(t["indicator"]),
                _e(line.label),
                f"{_e(line.op)} {_num(line.value)}",
                f"{_num(t['value'])} <small>({_e(t['at'])})</small>",
                '<span class="met">met</span>' if t["met"] else '<span class="miss">not met</span>',
                _e(t["first_met"] or "never"),
                f"<small>{_e(line.source)}</small>",
            ]
        )
    if not rows:
        return f"<p>{_e(note)} No indicator of this run has a reference line.</p>"
    header = ["indicator", "line", "threshold", "value", "2025", "first met", "source"]
    return f"<p>{_e(note)}</p>" + _table(header, rows, "targets")


# --- run folders ----------------------------------------------------------------------------------


def _scenario_card(scenario: dict[str, Any]) -> str:
    from sim.config import scenario_from_dict

    flat = _flatten(scenario)
    defaults = _flatten(scenario_from_dict({"name": scenario.get("name", "x")}).canonical())
    rows = [[f"<code>{_e(k)}</code>", _e(_num(flat.get(k, "–")))] for k in CARD_FIELDS if k in flat]
    changed = [
        [f"<code>{_e(k)}</code>", _e(_num(v)), _e(_num(defaults.get(k, "–")))]
        for k, v in sorted(flat.items())
        if k not in ("name", "description", "seed") and defaults.get(k) != v
    ]
    parts = [_table(["field", "value"], rows, "card")]
    parts.append("<h3>Settings that differ from the defaults</h3>")
    parts.append(_table(["field", "value", "default"], changed, "card") if changed else "<p>None.</p>")
    full = html.escape(json.dumps(scenario, indent=2, ensure_ascii=False, default=str))
    parts.append(f"<details><summary>The full resolved scenario</summary><pre>{full}</pre></details>")
    return "\n".join(parts)


def _key_numbers_run(summary: dict[str, Any]) -> str:
    from experiments.report.plots import PLAN_SERIES

    inds = summary.get("indicators", {})
    headline = [n for n in (*PLAN_SERIES, "subsidy_spent", "farm_income", "stores_open") if n in inds]

    def rows(names: Iterable[str]) -> list[list[Any]]:
        return [[_ind_label(n), _num(inds[n].get("value")), _e(inds[n].get("unit", ""))] for n in names]

    final = summary.get("final_year", {})
    span = f"{final.get('from', '?')} to {final.get('to', '?')}"
    return (
        f"<p>Final-year values ({_e(span)}): stocks at the last week, rates averaged, counts added up.</p>"
        + _table(["indicator", "final year", "unit"], rows(headline), "numbers")
        + "<details><summary>Every indicator</summary>"
        + _table(["indicator", "final year", "unit"], rows(inds), "numbers")
        + "</details>"
    )


def run_figures_for_report(folder: Path, ts: pd.DataFrame) -> list[Figure]:
    """The run's figures: those in ``figures/`` and, when missing there, the series figures."""
    from experiments.report import plots

    fig_dir = folder / "figures"
    found = {p.stem: p for p in fig_dir.glob("*.png")} if fig_dir.is_dir() else {}
    drawers = {
        "targets": plots.indicator_series,
        "channel_shares": plots.channel_shares,
        "farm_sales": plots.farm_sales,
    }
    figures: dict[str, Figure] = {}
    for name, path in found.items():
        figures[name] = Figure(name, path.read_bytes(), FIGURE_CAPTIONS.get(name, ""))
    for name, draw in drawers.items():
        if name not in figures:
            try:
                figures[name] = Figure(name, _png(draw(ts)), FIGURE_CAPTIONS[name] + " (drawn for this report)")
            except (KeyError, ValueError):
                continue  # a series from an older version without these columns
    order = [n for n in RUN_FIGURE_ORDER if n in figures] + sorted(n for n in figures if n not in RUN_FIGURE_ORDER)
    return [figures[n] for n in order]


def run_report(folder: str | Path) -> str:
    """The HTML page of a run folder."""
    folder = Path(folder)
    _require(folder, ("manifest.json", "summary.json", "timeseries.parquet"), "run")
    manifest = _read_json(folder / "manifest.json")
    summary = _read_json(folder / "summary.json")
    ts = _read_parquet(folder / "timeseries.parquet")
    if "date" not in ts.columns or ts.empty:
        raise InputError("has no weekly rows with a date column", source=folder / "timeseries.parquet")
    scenario = manifest.get("scenario", {})
    name = scenario.get("name", folder.name)
    facts = [
        ["scenario", f"<b>{_e(name)}</b>"],
        ["description", _e(scenario.get("description", "") or "–")],
        ["seed", _e(manifest.get("seed", "–"))],
        ["weeks", _e(manifest.get("weeks", len(ts)))],
        ["scenario hash", f"<code>{_e(manifest.get('scenario_hash', '–'))}</code>"],
        ["wall time", f"{_num(manifest.get('wall_seconds'))} s"],
        *_provenance(manifest),
    ]
    sections = [
        ("Run", _table(["", ""], facts, "card")),
        ("Scenario card", _scenario_card(scenario)),
        ("The plan's 2025 lines", _targets_section_run(ts, scenario)),
        ("Key numbers", _key_numbers_run(summary)),
        ("Figures", "\n".join(_figure_html(f) for f in run_figures_for_report(folder, ts))),
    ]
    return _page(f"countysim run: {name}", folder, sections)


# --- experiment folders ----------------------------------------------------------------------


def read_sensitivity(folder: Path) -> pd.DataFrame | None:
    """The sensitivity table of an experiment folder, if an analysis left one.

    Expected columns: ``metric, parameter, S1, S1_conf, ST, ST_conf`` (extra columns kept).
    """
    from experiments.report.plots import SENSITIVITY_COLUMNS

    for name in SENSITIVITY_FILES:
        path = folder / name
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            table = _read_parquet(path)
        elif path.suffix == ".csv":
            try:
                table = pd.read_csv(path)
            except Exception as exc:
                raise InputError(f"cannot be read as CSV ({exc})", source=path) from None
        else:
            data = _read_json(path)
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
        rows = [[_e(_num(v)) for v in r] for r in table.head(limit).itertuples(index=False)]
        more = (
            f"<p>First {limit} of {len(table)} rows; the whole table is {_e(name)}.</p>" if len(table) > limit else ""
        )
        out.append((title, _table([str(c) for c in table.columns], rows, "numbers") + more))
    return out


def _national_tiers(folder: Path) -> Any | None:
    """The tier distribution by year from a national ensemble's ``national.csv``, if any."""
    path = folder / "national.csv"
    if not path.is_file():
        return None
    from experiments.report import plots

    table = pd.read_csv(path)
    if not {"indicator", "year", "mean"} <= set(table.columns):
        return None
    tiers = table[table["indicator"].astype(str).str.startswith("share_tier_")]
    if tiers.empty:
        return None
    shares = tiers.assign(tier=tiers["indicator"].str.removeprefix("share_tier_")).pivot(
        index="year", columns="tier", values="mean"
    )
    return plots.tier_distribution(shares)


def _metric_indicator(manifest: dict[str, Any], column: str) -> tuple[str | None, str | None]:
    info = manifest.get("columns", {}).get("metrics", {}).get(column, {})
    return info.get("indicator"), info.get("stat")


def _target_metrics(manifest: dict[str, Any], runs: pd.DataFrame) -> list[tuple[str, Any]]:
    """(metric column, reference line) for metrics that are an indicator's end value."""
    from experiments.report.plots import target_lines

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
    from experiments.report import plots

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
                _fig(
                    "sensitivity",
                    plots.sensitivity_bars(bars),
                    f"First-order and total sensitivity indices of each lever, with confidence intervals{which}.",
                )
            )
            # heat maps over the two levers that matter most
            top = bars.sort_values("ST", ascending=False)["parameter"].tolist()
            levers = [p for p in dict.fromkeys(top) if p in levers] + [p for p in levers if p not in top]
    national = _national_tiers(folder)
    if national is not None:
        figures.append(
            _fig("national_tiers", national, "Shares of county units by tier at the end of each year (national.csv).")
        )
    if len(levers) >= 2:
        x, y = levers[0], levers[1]
        for m in metrics[:MAX_HEATMAP_METRICS]:
            figures.append(
                _fig(
                    f"heatmap_{m}",
                    plots.lever_heatmap(ok, x, y, m),
                    f"Mean {m} over the runs at each setting of {x} and {y}.",
                )
            )
    for col, line in _target_metrics(manifest, ok):
        for lever in levers[:MAX_ATTAINMENT_LEVERS]:
            figures.append(
                _fig(
                    f"attainment_{col}_{line.kind}_{lever}",
                    plots.attainment_curve(ok, lever, col, line.value, line.op),
                    f"Share of runs with {col} {line.op} {line.value:g} ({line.label}) against {lever}, "
                    "with 95% Wilson intervals.",
                )
            )
    if "subsidy_spent" in metrics and levers:
        points = ok.groupby("point", as_index=False)[[*metrics, *levers]].mean(numeric_only=True)
        points["package"] = [f"P{int(p)}" for p in points["point"]]
        outcomes = [c for c, _ in _target_metrics(manifest, ok)] or [m for m in metrics if m != "subsidy_spent"]
        for outcome in list(dict.fromkeys(outcomes))[:2]:
            figures.append(
                _fig(
                    f"frontier_{outcome}",
                    plots.cost_frontier(points, "subsidy_spent", outcome, label_col="package"),
                    f"Subsidy spent against {outcome} for each design point (mean over replicates); "
                    "black squares are the packages no other package beats on both.",
                )
            )
    try:
        from experiments.run.store import read_timeseries

        ts = read_timeseries(folder, sorted(ok["run_id"].astype(int))[:40])
        figures.append(
            _fig(
                "targets",
                plots.indicator_series(ts),
                "Indicator series of up to 40 runs (thin) and their median (thick) against the plan's lines.",
            )
        )
    except InputError:
        pass  # the spec did not keep time series
    fig_dir = folder / "figures"
    for f in figures:
        atomic.write_bytes(fig_dir / f"{f.name}.png", f.png)
        if f.svg is not None:
            atomic.write_bytes(fig_dir / f"{f.name}.svg", f.svg)
    # figures other analyses of this folder drew (countysim analyze, the national ensemble)
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
            day = [_e(x.date()) if len(v) else "–" for x in (v.min(), v.median(), v.max())]
            reached = f"{len(v)} of {len(values)} runs reached it"
            rows.append([_ind_label(col), _e(info.get("stat", "")), reached, day[0], day[1], day[2], "", "date"])
            continue
        v = values.astype(float).dropna()
        q = v.quantile([0.05, 0.5, 0.95]) if len(v) else pd.Series([np.nan] * 3, index=[0.05, 0.5, 0.95])
        rows.append(
            [
                _ind_label(col),
                _e(info.get("stat", "")),
                _num(v.mean() if len(v) else None),
                _num(q[0.05]),
                _num(q[0.5]),
                _num(q[0.95]),
                _num(v.std() if len(v) > 1 else None),
                _e(info.get("unit", "")),
            ]
        )
    return _table(["metric", "statistic", "mean", "5%", "median", "95%", "sd", "unit"], rows, "numbers")


def _targets_section_experiment(manifest: dict[str, Any], ok: pd.DataFrame) -> str:
    from experiments.report.plots import wilson_interval

    rows = []
    for col, line in _target_metrics(manifest, ok):
        values = ok[col].astype(float).dropna()
        met = int(sum(line.met(v) for v in values))
        lo, hi = wilson_interval(np.array([met]), np.array([max(len(values), 1)]))
        rows.append(
            [
                _ind_label(col),
                _e(line.label),
                f"{_e(line.op)} {_num(line.value)}",
                f"{met} of {len(values)}",
                f"{met / max(len(values), 1):.0%} <small>({lo[0]:.0%}–{hi[0]:.0%})</small>",
                f"<small>{_e(line.source)}</small>",
            ]
        )
    if not rows:
        return "<p>No metric of this experiment is an indicator with a 2025 line (final-year values).</p>"
    note = "<p>Lines from the model's default criteria file (configs/criteria/national.yaml).</p>"
    header = ["metric", "line", "threshold", "runs meeting it", "share (95% interval)", "source"]
    return note + _table(header, rows, "targets")


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
        [_e(int(r["point"])), _e(r["base"])]
        + [_e(_num(r[c])) for c in levers]
        + [_num(r[c]) for c in numeric]
        + [_e(int(r["size"]))]
        for _, r in table.head(limit).iterrows()
    ]
    more = f"<p>First {limit} of {len(table)} points.</p>" if len(table) > limit else ""
    return _table(["point", "base", *levers, *numeric, "runs"], rows, "numbers") + more


def experiment_report(folder: str | Path) -> str:
    """The HTML page of an experiment folder."""
    from experiments.run.store import read_runs

    folder = Path(folder)
    manifest = _read_json(folder / "manifest.json")
    try:
        runs = read_runs(folder)
    except (OSError, ValueError, ArithmeticError) as exc:  # a damaged Parquet file (pyarrow's errors subclass these)
        raise InputError(f"its runs cannot be read ({type(exc).__name__}: {exc})", source=folder) from None
    if runs.empty:
        raise InputError("holds no finished runs yet", source=folder)
    ok = runs[runs["status"] == "ok"]
    failed = runs[runs["status"] != "ok"]
    design = manifest.get("design", {})
    spec = manifest.get("spec", {})
    lever_rows = []
    for path, kind in manifest.get("columns", {}).get("levers", {}).items():
        if path in runs.columns:
            values = runs[path].dropna()
            span = (
                f"{_num(values.min())} to {_num(values.max())}"
                if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
                else ", ".join(_num(v) for v in list(dict.fromkeys(values))[:8])
            )
            lever_rows.append([f"<code>{_e(path)}</code>", _e(kind), _e(values.nunique()), _e(span)])
    base_rows = [
        [_e(b.get("label", "")), _e(b.get("scenario_file", "")), _e(json.dumps(b.get("overrides", {})))]
        for b in manifest.get("bases", [])
    ]
    facts = [
        ["experiment", f"<b>{_e(manifest.get('name', folder.name))}</b>"],
        ["description", _e(manifest.get("description", "") or "–")],
        ["design", _e(f"{design.get('method', '?')}, {design.get('points', '?')} point(s)")],
        ["replicates", _e(manifest.get("runs", {}).get("replicates", spec.get("replicates", "?")))],
        ["runs", _e(f"{len(ok)} ok, {len(failed)} failed, of {manifest.get('runs', {}).get('total', len(runs))}")],
        ["status", _e(manifest.get("status", "?"))],
        ["experiment seed", _e(spec.get("seed", "–"))],
        ["experiment hash", f"<code>{_e(manifest.get('hashes', {}).get('experiment', '–'))}</code>"],
        ["run time (sum over runs)", f"{_num(manifest.get('timings', {}).get('run_seconds_total'))} s"],
        *_provenance(manifest),
    ]
    card = (
        _table(["", ""], facts, "card")
        + "<h3>Levers</h3>"
        + (_table(["lever", "kind", "levels", "values"], lever_rows, "card") if lever_rows else "<p>None.</p>")
        + "<h3>Base scenarios</h3>"
        + _table(["label", "scenario file", "overrides"], base_rows, "card")
        + "<details><summary>The full spec</summary><pre>"
        + html.escape(json.dumps(spec, indent=2, ensure_ascii=False, default=str))
        + "</pre></details>"
    )
    failures = ""
    if len(failed):
        counts = failed["error"].fillna("unknown").value_counts().head(5)
        failures = "<h3>Failed runs</h3>" + _table(
            ["error", "runs"], [[_e(t), _e(n)] for t, n in counts.items()], "numbers"
        )
    sens = read_sensitivity(folder)
    sens_html = ""
    if sens is not None:
        # the indices each row has: Sobol'/eFAST S1 and ST, Morris mu* and sigma, PAWN, delta
        extra = [c for c in ("method", "base") if c in sens.columns]
        indices = ("S1", "S1_conf", "ST", "ST_conf", "mu_star", "mu_star_conf", "sigma", "pawn", "delta")
        shown = [c for c in indices if c in sens.columns and sens[c].notna().any()]
        rows = [
            [_e(r[c]) for c in extra]
            + [_ind_label(r["metric"]), f"<code>{_e(r['parameter'])}</code>"]
            + [_num(r[c]) for c in shown]
            for _, r in sens.iterrows()
        ]
        sens_html = _table([*extra, "metric", "lever", *shown], rows, "numbers")
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
        ("Figures", "\n".join(_figure_html(f) for f in figures) or "<p>No figure: no finished run varies a lever.</p>")
    )
    return _page(f"countysim experiment: {manifest.get('name', folder.name)}", folder, sections)


# --- the page ----------------------------------------------------------------------------------

#: The family name of the embedded CJK subset (see :func:`cjk_font_face`).
CJK_WEB_FAMILY = "countysim-cjk"
CSS = """
body { font-family: "DejaVu Sans", "Noto Sans", Arial, countysim-cjk, sans-serif;
       max-width: 1180px; margin: 2em auto; padding: 0 1em; color: #111; line-height: 1.4; }
h1 { font-size: 1.6em; border-bottom: 2px solid #111; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
th, td { border: 1px solid #bbb; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #eee; }
div.wide { overflow-x: auto; }
table.numbers td:not(:first-child) { text-align: right; }
.zh { color: #555; }
.met { font-weight: bold; }
.miss { font-style: italic; text-decoration: underline; }
figure { margin: 1.2em 0; page-break-inside: avoid; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .85em; color: #333; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; font-size: .8em; }
footer { margin-top: 3em; font-size: .8em; color: #555; }
"""


def cjk_font_face(text: str) -> str:
    """A CSS @font-face with the page's Chinese characters, cut from the figures' CJK font.

    The reader's machine may have no Chinese font (a headless browser, a minimal Linux), so
    the page carries the few dozen glyphs it uses, as an embedded WOFF subset of tens of
    kilobytes, instead of pointing at a web font.
    """
    chars = "".join(sorted({c for c in text if ord(c) >= 0x2E80}))
    if not chars:
        return ""
    from fontTools import subset
    from matplotlib import font_manager

    from experiments.report import style

    path = style.bundled_cjk_file()
    if path is None and style.CJK_FAMILY is not None:
        path = Path(font_manager.findfont(font_manager.FontProperties(family=style.CJK_FAMILY)))
    if path is None:
        return ""
    options = subset.Options()
    options.flavor = "woff"
    font = subset.load_font(str(path), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    buf = io.BytesIO()
    subset.save_font(font, buf, options)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"@font-face {{ font-family: '{CJK_WEB_FAMILY}'; src: url(data:font/woff;base64,{data}) format('woff'); }}"


def _page(title: str, folder: Path, sections: list[tuple[str, str]]) -> str:
    toc = "".join(f'<li><a href="#s{k}">{_e(h)}</a></li>' for k, (h, _) in enumerate(sections))
    body = "".join(f'<section id="s{k}"><h2>{_e(h)}</h2>{c}</section>' for k, (h, c) in enumerate(sections))
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    content = (
        f"<h1>{_e(title)}</h1><p>County Commerce Three-Year Action Plan (县域商业三年行动计划 2023–2025) "
        f"simulation. Folder: <code>{_e(folder.resolve())}</code>.</p><ul>{toc}</ul>{body}"
        f"<footer>Written by countysim report at {now}. Figures, tables and the Chinese glyphs are inside "
        "this page; nothing is loaded from elsewhere.</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{cjk_font_face(content + title)}{CSS}</style></head>"
        f"<body>{content}</body></html>\n"
    )


def write_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of a run or experiment folder (atomically) and return its path.

    Args:
        folder: A run folder or an experiment folder.
        out: The HTML file (default ``folder/report.html``).

    Raises:
        InputError: The folder is not a complete run or experiment folder, or ``out`` is a folder.
    """
    folder = Path(folder)
    kind = folder_kind(folder)
    target = Path(out) if out is not None else folder / REPORT
    if target.is_dir():
        raise InputError("is a folder; give a file name for the report, e.g. report.html", source=target)
    page = run_report(folder) if kind == "run" else experiment_report(folder)
    atomic.write_text(target, page)
    return target
