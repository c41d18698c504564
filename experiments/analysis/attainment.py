"""Target attainment: how likely the plan's 2025 targets are met over a lever space, what
raises or lowers that chance, and what meeting them costs.

An experiment's runs table holds one row per run (lever settings, seed, metrics). A 2025
target of ``sim.config.criteria`` becomes a :class:`Goal`: a test on one metric column that
measures the target's indicator at the target date (its end value for ``>=``/``<=``
targets, its change over the run for ``increase`` targets), so "met" means here what it
means on a single run's scoreboard.

* :func:`attainment`: per goal (and for all goals together), the share of runs that meet
  it, with a Wilson interval, over the sampled levers and seeds; and its dependence on
  each lever from a logistic regression (scikit-learn) on the levers scaled to [0, 1], with
  bootstrap intervals of the coefficients and the model's cross-validated ROC AUC.

What meeting them costs (the Pareto front of fiscal cost against each target indicator, the
cheapest point meeting every goal) is :mod:`experiments.analysis.frontier`.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from experiments.analysis.records import jsonable, records
from experiments.analysis.threads import one_blas_thread
from sim.errors import InputError
from sim.policy.indicators import BY_NAME

Op = Literal[">=", "<=", ">"]

#: The composite goal: every measured goal met in the same run.
ALL_GOALS = "all_targets"
#: Regularisation of the logistic model (scikit-learn's C). Levers are scaled to [0, 1], so
#: a coefficient is the change in log-odds across a lever's whole range; a mild penalty
#: keeps it finite when a lever separates met from missed runs perfectly.
LOGISTIC_C = 1.0


@dataclass(frozen=True)
class Goal:
    """A target as a test on one column of the runs table.

    Attributes:
        name: Short name (the criteria file's target name).
        column: The metric column it reads.
        op: ``>=`` / ``<=`` against ``threshold``, or ``>`` (an ``increase`` target on a
            change column, threshold 0).
        threshold: The line to reach.
        goal: The plan's words.
        indicator: The indicator the column measures.
        source: Where the target comes from (or why it is assumed).
    """

    name: str
    column: str
    op: Op
    threshold: float
    goal: str = ""
    indicator: str = ""
    source: str = ""

    def met(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """1.0 where met, 0.0 where missed, NaN where the run has no value."""
        v = np.asarray(values, dtype=float)
        if self.op == ">=":
            hit = v >= self.threshold
        elif self.op == "<=":
            hit = v <= self.threshold
        else:
            hit = v > self.threshold
        return np.where(np.isfinite(v), hit.astype(float), np.nan)

    @property
    def better(self) -> Literal["max", "min"]:
        """Which way the column improves."""
        return "min" if self.op == "<=" else "max"

    def describe(self) -> str:
        return f"{self.column} {self.op} {self.threshold:g}"


def goals_from_criteria(
    criteria: Any, metrics: dict[str, dict[str, Any]], run_end: dt.date | None = None
) -> tuple[list[Goal], list[dict[str, Any]]]:
    """The 2025 targets of a criteria file as goals on an experiment's metric columns.

    Args:
        criteria: A :class:`sim.config.Criteria`.
        metrics: Metric column → its definition (``indicator``, ``stat``, ``date``), as in
            an experiment manifest's ``columns.metrics``.
        run_end: Last day of the runs (None: unknown). A run's last value stands for the
            target date only if the run ends by it, as on a run's own scoreboard.

    Returns:
        The goals, and the targets no column measures, each with what to add to the spec.
    """
    by: dt.date = criteria.targets_2025.by
    ends_in_time = run_end is None or run_end <= by
    goals: list[Goal] = []
    missing: list[dict[str, Any]] = []
    for t in criteria.targets_2025.items:
        ind = t.indicator
        found: str | None = None
        for col, d in metrics.items():
            if d.get("indicator") != ind:
                continue
            stat = d.get("stat", "final_year")
            if t.op == "increase":
                ok = stat == "change" and ends_in_time
            else:
                summary_last = ind in BY_NAME and BY_NAME[ind].summary == "last"
                ok = (
                    (stat == "at" and str(d.get("date")) == by.isoformat())
                    or (stat == "final" and ends_in_time)
                    or (stat == "final_year" and summary_last and ends_in_time)
                )
            if ok:
                found = col
                break
        info = {"name": t.name, "goal": t.goal, "indicator": ind, "op": t.op, "source": t.source or t.reason or ""}
        if found is None:
            if t.op == "increase":
                hint = f"{{indicator: {ind}, stat: change}}"
            elif ends_in_time:
                hint = f"{{indicator: {ind}, stat: final}}"
            else:
                hint = f"{{indicator: {ind}, stat: at, date: {by.isoformat()}}}"
            missing.append({**info, "measured": False, "hint": f"add {hint} to the spec's metrics"})
            continue
        if t.op == "increase":
            goals.append(Goal(t.name, found, ">", 0.0, t.goal, ind, info["source"]))
        else:
            goals.append(Goal(t.name, found, t.op, float(t.threshold), t.goal, ind, info["source"]))
    return goals, missing


def met_table(runs: pd.DataFrame, goals: list[Goal]) -> pd.DataFrame:
    """Per run and goal: 1 met, 0 missed, NaN unknown; plus ``all_targets`` (NaN if any is)."""
    if not goals:
        return pd.DataFrame(index=runs.index)
    missing = [g.column for g in goals if g.column not in runs.columns]
    if missing:
        raise InputError(f"the runs table has no column {', '.join(missing)}", "attainment", "goals")
    out = pd.DataFrame({g.name: g.met(runs[g.column]) for g in goals}, index=runs.index)
    out[ALL_GOALS] = out.min(axis=1, skipna=False)
    return out


def lever_features(runs: pd.DataFrame, levers: list[str]) -> pd.DataFrame:
    """Levers as model inputs in [0, 1]: numbers scaled over their observed range, switches
    0/1, other values one column per value (``lever=value``, the first value left out).
    Levers that do not vary are left out."""
    cols: dict[str, np.ndarray] = {}
    for lv in levers:
        s = runs[lv]
        if s.nunique(dropna=True) < 2:
            continue
        if pd.api.types.is_bool_dtype(s):
            cols[lv] = s.astype(float).to_numpy()
        elif pd.api.types.is_numeric_dtype(s):
            v = s.astype(float).to_numpy()
            lo, hi = np.nanmin(v), np.nanmax(v)
            cols[lv] = (v - lo) / (hi - lo)
        else:
            values = sorted(s.dropna().astype(str).unique())
            for value in values[1:]:
                cols[f"{lv}={value}"] = (s.astype(str) == value).astype(float).to_numpy()
    return pd.DataFrame(cols, index=runs.index)


def wilson(successes: float, n: float, conf_level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a share (honest near 0 and 1, where attainment often sits)."""
    if n <= 0:
        return float("nan"), float("nan")
    from scipy.stats import norm  # heavy (about a second): imported by the analyses that use it

    z = float(norm.ppf(0.5 + conf_level / 2))
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    # at p = 0 or 1 one end is exactly 0 or 1 (rounding would leave it a hair inside)
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


@dataclass
class Attainment:
    """Probabilities of meeting each goal and their dependence on the levers.

    Attributes:
        probabilities: One row per goal (and ``all_targets``): the test, runs with a value,
            runs that met it, the probability and its interval, and the logistic model's
            cross-validated ROC AUC (how well the levers predict meeting it; 0.5 = not at all).
        dependence: One row per goal and lever: the logistic coefficient (change in log-odds
            from the lever's low to its high end, the other levers as sampled) with a
            bootstrap interval, the odds ratio, the model's mean probability with the lever
            at its low and at its high end, and the direction in words.
        missing: Targets no metric column measures, with what to add to the spec.
        notes: Caveats.
    """

    probabilities: pd.DataFrame
    dependence: pd.DataFrame
    missing: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "probabilities": records(self.probabilities),
                "dependence": records(self.dependence),
                "unmeasured_targets": self.missing,
                "notes": self.notes,
            }
        )


def _fit_logistic(x: np.ndarray, y: np.ndarray, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression  # scikit-learn is slow to import: only here

    model = LogisticRegression(C=LOGISTIC_C, solver="newton-cholesky", max_iter=200, random_state=seed)
    return model.fit(x, y)


def _auc(x: np.ndarray, y: np.ndarray, seed: int) -> float | None:
    # scikit-learn is slow to import: only here
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    minority = int(min(y.sum(), len(y) - y.sum()))
    folds = min(5, minority)
    if folds < 2:
        return None
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    model = LogisticRegression(C=LOGISTIC_C, solver="newton-cholesky", max_iter=200)
    return float(np.mean(cross_val_score(model, x, y, cv=cv, scoring="roc_auc")))


def _dependence(
    name: str, features: pd.DataFrame, y: np.ndarray, resamples: int, conf_level: float, seed: int
) -> tuple[list[dict[str, Any]], float | None]:
    from scipy.stats import norm  # heavy (about a second): imported by the analyses that use it

    x = features.to_numpy(dtype=float)
    model = _fit_logistic(x, y, seed)
    coef = model.coef_[0]
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(resamples):
        idx = rng.integers(0, len(y), size=len(y))
        if 0 < y[idx].sum() < len(idx):
            boot.append(_fit_logistic(x[idx], y[idx], seed).coef_[0])
    z = float(norm.ppf(0.5 + conf_level / 2))
    conf = z * np.std(np.asarray(boot), axis=0, ddof=1) if len(boot) > 1 else np.full(len(coef), np.nan)
    rows = []
    for j, lever in enumerate(features.columns):
        lo, hi = x.copy(), x.copy()
        lo[:, j], hi[:, j] = 0.0, 1.0
        p_lo = float(model.predict_proba(lo)[:, 1].mean())
        p_hi = float(model.predict_proba(hi)[:, 1].mean())
        c, cc = float(coef[j]), float(conf[j])
        if math.isfinite(cc) and c - cc > 0:
            direction = "raises the chance"
        elif math.isfinite(cc) and c + cc < 0:
            direction = "lowers the chance"
        else:
            direction = "no clear effect"
        rows.append(
            {
                "goal": name,
                "lever": lever,
                "coef": c,
                "coef_conf": cc,
                "odds_ratio": math.exp(c),
                "p_at_low": p_lo,
                "p_at_high": p_hi,
                "effect": p_hi - p_lo,
                "direction": direction,
            }
        )
    return rows, _auc(x, y, seed)


#: Columns of :attr:`Attainment.dependence`.
DEPENDENCE_COLUMNS = (
    "goal",
    "lever",
    "coef",
    "coef_conf",
    "odds_ratio",
    "p_at_low",
    "p_at_high",
    "effect",
    "direction",
)


def _probability_row(name: str, goal: Goal | None, n: int, met: int, conf_level: float) -> dict[str, Any]:
    """A goal's row of :attr:`Attainment.probabilities` (its AUC is filled in by the caller)."""
    lo, hi = wilson(met, n, conf_level)
    return {
        "goal": name,
        "test": goal.describe() if goal else "every goal above met in the same run",
        "column": goal.column if goal else None,
        "indicator": goal.indicator if goal else None,
        "runs": n,
        "met": met,
        "probability": met / n if n else float("nan"),
        "ci_low": lo,
        "ci_high": hi,
        "auc": None,
    }


def attainment(
    runs: pd.DataFrame,
    goals: list[Goal],
    features: pd.DataFrame | None = None,
    levers: list[str] | None = None,
    *,
    resamples: int = 100,
    conf_level: float = 0.95,
    seed: int = 0,
    missing: list[dict[str, Any]] | None = None,
) -> Attainment:
    """The chance of meeting each goal over the runs, and what moves it.

    Args:
        runs: A runs table (rows with ``status`` other than ``ok`` are ignored).
        goals: The goals to test.
        features: Model inputs per run in [0, 1] (e.g. a sampling design's unit
            coordinates), aligned with ``runs``; default: :func:`lever_features` of ``levers``.
        levers: Lever columns (used when ``features`` is not given).
        resamples: Bootstrap refits for the coefficients' intervals.
        conf_level: Level of the intervals.
        seed: Seed of the bootstrap and the cross-validation folds.
        missing: Targets that could not be measured (passed through to the result).

    Raises:
        InputError: A goal's column is not in the table, or neither features nor levers are given.
    """
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    if features is None:
        if levers is None:
            raise InputError("give the lever columns or the features", "attainment", "levers")
        features = lever_features(ok, levers)
    else:
        features = features.loc[ok.index]
    table = met_table(ok, goals)
    notes: list[str] = []
    prob_rows, dep_rows = [], []
    by_name = {g.name: g for g in goals}
    for name in table.columns:
        y_all = table[name].to_numpy()
        have = np.isfinite(y_all)
        y = y_all[have].astype(int)
        n, met = int(have.sum()), int(y.sum())
        row = _probability_row(name, by_name.get(name), n, met, conf_level)
        if 0 < met < n and features.shape[1]:
            with warnings.catch_warnings(), one_blas_thread():
                warnings.simplefilter("ignore")
                rows, auc = _dependence(name, features[have], y, resamples, conf_level, seed)
            dep_rows.extend(rows)
            row["auc"] = auc
        elif n:
            word = "met in every run" if met == n else "missed in every run"
            notes.append(f"{name}: {word}; the levers cannot explain a chance that never changes")
        prob_rows.append(row)
    dependence = pd.DataFrame(dep_rows, columns=list(DEPENDENCE_COLUMNS))
    return Attainment(pd.DataFrame(prob_rows), dependence, list(missing or []), notes)
