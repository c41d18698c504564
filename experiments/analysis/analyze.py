"""Analysing an experiment folder: sensitivity, target attainment, scenario discovery, frontier.

``countysim experiment SPEC`` analyses an experiment folder when a Sobol', Morris or
eFAST design (or any design with a ``sensitivity`` section) has finished; ``countysim
analyze DIR`` analyses any experiment folder, finished or not, as often as wanted (with
other methods or settings: the analysis changes no run). It reads only the
folder (manifest, design and runs tables) and writes, each file atomically::

    sensitivity.csv / .json    indices with confidence intervals per base, method, metric and lever;
                               the seed's share of variance; the convergence verdicts (JSON)
    attainment.csv / .json     per 2025 target: runs, probability of meeting it, interval, AUC;
                               attainment_dependence.csv: the logistic model's lever effects
    prim_boxes.json            PRIM boxes where targets are met and where they are missed
    frontier.csv               design points on the cost frontier of each target indicator

It draws nothing: :func:`experiments.report.experiment_analysis.analyze_experiment` (the
public ``experiments.analyze_experiment``) runs :func:`analyze_folder` and then draws the
figures (index bars, the Morris μ*–σ plot, attainment curves, frontiers) from the
:class:`AnalysisSummary` it returns.

The 2025 targets come from the criteria file of the experiment's first base scenario
(``sim.config.criteria``), each read from the metric column that measures it (see
:func:`experiments.analysis.attainment.goals_from_criteria`); targets without one are listed
with the metric to add.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.attainment import (
    ALL_GOALS,
    Attainment,
    Goal,
    attainment,
    goals_from_criteria,
    lever_features,
    met_table,
)
from experiments.analysis.discovery import Box, discover
from experiments.analysis.frontier import COST_INDICATORS, cheapest, frontier, point_table
from experiments.analysis.records import jsonable, records
from experiments.analysis.sensitivity import INDEX_COLUMNS, SensitivityResult, analyze_samples
from experiments.run import atomic, provenance
from experiments.run.store import DESIGN, read_manifest, read_runs
from experiments.spec.experiment import SensitivitySettings
from experiments.spec.methods import DEFAULT_METHODS, READS
from sim.config import apply_overrides, criteria_for, load_criteria, read_yaml, scenario_from_dict
from sim.errors import InputError

#: Bootstrap refits of each logistic model at most (each is a full fit).
MAX_LOGISTIC_RESAMPLES = 100
#: PRIM boxes printed on the terminal at most (all are in prim_boxes.json).
MAX_SUMMARY_BOXES = 4


@dataclass
class AnalysisSummary:
    """What an analysis found and wrote.

    It carries what the figures are drawn from (:mod:`experiments.report.analysis_figures`),
    so that they need not read the folder again.

    Attributes:
        folder: The experiment folder.
        files: Files written.
        sensitivity: Results by (base, method).
        attainment: Target attainment (None when not asked for or no target was measured).
        boxes: PRIM boxes.
        frontier: Frontier points (None without a cost metric).
        cheapest: The cheapest design point meeting every target often enough (None: none does).
        notes: Caveats, in words.
        methods: The sensitivity methods run.
        sensitivity_table: The table written to sensitivity.csv (every method's indices per
            base, metric and lever; empty when no method ran).
        ok_runs: The successful runs.
        goals: The 2025 targets as goals on metric columns (empty when targets were not analysed).
        points: Design points with their fiscal cost (None without a cost metric).
    """

    folder: Path
    files: list[Path] = field(default_factory=list)
    sensitivity: dict[tuple[str, str], SensitivityResult] = field(default_factory=dict)
    attainment: Attainment | None = None
    boxes: list[Box] = field(default_factory=list)
    frontier: pd.DataFrame | None = None
    cheapest: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    sensitivity_table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["base", *INDEX_COLUMNS]))
    ok_runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    goals: list[Goal] = field(default_factory=list)
    points: pd.DataFrame | None = None

    def text(self) -> str:
        """A plain-language summary for the terminal."""
        lines = []
        for (base, method), r in self.sensitivity.items():
            where = f" on {base}" if len({b for b, _ in self.sensitivity}) > 1 else ""
            lines.append(f"{method}{where}: n = {r.n}, {r.points} points x {r.replicates} replicate(s)")
            seeds = r.seed_variance.set_index("metric")["seed_share"]
            for _, conv in r.convergence.iterrows():
                metric = conv["metric"]
                top = _top(r, metric)
                share = seeds.get(metric)
                seed = f"; the seed makes {share:.0%} of its run-to-run variance" if _finite(share) else ""
                lines.append(f"  {metric}: most influential {top}{seed}" if top else f"  {metric}:")
                lines.append(f"    {conv['verdict']}")
        if self.attainment is not None:
            for _, row in self.attainment.probabilities.iterrows():
                lines.append(
                    f"target {row['goal']}: met in {row['met']} of {row['runs']} runs "
                    f"(p = {row['probability']:.2f}, {row['ci_low']:.2f}-{row['ci_high']:.2f})"
                )
            for m in self.attainment.missing:
                lines.append(f"target {m['name']}: not measured; {m['hint']}")
        if self.attainment is not None:
            shown = [b for b in self.boxes if b.outcome == ALL_GOALS]
            shown += [b for b in self.boxes if b.outcome != ALL_GOALS and b.reached][: MAX_SUMMARY_BOXES - len(shown)]
            lines.extend("PRIM: " + b.describe() for b in shown)
            if not any(b.outcome == ALL_GOALS for b in self.boxes):
                lines.append(
                    "PRIM: no box for all targets together (it needs runs that meet them all and runs that do not)"
                )
            if len(self.boxes) > len(shown):
                lines.append(f"PRIM: {len(self.boxes) - len(shown)} more box(es) in prim_boxes.json")
        if self.cheapest is not None:
            lines.append(
                f"cheapest design point meeting every target often enough: point {self.cheapest.get('point')} "
                f"at {self.cheapest.get('fiscal_cost', float('nan')):,.0f} yuan (frontier.csv has the frontiers)"
            )
        elif self.frontier is not None:
            lines.append("no design point meets every target often enough (frontier.csv has the frontiers)")
        lines.extend(f"note: {n}" for n in self.notes)
        lines.append(f"written: {', '.join(p.name for p in self.files if p.parent == self.folder)}")
        return "\n".join(lines)


def _finite(v: Any) -> bool:
    return v is not None and isinstance(v, float | int | np.floating) and bool(np.isfinite(v))


def _versions() -> dict[str, str]:
    """Versions of the libraries the analysis ran on (recorded with its outputs)."""
    return provenance.versions(("SALib", "scikit-learn", "ema-workbench", "numpy", "scipy", "pandas"))


def _top(r: SensitivityResult, metric: str) -> str:
    sub = r.indices[r.indices["metric"] == metric]
    col = {"sobol": "ST", "efast": "ST", "morris": "mu_star_norm", "pawn": "pawn", "delta": "delta"}[r.method]
    if sub[col].notna().any():
        best = sub.loc[sub[col].idxmax()]
        return f"{best['parameter']} ({col} {best[col]:.2f})"
    return ""


# --- settings ---------------------------------------------------------------------------------


def _settings(manifest: dict[str, Any], overrides: dict[str, Any], folder: Path) -> SensitivitySettings:
    data = dict(manifest.get("spec", {}).get("sensitivity") or {})
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return SensitivitySettings.model_validate(data)
    except Exception as exc:  # pydantic's message names the field
        raise InputError(f"bad analysis settings: {exc}", folder, "sensitivity") from None


def _methods(design: str, settings: SensitivitySettings, folder: Path) -> list[str]:
    methods = settings.methods if settings.methods is not None else list(DEFAULT_METHODS.get(design, ()))
    for m in methods:
        if design not in READS[m]:
            raise InputError(
                f"{m} cannot read a {design} design (it reads {', '.join(READS[m])} designs)", folder, "--methods"
            )
    return list(dict.fromkeys(methods))


# --- sensitivity over the folder ----------------------------------------------------------------


def _outputs(runs: pd.DataFrame, metrics: list[str], points: list[int], replicates: int) -> dict[str, np.ndarray]:
    """Per metric, the (points × replicates) matrix of finished runs (NaN where missing or failed)."""
    index = {p: i for i, p in enumerate(points)}
    ok = runs[(runs["status"] == "ok") & runs["point"].isin(index)]
    rows = ok["point"].map(index).to_numpy(dtype=int)
    cols = ok["replicate"].to_numpy(dtype=int)
    out = {}
    for m in metrics:
        mat = np.full((len(points), replicates), np.nan)
        mat[rows, cols] = ok[m].to_numpy(dtype=float)
        out[m] = mat
    return out


def _sample_size(design: str, settings: dict[str, Any], method: str, points: int, k: int) -> int:
    if method in ("pawn", "delta"):
        return points
    if design == "morris":
        return points // (k + 1)
    return int(settings["samples"])


def sensitivity_tables(
    results: dict[tuple[str, str], SensitivityResult],
) -> pd.DataFrame:
    """One wide table: base, metric, parameter, every method's index columns, the seed's
    share and whether every method's n was enough for the metric."""
    frames = []
    for (base, method), r in results.items():
        keep = [c for c in INDEX_COLUMNS[2:] if r.indices[c].notna().any()]
        f = r.indices[["metric", "parameter", *keep, "seed_share"]].copy()
        conv = r.convergence.set_index("metric")["enough"]
        f[f"{method}_enough"] = f["metric"].map(conv)
        f.insert(0, "base", base)
        frames.append(f)
    if not frames:
        return pd.DataFrame(columns=["base", *INDEX_COLUMNS, "seed_share"])
    table = frames[0]
    for f in frames[1:]:
        both = [c for c in f.columns if c in table.columns and c not in ("base", "metric", "parameter")]
        table = table.merge(f.drop(columns=both), on=["base", "metric", "parameter"], how="outer")
    for c in ("S1", "S1_conf", "ST", "ST_conf"):
        if c not in table.columns:
            table[c] = np.nan
    enough_cols = [c for c in table.columns if c.endswith("_enough")]
    table["converged"] = table[enough_cols].fillna(False).astype(bool).all(axis=1) if enough_cols else False
    order = ["base", *[c for c in INDEX_COLUMNS if c in table.columns], "seed_share", "converged"]
    return table[order + [c for c in table.columns if c not in order]]


# --- targets --------------------------------------------------------------------------------------


def _criteria(manifest: dict[str, Any], notes: list[str]) -> tuple[Any, dt.date | None]:
    """The criteria of the first base scenario, and the runs' last day (None if unknown)."""
    levers = list(manifest.get("columns", {}).get("levers", {}))
    if any(p.startswith("timeline.") or p.startswith("evaluation.") for p in levers):
        notes.append(
            "a lever changes the timeline or the criteria: targets are read as the first base scenario sets them"
        )
    bases = manifest.get("bases") or []
    if bases:
        b = bases[0]
        try:
            path = Path(b["scenario_file"])
            data = apply_overrides(copy.deepcopy(read_yaml(path)), b.get("overrides") or {})
            scenario = scenario_from_dict(data, source=str(path), base_dir=path.resolve().parent)
            return criteria_for(scenario).criteria, scenario.timeline.end
        except (InputError, OSError, KeyError) as exc:
            notes.append(f"the base scenario could not be read again ({exc}); the default criteria are used")
    else:
        notes.append("the manifest names no base scenario; the default criteria are used")
    return load_criteria(None).criteria, None


def _unit_features(design: pd.DataFrame, runs: pd.DataFrame, levers: list[str]) -> pd.DataFrame | None:
    cols = [f"unit:{p}" for p in levers]
    if not all(c in design.columns for c in cols):
        return None
    unit = design.set_index("point")[cols]
    unit.columns = levers
    feats = unit.reindex(runs["point"].to_numpy())
    feats.index = runs.index
    return feats


def _cost_columns(metrics: dict[str, dict[str, Any]], settings: SensitivitySettings) -> list[str]:
    if settings.cost is not None:
        return list(settings.cost)
    out: dict[str, str] = {}
    for col, d in metrics.items():
        if d.get("indicator") in COST_INDICATORS and d.get("stat", "final_year") in ("final", "final_year"):
            out.setdefault(d["indicator"], col)
    return list(out.values())


# --- the whole analysis, stage by stage ------------------------------------------------------------


@dataclass
class _Folder:
    """An experiment folder as the analysis reads it: manifest, settings, runs and design."""

    path: Path
    manifest: dict[str, Any]
    settings: SensitivitySettings
    design: str
    design_info: dict[str, Any]
    methods: list[str]
    runs: pd.DataFrame
    ok: pd.DataFrame
    levers: list[str]
    metric_defs: dict[str, dict[str, Any]]
    analysed: list[str]
    seed: int
    replicates: int
    design_table: pd.DataFrame


def _read_folder(folder: Path, overrides: dict[str, Any], notes: list[str]) -> _Folder:
    """Read and check the folder (settings, methods, runs, metrics), noting an unfinished experiment."""
    manifest = read_manifest(folder)
    if manifest.get("kind") != "experiment":
        raise InputError("is not an experiment folder (its manifest is not an experiment's)", folder)
    settings = _settings(manifest, overrides, folder)
    design_info = manifest["design"]
    design = design_info["method"]
    chosen = _methods(design, settings, folder)
    runs = read_runs(folder)
    ok = runs[runs["status"] == "ok"]
    if ok.empty:
        raise InputError("holds no successful run to analyse", folder)
    total = manifest.get("runs", {}).get("total")
    if total is not None and len(runs) < total:
        notes.append(f"the experiment is unfinished: {len(runs)} of {total} runs recorded")
    metric_defs: dict[str, dict[str, Any]] = manifest.get("columns", {}).get("metrics", {})
    numeric = [c for c, d in metric_defs.items() if d.get("stat") != "first_reaching" and c in runs.columns]
    analysed = list(settings.metrics) if settings.metrics is not None else numeric
    unknown = [m for m in analysed if m not in numeric]
    if unknown:
        raise InputError(
            f"metric(s) {', '.join(unknown)} are not numeric metrics of this experiment ({', '.join(numeric)})",
            folder,
            "sensitivity.metrics",
        )
    return _Folder(
        folder, manifest, settings, design, design_info, chosen, runs, ok,
        levers=list(manifest.get("columns", {}).get("levers", {})), metric_defs=metric_defs, analysed=analysed,
        seed=int(manifest.get("spec", {}).get("seed", 1)), replicates=int(manifest.get("runs", {}).get("replicates", 1)),
        design_table=pd.read_parquet(folder / DESIGN),
    )  # fmt: skip


def _sensitivity(f: _Folder, where: str) -> dict[tuple[str, str], SensitivityResult]:
    """Every chosen method on every base scenario's part of the design.

    Args:
        f: The folder.
        where: The option to name when a method cannot analyse the design.
    """
    problem = f.design_info.get("salib_problem")
    if problem is None:
        raise InputError(f"a {f.design} design has no sample to analyse", f.path, "--methods")
    k = int(problem["num_vars"])
    n_points = int(f.design_info["design_points"])
    labels = [b["label"] for b in f.manifest.get("bases", [])] or list(dict.fromkeys(f.design_table["base"]))
    unit_cols = [f"unit:{p}" for p in problem["names"]]
    design_settings = f.design_info["settings"]
    results: dict[tuple[str, str], SensitivityResult] = {}
    for b, label in enumerate(labels):
        ids = list(range(b * n_points, (b + 1) * n_points))
        rows = f.design_table.set_index("point").reindex(ids)
        x = rows[unit_cols].to_numpy(dtype=float)
        outputs = _outputs(f.runs, f.analysed, ids, f.replicates)
        for mi, method in enumerate(f.methods):
            n = _sample_size(f.design, design_settings, method, n_points, k)
            try:
                results[(label, method)] = analyze_samples(
                    method, problem, x, outputs, n,
                    second_order=bool(design_settings.get("second_order")) and method == "sobol",
                    levels=int(design_settings.get("levels", 4)), resamples=f.settings.resamples,
                    conf_level=f.settings.conf_level, tolerance=f.settings.tolerance, seed=f.seed + 1000 * b + mi,
                    source=str(f.path),
                )  # fmt: skip
            except InputError as err:
                raise InputError(f"{method} cannot analyse this design: {err.message}", f.path, where) from None
    return results


def _write_sensitivity(f: _Folder, summary: AnalysisSummary) -> pd.DataFrame:
    """Write sensitivity.csv (metrics without indices left out, in a note) and sensitivity.json;
    returns the table written."""
    table = sensitivity_tables(summary.sensitivity)
    index_cols = [c for c in INDEX_COLUMNS[2:] if c in table.columns]
    empty = table[index_cols].isna().all(axis=1)
    if empty.any():
        summary.notes.append(
            f"no indices for {', '.join(sorted(set(table.loc[empty, 'metric'])))} (see the verdicts): "
            "left out of sensitivity.csv"
        )
        table = table[~empty].reset_index(drop=True)
    atomic.write_text(f.path / "sensitivity.csv", table.to_csv(index=False))
    payload = {
        "experiment": f.manifest.get("name"),
        "design": f.design,
        "methods": f.methods,
        "settings": json.loads(f.settings.model_dump_json()),
        "versions": _versions(),
        "enough": all(r.enough for r in summary.sensitivity.values()) if summary.sensitivity else False,
        "verdict": " ".join(r.verdict for r in summary.sensitivity.values()),
        "results": [{"base": base, **r.to_dict()} for (base, _), r in summary.sensitivity.items()],
        "indices": records(table),
        "notes": summary.notes,
    }
    atomic.write_json(f.path / "sensitivity.json", jsonable(payload))
    summary.files += [f.path / "sensitivity.csv", f.path / "sensitivity.json"]
    return table


def _targets(f: _Folder, summary: AnalysisSummary) -> tuple[Attainment, pd.DataFrame]:
    """Goals, attainment and PRIM boxes into the summary; returns the attainment and the met table."""
    criteria, run_end = _criteria(f.manifest, summary.notes)
    goals, missing = goals_from_criteria(criteria, f.metric_defs, run_end)
    features = _unit_features(f.design_table, f.ok, f.levers) if f.design_info.get("salib_problem") else None
    if features is None:
        features = lever_features(f.ok, f.levers)
    att = attainment(
        f.ok, goals, features, resamples=min(f.settings.resamples, MAX_LOGISTIC_RESAMPLES),
        conf_level=f.settings.conf_level, seed=f.seed, missing=missing,
    )  # fmt: skip
    summary.goals, summary.attainment = goals, att
    met = met_table(f.ok, goals)
    if goals:
        summary.boxes = discover(f.ok[f.levers], met, density=f.settings.density) if f.levers else []
    return att, met


def _frontier(f: _Folder, summary: AnalysisSummary, met: pd.DataFrame, cost_cols: list[str]) -> None:
    """Design points, their cost frontier and the cheapest point meeting every target, into the summary."""
    goals = summary.goals
    if goals and cost_cols:
        columns = list(dict.fromkeys([g.column for g in goals] + cost_cols))
        points = point_table(f.runs, f.levers, columns, met)
        points["fiscal_cost"] = points[cost_cols].sum(axis=1, min_count=len(cost_cols))
        summary.points = points
        summary.frontier = frontier(points, "fiscal_cost", goals)
        summary.cheapest = cheapest(points, "fiscal_cost", f.settings.probability)
        if f.replicates < 3:
            summary.notes.append(
                f"{f.replicates} replicate(s) per point: a point's chance of meeting every target moves in steps "
                f"of 1/{f.replicates}; use more replicates for the cheapest-setting answer"
            )
    elif goals:
        summary.notes.append(
            "no fiscal cost metric: add {indicator: subsidy_spent, stat: final} and "
            "{indicator: funds_leaked, stat: final} to the metrics for the cost frontier"
        )


def _write_targets(f: _Folder, summary: AnalysisSummary, att: Attainment, cost_cols: list[str]) -> None:
    """Write attainment.csv/.json, attainment_dependence.csv, prim_boxes.json and frontier.csv."""
    folder = f.path
    atomic.write_text(folder / "attainment.csv", att.probabilities.to_csv(index=False))
    atomic.write_text(folder / "attainment_dependence.csv", att.dependence.to_csv(index=False))
    atomic.write_json(
        folder / "attainment.json",
        jsonable(
            {
                **att.to_dict(),
                "goals": [g.__dict__ for g in summary.goals],
                "probability_wanted": f.settings.probability,
                "cheapest_meeting_all": summary.cheapest,
                "cost_columns": cost_cols,
                "versions": _versions(),
            }
        ),
    )
    atomic.write_json(
        folder / "prim_boxes.json",
        {"density_wanted": f.settings.density, "boxes": [b.to_dict() for b in summary.boxes]},
    )
    written = ("attainment.csv", "attainment_dependence.csv", "attainment.json", "prim_boxes.json")
    summary.files += [folder / name for name in written]
    if summary.frontier is not None:
        atomic.write_text(folder / "frontier.csv", summary.frontier.to_csv(index=False))
        summary.files.append(folder / "frontier.csv")


def analyze_folder(
    folder: str | Path,
    *,
    methods: list[str] | None = None,
    resamples: int | None = None,
    tolerance: float | None = None,
    conf_level: float | None = None,
    targets: bool | None = None,
) -> AnalysisSummary:
    """Analyse an experiment folder and write the result tables into it (no figures: see
    :func:`experiments.report.experiment_analysis.analyze_experiment`).

    The stages: read and check the folder and the settings → sensitivity per base scenario
    (sensitivity.csv/.json) → targets: attainment, PRIM boxes and the cost frontier
    (attainment*, prim_boxes.json, frontier.csv).

    Args:
        folder: An experiment folder (``countysim experiment`` output).
        methods: Sensitivity methods (default: the spec's ``sensitivity.methods``, else by
            design: sobol → sobol, morris → morris, efast → efast, lhs → pawn and delta;
            other designs get no indices).
        resamples: Bootstrap resamples (default: the spec's, else 200).
        tolerance: Convergence tolerance (default: the spec's, else 0.1).
        conf_level: Confidence level (default: the spec's, else 0.95).
        targets: Attainment, PRIM and frontier (default: the spec's, else on).

    Raises:
        InputError: Not an experiment folder, no finished runs, or a method the design
            cannot feed; the message names the folder and the option.
    """
    folder = Path(folder)
    summary = AnalysisSummary(folder)
    overrides = {"methods": methods, "resamples": resamples, "tolerance": tolerance, "conf_level": conf_level,
                 "targets": targets}  # fmt: skip
    f = _read_folder(folder, overrides, summary.notes)
    summary.methods, summary.ok_runs = f.methods, f.ok
    if f.methods:
        summary.sensitivity = _sensitivity(f, "--methods" if methods is not None else "design.samples")
        summary.sensitivity_table = _write_sensitivity(f, summary)
    else:
        summary.notes.append(f"no sensitivity method reads a {f.design} design; only the targets are analysed")
    if f.settings.targets:
        att, met = _targets(f, summary)
        cost_cols = _cost_columns(f.metric_defs, f.settings)
        _frontier(f, summary, met, cost_cols)
        _write_targets(f, summary, att, cost_cols)
    return summary
