"""Calibration: behaviour parameters fitted so the national ensemble matches official series.

A calibration spec (YAML) names an ensemble (the ``ensemble:`` section of an experiment
spec), the parameters to fit (dotted scenario paths with bounds), and the targets: official
series of ``configs/data/official/official_statistics.csv`` mapped to national indicators of
:func:`experiments.national.ensemble.national_indicators`. Each evaluation of the objective runs the
ensemble through the experiment runner (same seeds every time: common random numbers make
the objective a deterministic function of the parameters) and sums squared residuals, each
divided by its target's scale. The optimiser is SciPy's bounded ``minimize_scalar`` for one
parameter and DIRECT (``scipy.optimize.direct``, Jones et al. 1993) for several: both are
derivative-free, and DIRECT is a global search over the whole box that needs no starting
point, which matters because the simulated indicators are step functions of the
parameters at fixed seeds (a local method such as Powell stalls on a flat step). The best
point evaluated is the fit.

Official series → national indicator (why):

- ``rural_online_retail_growth`` → ``online_spending_growth``: **approximate** — the
  official figure counts sales by sellers in counties, the model's number is households'
  online buying; documented mismatch, kept because it is the only online-volume growth
  series; give it a large scale.
- ``farm_online_retail_growth`` → ``farm_online_sales_growth``.
- ``express_village_coverage`` → ``express_village_coverage`` (share of villages, year end).
- ``leading_counties_batch`` → ``leading_counties`` (cumulative leading counties after November).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import optimize

from experiments.national.ensemble import SERIES_INDICATOR, national_indicators
from experiments.report.plots import configure_fonts, save
from experiments.run import atomic
from experiments.run.runner import run_experiment
from experiments.spec.ensemble import apply_values, counties, parse_ensemble, resolve_calibrated
from experiments.spec.experiment import spec_from_dict
from experiments.spec.plan import file_sha256
from sim.config import read_yaml
from sim.errors import InputError


class Parameter(BaseModel):
    """One fitted parameter: a scenario field (or ensemble setting) and its bounds.

    Attributes:
        path: A scenario field (dotted path, set for every county), or an ensemble setting
            written ``ensemble/<key>/<key>...`` (e.g. the development level above which
            counties start with cold storage; see :func:`experiments.spec.ensemble.apply_values`).
        low, high: Bounds, in the field's unit (a uniform prior between them).
        also: Further paths set to the same value (one parameter moving several settings,
            e.g. every step of the development profile).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=3)
    low: float
    high: float
    also: list[str] = Field(default_factory=list)

    def settings(self, value: float) -> dict[str, float]:
        """Every path this parameter sets, with ``value``."""
        return {self.path: value, **dict.fromkeys(self.also, value)}

    @model_validator(mode="after")
    def _ordered(self) -> Parameter:
        if not self.low < self.high:
            raise ValueError(f"{self.path}: low must be below high")
        return self


class CalibrationTarget(BaseModel):
    """One target: an indicator in a year, its value and the scale residuals are divided by.

    Attributes:
        indicator: National indicator name (see :func:`experiments.national.ensemble.national_indicators`).
        year: Calendar year.
        value: Target value (official, or synthetic in the identifiability check).
        scale: Residual scale in the indicator's unit (how far off counts as one unit of misfit).
        series: The official series it came from (for the report).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    indicator: str
    year: int
    value: float
    scale: float = Field(gt=0)
    series: str = ""


class CalibrationSpec(BaseModel):
    """A calibration run (YAML; paths relative to the file).

    Attributes:
        name: Name of the output files.
        ensemble: The ensemble section (as in an experiment spec).
        parameters: Parameters to fit with bounds.
        targets: Either explicit targets, or official series to read (``{series, year, scale}``).
        official: The official statistics CSV the series are read from.
        max_evaluations: Objective evaluations the optimiser may spend [1-1000].
        replicates: Seeds per evaluation [1-20].
        seed: Experiment seed of every evaluation (common random numbers).
        workers: Worker processes per evaluation (1: in-process).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=120)
    ensemble: dict[str, Any]
    parameters: list[Parameter] = Field(min_length=1)
    targets: list[dict[str, Any]] = Field(min_length=1)
    official: Path | None = None
    max_evaluations: int = Field(20, ge=1, le=1000)
    replicates: int = Field(1, ge=1, le=20)
    seed: int = Field(1, ge=0)
    workers: int = Field(1, ge=1, le=64)


@dataclass
class Fit:
    """The result: fitted values, the report table and the evaluations spent."""

    values: dict[str, float]
    report: pd.DataFrame
    objective: float
    evaluations: int
    trace: pd.DataFrame | None = None


def official_targets(csv: Path, wanted: list[dict[str, Any]], source: str) -> list[CalibrationTarget]:
    """Targets from the official statistics file (``{series, year, scale}`` each)."""
    df = pd.read_csv(csv)
    out = []
    for k, w in enumerate(wanted):
        s, y = w.get("series"), w.get("year")
        if s not in SERIES_INDICATOR:
            raise InputError(
                f"targets[{k}].series: must be one of {', '.join(SERIES_INDICATOR)} (got {s!r})", source=source
            )
        hit = df[(df["series"] == s) & (df["year"] == y)]
        if hit.empty:
            raise InputError(f"targets[{k}]: no official value of {s} in {y} in {csv}", source=source)
        out.append(
            CalibrationTarget(
                indicator=SERIES_INDICATOR[s],
                year=int(y),
                value=float(hit["value"].iloc[0]),
                scale=float(w.get("scale", 1.0)),
                series=s,
            )
        )
    return out


def simulate_national(
    ensemble: dict[str, Any], values: dict[str, float], seed: int, replicates: int, workers: int, base_dir: Path | None
) -> pd.DataFrame:
    """National indicators of the ensemble with ``values`` set (one runner call)."""
    ens = apply_values(resolve_calibrated(ensemble, "calibration", base_dir), values)
    ens.pop("calibrated", None)  # applied above; a trial value must not be overwritten again
    spec = spec_from_dict(
        {"name": "calibration_eval", "ensemble": ens, "design": "list", "replicates": replicates, "seed": seed},
        source="calibration",
        base_dir=base_dir,
    )
    with tempfile.TemporaryDirectory() as tmp:
        runs = run_experiment(
            spec, Path(tmp) / "e", backend="inprocess" if workers == 1 else "processes", workers=workers, progress=False
        )
    cs = counties(parse_ensemble(spec.ensemble, "calibration"), base_dir)
    return national_indicators(runs, {c.label: c.weight for c in cs}, {c.label: c.stratum for c in cs})


def _compare(national: pd.DataFrame, targets: list[CalibrationTarget]) -> pd.DataFrame:
    idx = national.set_index(["indicator", "year"])
    rows = []
    for t in targets:
        sim = float(idx.loc[(t.indicator, t.year), "mean"]) if (t.indicator, t.year) in idx.index else math.nan
        rows.append(
            {
                "series": t.series or t.indicator,
                "indicator": t.indicator,
                "year": t.year,
                "official": t.value,
                "simulated": sim,
                "residual": sim - t.value,
                "scaled_residual": (sim - t.value) / t.scale,
            }
        )
    return pd.DataFrame(rows)


def calibrate(
    ensemble: dict[str, Any],
    parameters: list[Parameter],
    targets: list[CalibrationTarget],
    *,
    max_evaluations: int = 20,
    seed: int = 1,
    replicates: int = 1,
    workers: int = 1,
    base_dir: Path | None = None,
    on_evaluation: Callable[[int, dict[str, float], float], None] | None = None,
) -> Fit:
    """Fit ``parameters`` so the ensemble's national indicators match ``targets``.

    The objective is the sum of squared scaled residuals; a missing indicator (e.g. a
    growth rate in a year the run does not cover) counts as a large misfit rather than
    being dropped, so a wrong target cannot look like a perfect fit.

    Args:
        on_evaluation: Called after each evaluation with its number, the parameter values
            and the objective (the CLI prints progress with it).
    """
    n = [0]
    trace: list[dict[str, Any]] = []
    seen: dict[tuple[float, ...], tuple[float, pd.DataFrame]] = {}

    def settings(point: tuple[float, ...]) -> dict[str, float]:
        return {k: w for p, v in zip(parameters, point, strict=True) for k, w in p.settings(v).items()}

    def objective(x: np.ndarray) -> float:
        key = tuple(float(v) for v in np.atleast_1d(x))
        if key in seen:  # an optimiser may ask again for a point: same seeds, same answer
            return seen[key][0]
        n[0] += 1
        table = _compare(simulate_national(ensemble, settings(key), seed, replicates, workers, base_dir), targets)
        r = table["scaled_residual"]
        value = float(np.nansum(r**2) + 1e6 * r.isna().sum())
        seen[key] = (value, table)
        point = {p.path: v for p, v in zip(parameters, key, strict=True)}
        trace.append({"evaluation": n[0], **point, "objective": value})
        if on_evaluation is not None:
            on_evaluation(n[0], point, value)
        return value

    if len(parameters) == 1:
        p = parameters[0]
        optimize.minimize_scalar(
            objective,
            bounds=(p.low, p.high),
            method="bounded",
            options={"maxiter": max_evaluations, "xatol": 1e-3 * (p.high - p.low)},
        )
    else:
        # DIRECT may overrun maxfun by the points of its last division; the trace shows them all
        optimize.direct(objective, [(p.low, p.high) for p in parameters], maxfun=max_evaluations)
    # the fit is the best point evaluated (a bounded scalar search ends near, not at, it)
    key, (_, report) = min(seen.items(), key=lambda kv: kv[1][0])
    return Fit(settings(key), report, float(np.nansum(report["scaled_residual"] ** 2)), n[0], pd.DataFrame(trace))


def load_calibration(path: str | Path) -> tuple[CalibrationSpec, list[CalibrationTarget], Path]:
    """Read a calibration spec; InputError naming the file and field on bad input."""
    p = Path(path)
    data = read_yaml(p)
    try:
        spec = CalibrationSpec.model_validate(data)
    except ValidationError as err:
        e = err.errors()[0]
        raise InputError(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}", source=p) from None
    base = p.resolve().parent
    if spec.official is not None:
        csv = spec.official if spec.official.is_absolute() else base / spec.official
        if not csv.is_file():
            raise InputError(f"official: file not found: {csv}", source=p)
        targets = official_targets(csv, spec.targets, str(p))
    else:
        try:
            targets = [CalibrationTarget.model_validate(t) for t in spec.targets]
        except ValidationError as err:
            raise InputError(f"targets: {err.errors()[0]['msg']}", source=p) from None
    return spec, targets, base


def fit_figure(report: pd.DataFrame) -> Any:
    """Official against simulated value of every target, with the residual, one panel per series."""
    configure_fonts()
    series = list(dict.fromkeys(report["series"]))
    fig, axes = plt.subplots(1, len(series), figsize=(3.2 * len(series), 3.2), squeeze=False)
    for ax, name in zip(axes[0], series, strict=True):
        d = report[report["series"] == name].sort_values("year")
        ax.plot(d["year"], d["official"], "ks-", label="official")
        ax.plot(d["year"], d["simulated"], "o--", color="C0", label="simulated")
        for _, r in d.iterrows():
            ax.annotate(
                f"{r['residual']:+.3g}",
                (r["year"], r["simulated"]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        ax.set_title(name, fontsize=9)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=7)
    fig.suptitle("Calibration fit: official series against the calibrated national ensemble (residual labelled)")
    fig.tight_layout()
    return fig


def run_calibration(
    path: str | Path,
    out_dir: str | Path,
    on_evaluation: Callable[[int, dict[str, float], float], None] | None = None,
) -> tuple[Fit, Path]:
    """Calibrate from a spec file; write the fitted values, the fit report and its figure.

    Writes ``<name>.yaml`` (fitted values with the date, the data file and its hash, the
    bounds and the objective; an ensemble spec's ``calibrated:`` reads it),
    ``<name>_fit.csv`` (each target: official, simulated, residual) and
    ``<name>_fit.png``/``.svg`` and ``<name>_evaluations.csv`` (every evaluation's
    parameters and objective), each atomically, so a calibration interrupted midway leaves the
    previous files whole.
    """
    spec, targets, base = load_calibration(path)
    fit = calibrate(
        spec.ensemble,
        spec.parameters,
        targets,
        max_evaluations=spec.max_evaluations,
        seed=spec.seed,
        replicates=spec.replicates,
        workers=spec.workers,
        base_dir=base,
        on_evaluation=on_evaluation,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.date.today().isoformat()
    report = out / f"{spec.name}_fit.csv"
    atomic.write_text(report, fit.report.to_csv(index=False))
    if fit.trace is not None:
        atomic.write_text(out / f"{spec.name}_evaluations.csv", fit.trace.to_csv(index=False))
    save(fit_figure(fit.report), out, f"{spec.name}_fit")  # PNG and SVG
    data_file = spec.official if spec.official is None or spec.official.is_absolute() else base / spec.official
    record = {
        "name": spec.name,
        "date": stamp,
        "spec": str(Path(path)),
        # relative to the working directory (the repository, for the committed values), so
        # the record reads the same on every machine
        "data": os.path.relpath(data_file) if data_file else "explicit targets",
        "data_sha256": file_sha256(data_file) if data_file else None,
        "objective": fit.objective,
        "evaluations": fit.evaluations,
        "bounds": {p.path: [p.low, p.high] for p in spec.parameters},
        "values": fit.values,
        "report": report.name,
    }
    values = out / f"{spec.name}.yaml"
    atomic.write_text(values, yaml.safe_dump(json.loads(json.dumps(record)), sort_keys=False))
    return fit, values
