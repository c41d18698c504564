"""The report page of a run folder (``countysim run``): the run, its scenario card (what
differs from the defaults), the plan's 2025 lines with the value reached, the key numbers,
and the figures.

A run folder has ``manifest.json`` (kind ``run``), ``summary.json``, ``timeseries.parquet``
and usually ``figures/``; the map figures need the model, so only those already in
``figures/`` are shown, while series figures missing there are drawn from the time series.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
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
    require_files,
)
from experiments.report.plan_lines import target_lines
from experiments.report.run_plots import PLAN_SERIES, channel_shares, farm_sales, indicator_series, timeseries
from experiments.run import atomic
from sim.config import scenario_from_dict
from sim.errors import InputError

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
                indicator_label(t["indicator"]),
                esc(line.label),
                f"{esc(line.op)} {num(line.value)}",
                f"{num(t['value'])} <small>({esc(t['at'])})</small>",
                '<span class="met">met</span>' if t["met"] else '<span class="miss">not met</span>',
                esc(t["first_met"] or "never"),
                f"<small>{esc(line.source)}</small>",
            ]
        )
    if not rows:
        return f"<p>{esc(note)} No indicator of this run has a reference line.</p>"
    header = ["indicator", "line", "threshold", "value", "2025", "first met", "source"]
    return f"<p>{esc(note)}</p>" + html_table(header, rows, "targets")


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        path = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            out.update(_flatten(v, path))
        else:
            out[path] = v
    return out


def _scenario_card(scenario: dict[str, Any]) -> str:
    flat = _flatten(scenario)
    defaults = _flatten(scenario_from_dict({"name": scenario.get("name", "x")}).canonical())
    rows = [[f"<code>{esc(k)}</code>", esc(num(flat.get(k, "–")))] for k in CARD_FIELDS if k in flat]
    changed = [
        [f"<code>{esc(k)}</code>", esc(num(v)), esc(num(defaults.get(k, "–")))]
        for k, v in sorted(flat.items())
        if k not in ("name", "description", "seed") and defaults.get(k) != v
    ]
    parts = [html_table(["field", "value"], rows, "card")]
    parts.append("<h3>Settings that differ from the defaults</h3>")
    parts.append(html_table(["field", "value", "default"], changed, "card") if changed else "<p>None.</p>")
    full = html.escape(json.dumps(scenario, indent=2, ensure_ascii=False, default=str))
    parts.append(f"<details><summary>The full resolved scenario</summary><pre>{full}</pre></details>")
    return "\n".join(parts)


def _key_numbers_run(summary: dict[str, Any]) -> str:
    inds = summary.get("indicators", {})
    headline = [n for n in (*PLAN_SERIES, "subsidy_spent", "farm_income", "stores_open") if n in inds]

    def rows(names: Iterable[str]) -> list[list[Any]]:
        return [[indicator_label(n), num(inds[n].get("value")), esc(inds[n].get("unit", ""))] for n in names]

    final = summary.get("final_year", {})
    span = f"{final.get('from', '?')} to {final.get('to', '?')}"
    return (
        f"<p>Final-year values ({esc(span)}): stocks at the last week, rates averaged, counts added up.</p>"
        + html_table(["indicator", "final year", "unit"], rows(headline), "numbers")
        + "<details><summary>Every indicator</summary>"
        + html_table(["indicator", "final year", "unit"], rows(inds), "numbers")
        + "</details>"
    )


def run_figures_for_report(folder: Path, ts: pd.DataFrame) -> list[Figure]:
    """The run's figures: those in ``figures/``, and the series figures missing there, drawn
    from the time series and written into ``figures/`` (PNG and SVG) as well as the page.

    `countysim run` leaves the every-indicator sheet (``indicators``) to this step, and a run
    without figures (``outputs.figures: false``) gets its series figures here; the maps need
    the model and are shown only when the run drew them.
    """
    fig_dir = folder / "figures"
    found = {p.stem: p for p in fig_dir.glob("*.png")} if fig_dir.is_dir() else {}
    drawers = {
        "targets": indicator_series,
        "channel_shares": channel_shares,
        "farm_sales": farm_sales,
        "indicators": timeseries,
    }
    figures: dict[str, Figure] = {}
    for name, path in found.items():
        figures[name] = Figure(name, path.read_bytes(), FIGURE_CAPTIONS.get(name, ""))
    for name, draw in drawers.items():
        if name in figures:
            continue
        try:
            figures[name] = embed(name, draw(ts), FIGURE_CAPTIONS[name])
        except (KeyError, ValueError):
            continue  # a series from an older version without these columns
        fig_dir.mkdir(exist_ok=True)
        atomic.write_bytes(fig_dir / f"{name}.png", figures[name].png)
        atomic.write_bytes(fig_dir / f"{name}.svg", figures[name].svg)
    order = [n for n in RUN_FIGURE_ORDER if n in figures] + sorted(n for n in figures if n not in RUN_FIGURE_ORDER)
    return [figures[n] for n in order]


def run_report(folder: str | Path) -> str:
    """The HTML page of a run folder."""
    folder = Path(folder)
    require_files(folder, ("manifest.json", "summary.json", "timeseries.parquet"), "run")
    manifest = read_json(folder / "manifest.json")
    summary = read_json(folder / "summary.json")
    ts = read_parquet(folder / "timeseries.parquet")
    if "date" not in ts.columns or ts.empty:
        raise InputError("has no weekly rows with a date column", source=folder / "timeseries.parquet")
    scenario = manifest.get("scenario", {})
    name = scenario.get("name", folder.name)
    facts = [
        ["scenario", f"<b>{esc(name)}</b>"],
        ["description", esc(scenario.get("description", "") or "–")],
        ["seed", esc(manifest.get("seed", "–"))],
        ["weeks", esc(manifest.get("weeks", len(ts)))],
        ["scenario hash", f"<code>{esc(manifest.get('scenario_hash', '–'))}</code>"],
        ["wall time", f"{num(manifest.get('wall_seconds'))} s"],
        *provenance_rows(manifest),
    ]
    sections = [
        ("Run", html_table(["", ""], facts, "card")),
        ("Scenario card", _scenario_card(scenario)),
        ("The plan's 2025 lines", _targets_section_run(ts, scenario)),
        ("Key numbers", _key_numbers_run(summary)),
        ("Figures", "\n".join(figure_html(f) for f in run_figures_for_report(folder, ts))),
    ]
    return page_html(f"countysim run: {name}", folder, sections)
