"""One run written to a folder: the series, the summary, the manifest and the figures.

The folder is staged under a temporary name and renamed into place when everything is
written, so an interrupted or failed run never leaves a folder that looks complete. The
figures are drawn by the caller's function (the command line's draws them in two worker
processes, :mod:`experiments.cli.figures`): the run layer writes, the report layer draws.
Drawing starts before the tables are written and the folder is renamed into place only
after the drawing has finished, so the two overlap and the folder stays all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from experiments.run import atomic, provenance
from sim.config import Scenario, criteria_for, scenario_from_dict
from sim.model import CountyModel, RunResult
from sim.policy.evaluation import TIER_LABELS, cost_effectiveness, targets_2025
from sim.policy.indicators import BY_NAME

TIMESERIES, SUMMARY, MANIFEST, FIGURES = "timeseries.parquet", "summary.json", "manifest.json", "figures"
CARRIERS = "carriers.parquet"

#: Starts drawing a run's figures into a folder: (the model after its run, its weekly
#: series, the folder). Returns a function that waits until every figure is written and
#: raises what drawing raised; once it returns or raises, nothing more is written there.
DrawFigures = Callable[[CountyModel, Any, Path], Callable[[], list[Path]]]


def write_parquet(df: Any, path: Path) -> None:
    """Write a DataFrame as Parquet atomically."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    atomic.write_bytes(path, buf.getvalue())


def manifest(scenario: Scenario, result: RunResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a run folder records about its inputs and provenance."""
    return {
        "kind": "run",
        "scenario": scenario.canonical(),
        "scenario_hash": result.scenario_hash,
        "seed": result.seed,
        "weeks": len(result.timeseries),
        "wall_seconds": round(result.wall_seconds, 3),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": provenance.package_versions(),
        "git_commit": provenance.git_commit(),
        "machine": provenance.machine(),
        "criteria": result.evaluation.get("criteria"),
        **(extra or {}),
    }


def no_plan(scenario: Scenario) -> Scenario:
    """The same scenario with every programme off (``policy.enabled: false``): the
    counterfactual a cost-effectiveness comparison needs."""
    data = scenario.canonical()
    data["policy"]["enabled"] = False
    return scenario_from_dict(
        data, source=f"{scenario._source or scenario.name} (no plan)", base_dir=scenario._base_dir
    )


def scoreboard(scenario: Scenario, result: RunResult, counterfactual: RunResult | None = None) -> dict[str, Any]:
    """The evaluation, 2025 targets, cost-effectiveness and budget blocks of ``summary.json``."""
    criteria = criteria_for(scenario).criteria
    assert result.facts is not None, "a model run records its county facts"
    return {
        "evaluation": result.evaluation,
        "targets_2025": targets_2025(result.timeseries, criteria),
        "cost_effectiveness": cost_effectiveness(
            result.timeseries,
            result.budget,
            result.facts,
            counterfactual=counterfactual.timeseries if counterfactual is not None else None,
        ),
        "budget": result.budget,
    }


def run_to_folder(
    scenario: Scenario,
    out: str | Path,
    seed: int | None = None,
    progress: bool | None = None,
    figures: bool | None = None,
    counterfactual: bool = False,
    draw: DrawFigures | None = None,
) -> tuple[RunResult, Path]:
    """Run a scenario and write its outputs into ``out``.

    Args:
        scenario: The validated scenario.
        out: Output folder (replaced atomically if it exists).
        seed: Overrides the scenario's seed.
        progress: Progress bar on/off (None: the scenario's setting).
        figures: Write figures (None: the scenario's ``outputs.figures``), if there is
            a ``draw`` to draw them.
        counterfactual: Also run the scenario with the policy off on the same seed and
            measure cost-effectiveness against it (twice the run time); otherwise
            against the run's own start.
        draw: Starts drawing the figures into ``figures/`` of the staged folder, so they
            are moved into place with the rest (see :data:`DrawFigures`; the command line
            passes :meth:`experiments.cli.figures.FigureProcesses.draw`); None: no figures.

    Returns:
        The run's result and the folder written.
    """
    model = CountyModel(scenario, seed=seed)
    result = model.run(progress=progress)
    cf = None
    if counterfactual:
        cf = CountyModel(no_plan(scenario), seed=result.seed, county=model.county).run(progress=progress)
    out = Path(out)
    drawing = draw is not None and (scenario.outputs.figures if figures is None else figures)
    with atomic.staged_dir(out) as stage:
        # figures first: they may be drawn elsewhere while this process writes the tables
        wait = draw(model, result.timeseries, stage / FIGURES) if draw is not None and drawing else None
        try:
            write_parquet(result.timeseries, stage / TIMESERIES)
            write_parquet(result.carriers, stage / CARRIERS)
            atomic.write_json(stage / SUMMARY, run_summary(scenario, result, cf))
            atomic.write_json(stage / MANIFEST, manifest(scenario, result))
        finally:
            # also when a table failed: no figure may still be written when the stage is removed
            if wait is not None:
                wait()
    return result, out


def run_summary(scenario: Scenario, result: RunResult, counterfactual: RunResult | None = None) -> dict[str, Any]:
    """What ``summary.json`` says of a run: final-year indicators, events, carriers, periods and the scoreboard."""
    return {
        "scenario": scenario.name,
        "seed": result.seed,
        "final_year": {
            "from": result.timeseries["date"].iloc[max(0, len(result.timeseries) - 52)].date().isoformat(),
            "to": result.timeseries["date"].iloc[-1].date().isoformat(),
        },
        "indicators": {
            name: {
                "value": value,
                "unit": BY_NAME[name].summary_unit,
                "zh": BY_NAME[name].zh,
                "summary": BY_NAME[name].summary,
            }
            for name, value in result.summary.items()
        },
        "events": {k: len(v) for k, v in result.events.items()},
        "carriers_final_week": _final_carriers(result),
        "periods": period_totals(result.timeseries),
        **scoreboard(scenario, result, counterfactual),
    }


def period_totals(ts: Any) -> dict[str, dict[str, dict[str, float]]]:
    """Monthly and yearly values of every indicator, by its summary rule.

    Weekly counts (``sum``) are added up, weekly rates (``mean``) averaged, and stocks
    (``last``) taken at the period's last week. Weeks belong to the period of their first day.
    """
    frame = ts.set_index("date").drop(columns=["step"])
    out: dict[str, dict[str, dict[str, float]]] = {"monthly": {}, "yearly": {}}
    for label, freq, fmt in (("monthly", "MS", "%Y-%m"), ("yearly", "YS", "%Y")):
        grouped = frame.resample(freq)
        for name in frame.columns:
            rule = BY_NAME[name].summary
            series = {"sum": grouped[name].sum, "mean": grouped[name].mean, "last": grouped[name].last}[rule]()
            out[label][name] = {k.strftime(fmt): float(v) for k, v in series.dropna().items()}
    return out


def _final_carriers(result: RunResult) -> list[dict[str, Any]]:
    """Each carrier's books in the last week (profit, villages served, Shapley cost share)."""
    df = result.carriers
    if df.empty:
        return []
    last = df[df["step"] == df["step"].max()].drop(columns=["date"])
    return [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()} for row in last.to_dict("records")
    ]


def summary_table(result: RunResult) -> str:
    """A short plain-text table of the final-year values, for the terminal."""
    width = max(len(n) for n in result.summary)
    lines = [f"{'indicator':{width}s} {'final year':>14s}  unit"]
    for name, value in result.summary.items():
        ind = BY_NAME[name]
        text = f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
        lines.append(f"{name:{width}s} {text:>14s}  {ind.summary_unit}")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"


def evaluation_table(summary: dict[str, Any]) -> str:
    """The tier, the leading-county status and the 2025 target table, for the terminal."""
    ev = summary["evaluation"]
    lines = [
        f"county tier: {ev['tier']} {ev['tier_name']} ({ev['tier_zh']}), criteria '{ev['criteria']['name']}'",
        f"leading county (领跑县): {'yes' if ev['leading_county'] else 'no'}",
        "reviews: "
        + "; ".join(
            f"{r['date']} {r['stage']} {TIER_LABELS[r['tier']]}" + (f" ({r['change']})" if r["change"] else "")
            for r in ev["reviews"]
        ),
    ]
    targets = summary["targets_2025"]
    if targets:
        lines.append(f"2025 targets (value on {targets[0]['evaluated_at']}, target date {targets[0]['by']}):")
        lines.append(f"  {'target':30s} {'indicator':28s} {'goal':>14s} {'value':>12s}  {'met':3s}  first met")
        for t in targets:
            goal = f"> start {_fmt(t['threshold'])}" if t["op"] == "increase" else f"{t['op']} {_fmt(t['threshold'])}"
            lines.append(
                f"  {t['name']:30s} {t['indicator']:28s} {goal:>14s} {_fmt(t['value']):>12s}  "
                f"{'yes' if t['met'] else 'no':3s}  {t['first_met'] or '-'}"
            )
    return "\n".join(lines)


__all__ = ["evaluation_table", "no_plan", "run_summary", "run_to_folder", "scoreboard", "summary_table"]
