"""Global sensitivity analysis: which inputs move an output, how much, and whether n was enough.

Five SALib methods, each with bootstrap confidence intervals:

* ``sobol``: first-order (S1), total (ST) and optionally second-order (S2) variance shares,
  on SALib's Saltelli/Sobol' sample (n = base sample N, a power of 2; N·(k+2) runs, or
  N·(2k+2) with second order);
* ``morris``: elementary effects μ, μ* (mean absolute effect) and σ (spread: non-linearity
  or interactions) on Morris trajectories (n = trajectories, each k+1 runs); μ* carries
  SALib's bootstrap interval, μ and σ one from resampling whole trajectories;
* ``efast``: S1 and ST from Fourier search curves (n = points per curve, above 4·M² = 64;
  N·k runs); SALib warns that its eFAST intervals are indicative only;
* ``pawn``: Kolmogorov–Smirnov distance between the output's distribution and its
  distribution with one input held in a slice (median over slides), on any random sample;
  the interval comes from resampling the runs, since SALib gives none;
* ``delta``: Borgonovo's moment-independent δ (Plischke et al. 2013 estimator with its bias
  correction) and a first-order S1, on any random sample.

:func:`analyze_samples` analyses outputs already computed on a SALib design, which is how
an experiment folder is analysed (:mod:`experiments.analysis.analyze`);
:func:`experiments.analysis.function.analyze` runs any Python callable over a design it
draws itself and hands the outputs to it. Replicates at a sample point are averaged before
the analysis, the seed's share of the variance is reported next to the indices, and a
convergence check says in plain words whether n was enough
(:mod:`experiments.analysis.convergence`). The SALib calls of each method are in
:mod:`experiments.analysis.salib_calls`, the input checks in :mod:`experiments.analysis.checks`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.checks import check_method, check_settings
from experiments.analysis.convergence import DEFAULT_TOLERANCE, half_rows, judge, seed_variance
from experiments.analysis.records import jsonable, records
from experiments.analysis.salib_calls import (
    SLOW_RESAMPLES,
    Indices,
    child_seed,
    method_indices,
    pawn_slides,
    salib_version,
)
from experiments.spec.methods import EFAST_HARMONICS, EFAST_MIN, sample_size_error
from sim.errors import InputError

#: Columns of the indices table, in order (the first six are what the figures read).
INDEX_COLUMNS: tuple[str, ...] = (
    "metric",
    "parameter",
    "S1",
    "S1_conf",
    "ST",
    "ST_conf",
    "mu",
    "mu_conf",
    "mu_star",
    "mu_star_conf",
    "sigma",
    "sigma_conf",
    "mu_star_norm",
    "mu_star_norm_conf",
    "pawn",
    "pawn_conf",
    "pawn_min",
    "pawn_max",
    "delta",
    "delta_conf",
    "delta_S1",
    "delta_S1_conf",
)
#: Columns of :attr:`SensitivityResult.second_order`.
S2_COLUMNS = ["metric", "parameter_1", "parameter_2", "S2", "S2_conf"]
#: A half-size sample and its outputs (eFAST's convergence check draws one of its own).
HalfSample = tuple[np.ndarray, Mapping[str, np.ndarray]]


@dataclass
class SensitivityResult:
    """A sensitivity analysis of one method over one sample.

    Attributes:
        method: The SALib method.
        parameters: Input names, in sample column order.
        metrics: Output names analysed.
        n: The method's sample size (Sobol' N, Morris trajectories, eFAST points per curve,
            PAWN/delta points).
        points: Sample points (rows of the design).
        replicates: Runs per sample point (averaged before the analysis).
        indices: One row per metric and parameter: ``metric, parameter, S1, S1_conf, ST,
            ST_conf`` and the method's own columns (see :data:`INDEX_COLUMNS`; columns a
            method does not estimate are NaN), then ``seed_share``. ``*_conf`` is the
            half-width of the interval at ``conf_level``.
        second_order: Sobol' S2 by metric and parameter pair (empty unless asked for).
        seed_variance: Per metric: the share of the run-to-run variance due to the seed
            alone, and the share of the averaged outputs' variance still due to it.
        convergence: Per metric: largest change of an index between n/2 and n, widest
            interval, whether n was enough, and the verdict in words.
        settings: Resamples, confidence level, tolerance, seeds and method settings.
        notes: Caveats found on the way (constant outputs, failed points, ...).
        evaluations: Model evaluations the analysis used (0 when it only read a table).
    """

    method: str
    parameters: list[str]
    metrics: list[str]
    n: int
    points: int
    replicates: int
    indices: pd.DataFrame
    second_order: pd.DataFrame
    seed_variance: pd.DataFrame
    convergence: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    evaluations: int = 0

    @property
    def enough(self) -> bool:
        """Whether n was enough for every metric."""
        return bool(len(self.convergence)) and bool(self.convergence["enough"].fillna(False).all())

    @property
    def verdict(self) -> str:
        """The convergence verdict of every metric, one sentence each."""
        return " ".join(self.convergence["verdict"].tolist())

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON data (NaN → null)."""
        return jsonable(
            {
                "method": self.method,
                "parameters": self.parameters,
                "metrics": self.metrics,
                "n": self.n,
                "points": self.points,
                "replicates": self.replicates,
                "evaluations": self.evaluations,
                "enough": self.enough,
                "verdict": self.verdict,
                "settings": self.settings,
                "notes": self.notes,
                "indices": records(self.indices),
                "second_order": records(self.second_order),
                "seed_variance": records(self.seed_variance),
                "convergence": records(self.convergence),
            }
        )


# --- the analysis of a sample ----------------------------------------------------------------------


def analyze_samples(
    method: str,
    problem: dict[str, Any],
    x: np.ndarray,
    outputs: Mapping[str, np.ndarray],
    n: int,
    *,
    second_order: bool = False,
    levels: int = 4,
    resamples: int = 200,
    conf_level: float = 0.95,
    tolerance: float = DEFAULT_TOLERANCE,
    seed: int = 7,
    half: Callable[[], HalfSample] | None = None,
    source: str = "analysis",
) -> SensitivityResult:
    """Analyse outputs computed on a SALib design.

    Args:
        method: One of :data:`ANALYSIS_METHODS`.
        problem: SALib problem (``num_vars``, ``names``, ``bounds``) the sample was drawn for.
        x: The sample, (points × parameters), in the sampler's row order.
        outputs: Per metric, the outputs as (points,) or (points × replicates); NaN marks a failed run.
        n: The method's sample size (see the module docstring).
        second_order: Sobol': the sample has the second-order rows; report S2.
        levels: Morris: the grid levels of the sample.
        resamples: Bootstrap resamples for the intervals (PAWN and delta use at most :data:`SLOW_RESAMPLES`).
        conf_level: Confidence level of the intervals.
        tolerance: Largest acceptable index change between n/2 and n, and interval half-width.
        seed: Seed of the bootstrap.
        half: For designs whose first half is not a design of the same method (eFAST), a callable giving a
            separate half-size sample and its outputs.
        source: Where the request came from, for error messages.

    Raises:
        InputError: Unknown method, an n not valid for it, or a sample that does not match the problem.
    """
    method = check_method(method, source)
    check_settings(resamples, conf_level, tolerance, source)
    why = sample_size_error(method, n)
    if why:
        raise InputError(why, source, "n")
    names = list(problem["names"])
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(names):
        raise InputError(f"the sample has shape {x.shape}, not (points, {len(names)})", source, "x")
    run = _Sample(method, problem, names, x, n, second_order, levels, resamples, conf_level, tolerance, seed, half)
    for mi, (metric, raw) in enumerate(outputs.items()):
        run.add(mi, metric, _replicates(metric, raw, x.shape[0], source))
    return run.result(list(outputs))


def _replicates(metric: str, raw: np.ndarray, points: int, source: str) -> np.ndarray:
    """A metric's outputs as a (points × replicates) matrix."""
    values = np.asarray(raw, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if values.shape[0] != points:
        raise InputError(f"metric {metric}: {values.shape[0]} outputs for {points} sample points", source, "outputs")
    return values


def _method_notes(method: str, resamples: int) -> list[str]:
    """What to know about a method's intervals before any metric is analysed."""
    notes: list[str] = []
    if method == "efast":
        notes.append("eFAST intervals come from SALib's bootstrap, which SALib itself calls indicative only")
    if method in ("pawn", "delta") and min(resamples, SLOW_RESAMPLES) < resamples:
        notes.append(f"{method} intervals use {SLOW_RESAMPLES} resamples (each reruns the whole estimator)")
    return notes


@dataclass
class _Sample:
    """One call of :func:`analyze_samples`: the sample and the settings, the notes found on the
    way, and the half-size sample once drawn (eFAST)."""

    method: str
    problem: dict[str, Any]
    names: list[str]
    x: np.ndarray
    n: int
    second_order: bool
    levels: int
    resamples: int
    conf_level: float
    tolerance: float
    seed: int
    half: Callable[[], HalfSample] | None
    notes: list[str] = field(default_factory=list)
    half_sample: HalfSample | None = None
    replicates: int = 1
    tables: list[pd.DataFrame] = field(default_factory=list)
    s2_rows: list[dict[str, Any]] = field(default_factory=list)
    seed_rows: list[dict[str, Any]] = field(default_factory=list)
    conv_rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.notes = _method_notes(self.method, self.resamples)

    def add(self, mi: int, metric: str, values: np.ndarray) -> None:
        """Analyse metric number ``mi`` from its (points × replicates) outputs."""
        self.replicates = max(self.replicates, values.shape[1])
        sv = seed_variance(values)
        self.seed_rows.append({"metric": metric, **sv})
        frame, s2, conv = self.metric(mi, metric, values, sv["seed_share"])
        self.tables.append(frame)
        self.s2_rows.extend(s2)
        self.conv_rows.append(conv)

    def result(self, metrics: list[str]) -> SensitivityResult:
        """The result, once every metric is added."""
        tables = self.tables
        indices = (
            pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=[*INDEX_COLUMNS, "seed_share"])
        )
        return SensitivityResult(
            method=self.method,
            parameters=self.names,
            metrics=metrics,
            n=int(self.n),
            points=self.x.shape[0],
            replicates=self.replicates,
            indices=indices,
            second_order=pd.DataFrame(self.s2_rows, columns=S2_COLUMNS),
            seed_variance=pd.DataFrame(self.seed_rows),
            convergence=pd.DataFrame(self.conv_rows),
            settings=self.settings(),
            notes=self.notes,
        )

    def indices(self, x: np.ndarray, y: np.ndarray, seed: int) -> Indices:
        return method_indices(
            self.method, self.problem, x, y, second_order=self.second_order, levels=self.levels,
            resamples=self.resamples, conf_level=self.conf_level, seed=seed,
        )  # fmt: skip

    def metric(
        self, mi: int, metric: str, values: np.ndarray, seed_share: float | None
    ) -> tuple[pd.DataFrame, list[dict[str, Any]], dict[str, Any]]:
        """One metric: its indices table, its S2 rows and its convergence verdict."""
        k = len(self.names)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            y = np.nanmean(values, axis=1)
        frame = pd.DataFrame({"metric": metric, "parameter": self.names})
        a_seed = child_seed(self.seed, 2, mi)
        bad, keep, constant, usable = self._usable(metric, y)
        if usable:
            cols, s2, s2c = self.indices(self.x[keep], y[keep], a_seed)
        else:
            if constant and not bad.any():
                self.notes.append(f"{metric} is the same at every sample point: no indices")
            cols, s2, s2c = {}, None, None
        for c in INDEX_COLUMNS[2:]:
            frame[c] = cols.get(c, np.full(k, np.nan))
        frame["seed_share"] = seed_share if seed_share is not None else np.nan
        s2_rows = _s2_rows(metric, self.names, s2, s2c) if s2 is not None else []
        half_frame, half_n = self._half_indices(metric, y, keep, a_seed) if usable else (None, None)
        conv = judge(
            self.method, metric, self.n, frame, half_frame, half_n, self.tolerance, self.conf_level,
            constant or not usable,
        )  # fmt: skip
        return frame, s2_rows, conv

    def _usable(self, metric: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, bool]:
        """Points without a finished run, the points kept, whether the output is constant on
        them, and whether the method can analyse it (noting why not)."""
        bad = ~np.isfinite(y)
        keep = np.ones(len(y), dtype=bool)
        if bad.any():
            if self.method in ("pawn", "delta"):
                keep = ~bad
                self.notes.append(f"{metric}: {int(bad.sum())} sample point(s) without a finished run are left out")
            else:
                self.notes.append(
                    f"{metric}: {int(bad.sum())} sample point(s) have no finished run; {self.method} needs every point "
                    "of its design, so this metric has no indices (rerun the failed runs)"
                )
        constant = bool(np.nanmax(y[keep]) - np.nanmin(y[keep]) == 0) if np.isfinite(y[keep]).any() else True
        usable = not constant and (self.method in ("pawn", "delta") or not bad.any())
        return bad, keep, constant, usable

    def _half_indices(
        self, metric: str, y: np.ndarray, keep: np.ndarray, a_seed: int
    ) -> tuple[pd.DataFrame | None, int | None]:
        """The same analysis on the first half of the sample (or on a separate half-size
        sample), and the half's n; (None, None) when there is no half to analyse."""
        hx: np.ndarray | None = None
        hy: np.ndarray | None = None
        cut = half_rows(self.method, self.n, len(self.names), self.second_order)
        if cut is not None:
            half_n, rows = cut
            hx, hy, hkeep = self.x[:rows], y[:rows], keep[:rows]
            hx, hy = hx[hkeep], hy[hkeep]
        elif self.half is not None and self.n // 2 >= EFAST_MIN:
            if self.half_sample is None:
                self.half_sample = self.half()
            half_n = self.n // 2
            hx = np.asarray(self.half_sample[0], dtype=float)
            hv = np.asarray(self.half_sample[1][metric], dtype=float)
            hy = np.nanmean(hv[:, None] if hv.ndim == 1 else hv, axis=1)
        if hx is not None and hy is not None and np.ptp(hy) > 0 and np.isfinite(hy).all():
            hcols, _, _ = self.indices(hx, hy, a_seed)
            return pd.DataFrame({"parameter": self.names, **hcols}), half_n
        return None, None

    def settings(self) -> dict[str, Any]:
        """The settings recorded with the result."""
        return {
            "resamples": int(self.resamples),
            "conf_level": float(self.conf_level),
            "tolerance": float(self.tolerance),
            "seed": int(self.seed),
            "second_order": bool(self.second_order) if self.method == "sobol" else None,
            "levels": int(self.levels) if self.method == "morris" else None,
            "harmonics": EFAST_HARMONICS if self.method == "efast" else None,
            "pawn_slides": pawn_slides(len(self.x)) if self.method == "pawn" else None,
            "salib_version": salib_version(),
        }


def _s2_rows(metric: str, names: list[str], s2: np.ndarray, s2c: np.ndarray | None) -> list[dict[str, Any]]:
    """Sobol' S2 of every parameter pair, one row each."""
    rows = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            rows.append(
                {"metric": metric, "parameter_1": names[i], "parameter_2": names[j],
                 "S2": float(s2[i, j]), "S2_conf": float(s2c[i, j])}  # type: ignore[index]
            )  # fmt: skip
    return rows
