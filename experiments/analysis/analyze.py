"""Analysing an experiment folder: sensitivity, target attainment, scenario discovery, frontier.

``countysim experiment SPEC`` calls :func:`analyze_experiment` when a Sobol', Morris or
eFAST design (or any design with a ``sensitivity`` section) has finished; ``countysim
analyze DIR`` calls it on any experiment folder, finished or not, as often as wanted
(with other methods or settings: the analysis changes no run). It reads only the
folder (manifest, design and runs tables) and writes, each file atomically::

    sensitivity.csv / .json    indices with confidence intervals per base, method, metric and lever;
                               the seed's share of variance; the convergence verdicts (JSON)
    attainment.csv / .json     per 2025 target: runs, probability of meeting it, interval, AUC;
                               attainment_dependence.csv: the logistic model's lever effects
    prim_boxes.json            PRIM boxes where targets are met and where they are missed
    frontier.csv               design points on the cost frontier of each target indicator
    figures/                   index bars, the Morris μ*–σ plot, attainment curves, frontiers

The 2025 targets come from the criteria file of the experiment's first base scenario
(``sim.policy.evaluation``), each read from the metric column that measures it (see
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
from experiments.run import atomic
from experiments.run.store import DESIGN, read_manifest, read_runs
from experiments.spec.experiment import SensitivitySettings
from experiments.spec.methods import DEFAULT_METHODS, READS
from sim.errors import InputError

#: Figures of attainment curves and frontiers drawn at most (one per target).
MAX_TARGET_FIGURES = 8
#: Bootstrap refits of each logistic model at most (each is a full fit).
MAX_LOGISTIC_RESAMPLES = 100
#: PRIM boxes printed on the terminal at most (all are in prim_boxes.json).
MAX_SUMMARY_BOXES = 4
#: Metrics per index figure (one panel each); more make further figures.
PANELS_PER_FIGURE = 4


@dataclass
class AnalysisSummary:
    """What an analysis found and wrote.

    Attributes:
        folder: The experiment folder.
        files: Files written.
        sensitivity: Results by (base, method).
        attainment: Target attainment (None when not asked for or no target was measured).
        boxes: PRIM boxes.
        frontier: Frontier points (None without a cost metric).
        notes: Caveats, in words.
    """

    folder: Path
    files: list[Path] = field(default_factory=list)
    sensitivity: dict[tuple[str, str], SensitivityResult] = field(default_factory=dict)
    attainment: Attainment | None = None
    boxes: list[Box] = field(default_factory=list)
    frontier: pd.DataFrame | None = None
    cheapest: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

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
    import importlib.metadata

    out = {}
    for name in ("SALib", "scikit-learn", "ema-workbench", "numpy", "scipy", "pandas"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


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
    from sim.config import apply_overrides, read_yaml, scenario_from_dict
    from sim.policy.evaluation import criteria_for, load_criteria

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


# --- figures --------------------------------------------------------------------------------------


def morris_figure(table: pd.DataFrame) -> Any:
    """Morris μ* against σ per lever, one panel per metric, with μ*'s interval.

    Levers far right matter; levers high up act non-linearly or through interactions;
    levers near the origin can be fixed. Axes are μ* and σ as shares of the largest μ*
    of the metric, so panels compare.
    """
    import matplotlib.pyplot as plt

    from experiments.report import plots

    metrics = list(dict.fromkeys(table["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.3 * len(metrics) + 0.8, 4.4), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=True):
        sub = table[table["metric"] == metric]
        top = float(sub["mu_star"].max()) or 1.0
        x = sub["mu_star"] / top
        y = sub["sigma"] / top
        ax.errorbar(x, y, xerr=sub["mu_star_conf"] / top, fmt="o", mfc="white", color="black", capsize=2.5)
        for xi, yi, name in zip(x, y, sub["parameter"], strict=True):
            ax.annotate(str(name).split(".")[-1], (xi, yi), textcoords="offset points", xytext=(4, 3), fontsize=7)
        lim = max(1.05, float(np.nanmax(y)) * 1.1 if len(y) else 1.05)
        ax.plot([0, lim], [0, lim], ls=":", color="0.5", lw=0.8)
        ax.set_xlim(-0.03, 1.15)
        ax.set_ylim(-0.03, lim)
        ax.set_xlabel("μ* (share of the largest)", fontsize=8)
        ax.set_ylabel("σ (share of the largest μ*)", fontsize=8)
        ax.set_title(plots.label(metric), fontsize=8.5)
        ax.grid(alpha=0.3)
    fig.suptitle("Morris screening (敏感性筛选): effect μ* against spread σ", fontsize=10)
    fig.tight_layout()
    return fig


def moment_independent_figure(table: pd.DataFrame) -> Any:
    """PAWN and delta indices per lever with their intervals, one panel per metric."""
    import matplotlib.pyplot as plt

    from experiments.report import plots

    metrics = list(dict.fromkeys(table["metric"]))
    params = list(dict.fromkeys(table["parameter"]))
    cols = [(c, f"{c}_conf", hatch) for c, hatch in (("pawn", "//"), ("delta", "")) if c in table.columns]
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(4.2 * len(metrics) + 1.5, 0.45 * len(params) + 1.8), sharey=True, squeeze=False
    )
    for ax, metric in zip(axes.flat, metrics, strict=True):
        sub = table[table["metric"] == metric].set_index("parameter").reindex(params)
        ypos = np.arange(len(params))
        h = 0.8 / max(1, len(cols))
        for i, (c, conf, hatch) in enumerate(cols):
            ax.barh(
                ypos + (i - (len(cols) - 1) / 2) * h, sub[c], height=h, xerr=sub[conf], capsize=2.5,
                color="white" if hatch else "0.45", edgecolor="black", hatch=hatch, label=c,
            )  # fmt: skip
        ax.set_yticks(ypos, params, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(plots.label(metric), fontsize=8.5)
        ax.set_xlabel("index (bars: confidence interval)", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.suptitle("Which levers matter: moment-independent indices (PAWN, delta)", fontsize=10)
    fig.tight_layout()
    return fig


def _figures(
    folder: Path,
    table: pd.DataFrame,
    methods: list[str],
    ok: pd.DataFrame,
    goals: list[Goal],
    att: Attainment | None,
    points: pd.DataFrame | None,
) -> list[Path]:
    from experiments.report import plots

    out_dir = folder / "figures"
    out_dir.mkdir(exist_ok=True)
    # figures of an earlier analysis (other methods, metrics or targets) would mislead
    for pattern in ("sensitivity_*.*", "morris_mu_sigma.*", "target_*_attainment.*", "target_*_frontier.*"):
        for old in out_dir.glob(pattern):
            old.unlink(missing_ok=True)
    paths: list[Path] = []
    first = table[table["base"] == table["base"].iloc[0]] if len(table) else table
    if len(first) and first[["S1", "ST"]].notna().any().any():
        name = "sensitivity_" + "_".join(m for m in methods if m in ("sobol", "efast"))
        shown = first.dropna(subset=["ST"])
        metrics = list(dict.fromkeys(shown["metric"]))
        for i in range(0, len(metrics), PANELS_PER_FIGURE):
            part = metrics[i : i + PANELS_PER_FIGURE]
            suffix = f"_{i // PANELS_PER_FIGURE + 1}" if len(metrics) > PANELS_PER_FIGURE else ""
            paths += plots.save(plots.sensitivity_bars(shown, part), out_dir, name + suffix)
    if "morris" in methods and "mu_star" in first.columns:
        paths += plots.save(morris_figure(first.dropna(subset=["mu_star"])), out_dir, "morris_mu_sigma")
    if any(m in methods for m in ("pawn", "delta")):
        cols = [c for c in ("pawn", "delta") if c in first.columns]
        paths += plots.save(
            moment_independent_figure(first.dropna(subset=cols, how="all")), out_dir, "sensitivity_pawn_delta"
        )
    if att is None or not goals:
        return paths
    dep = att.dependence
    probs = att.probabilities.set_index("goal")
    drawn = 0
    for g in goals:
        p = probs.loc[g.name, "probability"] if g.name in probs.index else np.nan
        sub = dep[(dep["goal"] == g.name) & dep["lever"].isin(ok.columns)]
        if not (0 < p < 1) or sub.empty or drawn >= MAX_TARGET_FIGURES:
            continue
        lever = str(sub.loc[sub["effect"].abs().idxmax(), "lever"])
        if not (pd.api.types.is_numeric_dtype(ok[lever]) or pd.api.types.is_bool_dtype(ok[lever])):
            continue
        frame = ok.copy()
        if g.op == ">":
            frame[f"{g.name} met"] = g.met(frame[g.column])
            fig = plots.attainment_curve(frame, lever, f"{g.name} met", 1.0, ">=")
        else:
            fig = plots.attainment_curve(frame, lever, g.column, g.threshold, g.op)
        paths += plots.save(fig, out_dir, f"target_{g.name}_attainment")
        drawn += 1
    if points is not None and "fiscal_cost" in points.columns:
        for g in goals[:MAX_TARGET_FIGURES]:
            sub = points.dropna(subset=["fiscal_cost", g.column])
            if sub[g.column].nunique() < 2 or sub["fiscal_cost"].nunique() < 2:
                continue
            if g.better == "min":
                sub = sub.assign(**{g.column: -sub[g.column]})
            paths += plots.save(plots.cost_frontier(sub, "fiscal_cost", g.column), out_dir, f"target_{g.name}_frontier")
    return paths


# --- the whole analysis ---------------------------------------------------------------------------


def analyze_experiment(
    folder: str | Path,
    *,
    methods: list[str] | None = None,
    resamples: int | None = None,
    tolerance: float | None = None,
    conf_level: float | None = None,
    targets: bool | None = None,
    figures: bool = True,
) -> AnalysisSummary:
    """Analyse an experiment folder and write the results into it.

    Args:
        folder: An experiment folder (``countysim experiment`` output).
        methods: Sensitivity methods (default: the spec's ``sensitivity.methods``, else by
            design: sobol → sobol, morris → morris, efast → efast, lhs → pawn and delta;
            other designs get no indices).
        resamples: Bootstrap resamples (default: the spec's, else 200).
        tolerance: Convergence tolerance (default: the spec's, else 0.1).
        conf_level: Confidence level (default: the spec's, else 0.95).
        targets: Attainment, PRIM and frontier (default: the spec's, else on).
        figures: Draw figures into ``folder/figures``.

    Raises:
        InputError: Not an experiment folder, no finished runs, or a method the design
            cannot feed; the message names the folder and the option.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("kind") != "experiment":
        raise InputError("is not an experiment folder (its manifest is not an experiment's)", folder)
    settings = _settings(
        manifest,
        {"methods": methods, "resamples": resamples, "tolerance": tolerance, "conf_level": conf_level,
         "targets": targets},
        folder,
    )  # fmt: skip
    design_info = manifest["design"]
    design = design_info["method"]
    chosen = _methods(design, settings, folder)
    runs = read_runs(folder)
    ok = runs[runs["status"] == "ok"]
    if ok.empty:
        raise InputError("holds no successful run to analyse", folder)
    summary = AnalysisSummary(folder)
    notes = summary.notes
    total = manifest.get("runs", {}).get("total")
    if total is not None and len(runs) < total:
        notes.append(f"the experiment is unfinished: {len(runs)} of {total} runs recorded")
    levers = list(manifest.get("columns", {}).get("levers", {}))
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
    seed = int(manifest.get("spec", {}).get("seed", 1))
    replicates = int(manifest.get("runs", {}).get("replicates", 1))
    design_table = pd.read_parquet(folder / DESIGN)

    # sensitivity, per base
    if chosen:
        problem = design_info.get("salib_problem")
        if problem is None:
            raise InputError(f"a {design} design has no sample to analyse", folder, "--methods")
        k = int(problem["num_vars"])
        n_points = int(design_info["design_points"])
        labels = [b["label"] for b in manifest.get("bases", [])] or list(dict.fromkeys(design_table["base"]))
        unit_cols = [f"unit:{p}" for p in problem["names"]]
        for b, label in enumerate(labels):
            ids = list(range(b * n_points, (b + 1) * n_points))
            rows = design_table.set_index("point").reindex(ids)
            x = rows[unit_cols].to_numpy(dtype=float)
            outputs = _outputs(runs, analysed, ids, replicates)
            for mi, method in enumerate(chosen):
                n = _sample_size(design, design_info["settings"], method, n_points, k)
                try:
                    result = analyze_samples(
                        method, problem, x, outputs, n,
                        second_order=bool(design_info["settings"].get("second_order")) and method == "sobol",
                        levels=int(design_info["settings"].get("levels", 4)), resamples=settings.resamples,
                        conf_level=settings.conf_level, tolerance=settings.tolerance, seed=seed + 1000 * b + mi,
                        source=str(folder),
                    )  # fmt: skip
                except InputError as err:
                    where = "--methods" if methods is not None else "design.samples"
                    raise InputError(f"{method} cannot analyse this design: {err.message}", folder, where) from None
                summary.sensitivity[(label, method)] = result
        table = sensitivity_tables(summary.sensitivity)
        index_cols = [c for c in INDEX_COLUMNS[2:] if c in table.columns]
        empty = table[index_cols].isna().all(axis=1)
        if empty.any():
            notes.append(
                f"no indices for {', '.join(sorted(set(table.loc[empty, 'metric'])))} (see the verdicts): "
                "left out of sensitivity.csv"
            )
            table = table[~empty].reset_index(drop=True)
        atomic.write_text(folder / "sensitivity.csv", table.to_csv(index=False))
        payload = {
            "experiment": manifest.get("name"),
            "design": design,
            "methods": chosen,
            "settings": json.loads(settings.model_dump_json()),
            "versions": _versions(),
            "enough": all(r.enough for r in summary.sensitivity.values()) if summary.sensitivity else False,
            "verdict": " ".join(r.verdict for r in summary.sensitivity.values()),
            "results": [{"base": base, **r.to_dict()} for (base, _), r in summary.sensitivity.items()],
            "indices": records(table),
            "notes": notes,
        }
        atomic.write_json(folder / "sensitivity.json", jsonable(payload))
        summary.files += [folder / "sensitivity.csv", folder / "sensitivity.json"]
    else:
        table = pd.DataFrame(columns=["base", *INDEX_COLUMNS])
        notes.append(f"no sensitivity method reads a {design} design; only the targets are analysed")

    # targets: attainment, PRIM, frontier
    goals: list[Goal] = []
    points = None
    if settings.targets:
        criteria, run_end = _criteria(manifest, notes)
        goals, missing = goals_from_criteria(criteria, metric_defs, run_end)
        features = _unit_features(design_table, ok, levers) if design_info.get("salib_problem") else None
        if features is None:
            features = lever_features(ok, levers)
        att = attainment(
            ok, goals, features, resamples=min(settings.resamples, MAX_LOGISTIC_RESAMPLES),
            conf_level=settings.conf_level, seed=seed, missing=missing,
        )  # fmt: skip
        summary.attainment = att
        met = met_table(ok, goals)
        if goals:
            summary.boxes = discover(ok[levers], met, density=settings.density) if levers else []
        cost_cols = _cost_columns(metric_defs, settings)
        front = None
        if goals and cost_cols:
            points = point_table(runs, levers, list(dict.fromkeys([g.column for g in goals] + cost_cols)), met)
            points["fiscal_cost"] = points[cost_cols].sum(axis=1, min_count=len(cost_cols))
            front = frontier(points, "fiscal_cost", goals)
            summary.frontier = front
            summary.cheapest = cheapest(points, "fiscal_cost", settings.probability)
            if replicates < 3:
                notes.append(
                    f"{replicates} replicate(s) per point: a point's chance of meeting every target moves in steps "
                    f"of 1/{replicates}; use more replicates for the cheapest-setting answer"
                )
        elif goals:
            notes.append(
                "no fiscal cost metric: add {indicator: subsidy_spent, stat: final} and "
                "{indicator: funds_leaked, stat: final} to the metrics for the cost frontier"
            )
        probs = att.probabilities
        atomic.write_text(folder / "attainment.csv", probs.to_csv(index=False))
        atomic.write_text(folder / "attainment_dependence.csv", att.dependence.to_csv(index=False))
        atomic.write_json(
            folder / "attainment.json",
            jsonable(
                {
                    **att.to_dict(),
                    "goals": [g.__dict__ for g in goals],
                    "probability_wanted": settings.probability,
                    "cheapest_meeting_all": summary.cheapest,
                    "cost_columns": cost_cols,
                    "versions": _versions(),
                }
            ),
        )
        atomic.write_json(
            folder / "prim_boxes.json",
            {"density_wanted": settings.density, "boxes": [b.to_dict() for b in summary.boxes]},
        )
        summary.files += [folder / f for f in ("attainment.csv", "attainment_dependence.csv", "attainment.json",
                                              "prim_boxes.json")]  # fmt: skip
        if front is not None:
            atomic.write_text(folder / "frontier.csv", front.to_csv(index=False))
            summary.files.append(folder / "frontier.csv")
    if figures:
        summary.files += _figures(folder, table, chosen, ok, goals, summary.attainment, points)
    return summary
