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

:func:`analyze` runs any Python callable ``func(dict) -> dict | float`` over a design it
draws itself; :func:`analyze_samples` analyses outputs already computed on a SALib design,
which is how an experiment folder is analysed (:mod:`experiments.analysis.analyze`). Both handle
stochastic models the same way: replicates at a sample point are averaged before the
analysis (the indices describe the levers' effect on the expected output), the share of
the run-to-run variance that is due to the seed alone is reported next to the indices, and
a convergence check compares the indices from the first half of the sample with those
from all of it and looks at the width of the intervals, and says in plain words whether
n was enough.

SALib is imported inside the functions: reading a spec must not pay for it.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments.spec.methods import (
    ANALYSIS_METHODS,
    EFAST_HARMONICS,
    EFAST_MIN,
    MIN_GIVEN_DATA,
    sample_size_error,
)
from sim.errors import InputError

#: PAWN's slides: SALib's default of 10, fewer for small samples (about ten points a slide).
PAWN_SLIDES = 10
#: PAWN and delta rerun the whole estimator per bootstrap resample: at most this many.
SLOW_RESAMPLES = 100
#: Default largest acceptable change of an index between n/2 and n, and half-width of its interval.
DEFAULT_TOLERANCE = 0.1
#: Above this share of the averaged outputs' variance the seed blurs the indices: more replicates.
NOISE_WARNING = 0.2

#: Per method: the indices the convergence check compares, and their interval columns.
MAIN_INDICES: dict[str, tuple[tuple[str, str], ...]] = {
    "sobol": (("S1", "S1_conf"), ("ST", "ST_conf")),
    "efast": (("S1", "S1_conf"), ("ST", "ST_conf")),
    "morris": (("mu_star_norm", "mu_star_norm_conf"),),
    "pawn": (("pawn", "pawn_conf"),),
    "delta": (("delta", "delta_conf"),),
}

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


# --- input checks ---------------------------------------------------------------------------


def _check_method(method: Any, source: str) -> str:
    if method not in ANALYSIS_METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(ANALYSIS_METHODS)}", source, "method")
    return str(method)


def _check_parameters(parameters: Any, source: str) -> dict[str, tuple[float, float]]:
    if not isinstance(parameters, Mapping) or not parameters:
        raise InputError("give at least one parameter as {name: (low, high)}", source, "parameters")
    out: dict[str, tuple[float, float]] = {}
    for name, bounds in parameters.items():
        where = f"parameters.{name}"
        if not isinstance(name, str) or not name:
            raise InputError(f"parameter names must be non-empty strings (got {name!r})", source, "parameters")
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise InputError(f"bounds must be two numbers (low, high) (got {bounds!r})", source, where) from None
        if not (math.isfinite(low) and math.isfinite(high)):
            raise InputError(f"bounds must be finite numbers (got {bounds!r})", source, where)
        if not low < high:
            raise InputError(
                f"low ({low:g}) must be below high ({high:g})"
                + ("; a parameter that does not vary has no sensitivity: leave it out" if low == high else ""),
                source,
                where,
            )
        out[name] = (low, high)
    return out


def _check_settings(resamples: Any, conf_level: Any, tolerance: Any, source: str) -> None:
    if not isinstance(resamples, int | np.integer) or isinstance(resamples, bool) or resamples < 10:
        raise InputError(f"resamples must be a whole number of at least 10 (got {resamples!r})", source, "resamples")
    if not isinstance(conf_level, float | int) or not 0 < float(conf_level) < 1:
        raise InputError(f"conf_level must lie strictly between 0 and 1 (got {conf_level!r})", source, "conf_level")
    if not isinstance(tolerance, float | int) or not 0 < float(tolerance) <= 1:
        raise InputError(f"tolerance must lie in (0, 1] (got {tolerance!r})", source, "tolerance")


# --- the result -------------------------------------------------------------------------------


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
        return _jsonable(
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
                "indices": _records(self.indices),
                "second_order": _records(self.second_order),
                "seed_variance": _records(self.seed_variance),
                "convergence": _records(self.convergence),
            }
        )


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _jsonable(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v) if math.isfinite(v) else None
    if v is pd.NA or v is pd.NaT:
        return None
    return v


# --- running SALib quietly and reproducibly ---------------------------------------------------


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run tiny linear algebra on one BLAS thread.

    The estimators here make thousands of very small BLAS calls (a kernel density per
    class and resample in delta, a logistic fit per bootstrap resample); waking a pool of
    BLAS threads for each costs far more than the work itself, up to a hundredfold on a
    busy two-core machine.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


@contextlib.contextmanager
def _quiet_salib(seed: int) -> Iterator[None]:
    """Seed NumPy's global generator for SALib code that uses it, and restore it and the
    warning filters afterwards (SALib's delta module changes the global filters)."""
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        with warnings.catch_warnings(), one_blas_thread():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                yield
    finally:
        np.random.set_state(state)


def _child_seed(seed: int, *key: int) -> int:
    """A positive int seed for one SALib call (SALib treats seed 0 as "no seed")."""
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, dtype=np.uint32)[0]
    return int(state) % (2**31 - 2) + 1


def _z(conf_level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + conf_level / 2))


def _nan_columns(k: int, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {c: np.full(k, np.nan) for c in names}


def _indices_once(
    method: str,
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    *,
    second_order: bool,
    levels: int,
    resamples: int,
    conf_level: float,
    seed: int,
) -> tuple[dict[str, np.ndarray], np.ndarray | None, np.ndarray | None]:
    """One method's indices of one output: per-parameter columns, and S2 with its interval."""
    with _quiet_salib(seed):
        if method == "sobol":
            from SALib.analyze import sobol

            si = sobol.analyze(
                problem, y, calc_second_order=second_order, num_resamples=resamples, conf_level=conf_level, seed=seed
            )
            cols = {c: np.asarray(si[c], dtype=float) for c in ("S1", "S1_conf", "ST", "ST_conf")}
            s2 = np.asarray(si["S2"], dtype=float) if second_order else None
            s2c = np.asarray(si["S2_conf"], dtype=float) if second_order else None
            return cols, s2, s2c
        if method == "efast":
            from SALib.analyze import fast

            si = fast.analyze(problem, y, M=EFAST_HARMONICS, num_resamples=resamples, conf_level=conf_level, seed=seed)
            return {c: np.asarray(si[c], dtype=float) for c in ("S1", "S1_conf", "ST", "ST_conf")}, None, None
        if method == "morris":
            return _morris(problem, x, y, levels, resamples, conf_level, seed), None, None
        if method == "pawn":
            return _pawn(problem, x, y, resamples, conf_level, seed), None, None
        if method == "delta":
            return _delta(problem, x, y, resamples, conf_level), None, None
    raise ValueError(f"unknown method {method!r}")  # pragma: no cover - checked by callers


def _morris(
    problem: dict[str, Any], x: np.ndarray, y: np.ndarray, levels: int, resamples: int, conf_level: float, seed: int
) -> dict[str, np.ndarray]:
    from SALib.analyze import morris

    k = int(problem["num_vars"])
    si = morris.analyze(problem, x, y, num_resamples=resamples, conf_level=conf_level, num_levels=levels, seed=seed)
    out = {c: np.asarray(si[c], dtype=float) for c in ("mu", "mu_star", "mu_star_conf", "sigma")}
    # SALib's interval covers mu* only: resample whole trajectories for mu and sigma
    rows = k + 1
    t = len(y) // rows
    rng = np.random.default_rng(seed)
    boot_mu, boot_sigma = [], []
    if t >= 2:
        for _ in range(resamples):
            pick = rng.integers(0, t, size=t)
            idx = (pick[:, None] * rows + np.arange(rows)[None, :]).ravel()
            b = morris.analyze(problem, x[idx], y[idx], num_resamples=10, num_levels=levels, seed=seed)
            boot_mu.append(b["mu"])
            boot_sigma.append(b["sigma"])
    z = _z(conf_level)
    out["mu_conf"] = z * np.nanstd(np.asarray(boot_mu, dtype=float), axis=0, ddof=1) if boot_mu else np.full(k, np.nan)
    out["sigma_conf"] = (
        z * np.nanstd(np.asarray(boot_sigma, dtype=float), axis=0, ddof=1) if boot_sigma else np.full(k, np.nan)
    )
    top = float(np.nanmax(out["mu_star"])) if np.isfinite(out["mu_star"]).any() else 0.0
    scale = top if top > 0 else np.nan
    out["mu_star_norm"] = out["mu_star"] / scale
    out["mu_star_norm_conf"] = out["mu_star_conf"] / scale
    return out


def _pawn_slides(points: int) -> int:
    return int(min(PAWN_SLIDES, max(2, points // 10)))


def _pawn(
    problem: dict[str, Any], x: np.ndarray, y: np.ndarray, resamples: int, conf_level: float, seed: int
) -> dict[str, np.ndarray]:
    from SALib.analyze import pawn

    slides = _pawn_slides(len(y))
    si = pawn.analyze(problem, x, y, S=slides, seed=seed)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(min(resamples, SLOW_RESAMPLES)):
        idx = rng.integers(0, len(y), size=len(y))
        boot.append(pawn.analyze(problem, x[idx], y[idx], S=slides, seed=seed)["median"])
    conf = _z(conf_level) * np.nanstd(np.asarray(boot, dtype=float), axis=0, ddof=1)
    return {
        "pawn": np.asarray(si["median"], dtype=float),
        "pawn_conf": conf,
        "pawn_min": np.asarray(si["minimum"], dtype=float),
        "pawn_max": np.asarray(si["maximum"], dtype=float),
    }


def _delta(
    problem: dict[str, Any], x: np.ndarray, y: np.ndarray, resamples: int, conf_level: float
) -> dict[str, np.ndarray]:
    """Borgonovo's δ by SALib's bias-reduced estimator on the data as sampled ("raw").

    SALib 1.6's ``delta.analyze`` also runs two re-balanced variants of the bootstrap
    (three times the cost, minutes for a thousand points); the classical δ of
    Plischke et al. (2013) is the "raw" one, so its estimator is called directly, with
    the class partition ``analyze`` uses.
    """
    from SALib.analyze import delta as sd

    k = int(problem["num_vars"])
    n = len(y)
    b = min(resamples, SLOW_RESAMPLES)
    exp = 2.0 / (7.0 + np.tanh((1500.0 - n) / 500.0))
    classes = int(np.round(min(int(np.ceil(n**exp)), 48)))
    m = np.linspace(0, n, classes + 1)
    grid = np.linspace(np.min(y), np.max(y), 100)
    out = _nan_columns(k, ("delta", "delta_conf", "delta_S1", "delta_S1_conf"))
    for i in range(k):
        xi = x[:, i]
        if np.ptp(xi) == 0:
            continue
        d, dc, _ = sd.bias_reduced_delta(y, grid, xi, m, b, conf_level, n, "raw", None, problem["names"][i], 10)
        out["delta"][i], out["delta_conf"][i] = d, dc
        out["delta_S1"][i] = sd.sobol_first(y, xi, m)
        out["delta_S1_conf"][i] = sd.sobol_first_conf(y, xi, m, b, conf_level, n)
    return out


# --- replicates, seed variance and convergence --------------------------------------------------


def seed_variance(values: np.ndarray) -> dict[str, Any]:
    """How much of an output's variation the seed alone makes.

    Args:
        values: (points × replicates) outputs; NaN for failed runs.

    Returns:
        ``seed_share``: mean within-point variance over the variance of all runs (0 when
        the output is deterministic, about 1 when it is pure noise); ``noise_share_of_means``:
        the within-point variance divided by the replicates, over the variance of the point
        means (what is left of the seed in the averaged outputs the indices are computed
        from); and the variances themselves. None where one replicate cannot tell.
    """
    v = np.asarray(values, dtype=float)
    reps = v.shape[1]
    finite = v[np.isfinite(v)]
    total = float(np.var(finite, ddof=1)) if finite.size > 1 else float("nan")
    counts = np.isfinite(v).sum(axis=1)
    usable = counts >= 2
    out: dict[str, Any] = {
        "replicates": reps,
        "total_variance": total,
        "within_variance": None,
        "seed_share": None,
        "noise_share_of_means": None,
        "note": "",
    }
    if reps < 2 or not usable.any():
        out["note"] = (
            "one run per point: the seed's share cannot be told apart from the inputs'; use 2 or more replicates"
        )
        return out
    with np.errstate(all="ignore"):
        within = float(np.nanmean(np.nanvar(v[usable], axis=1, ddof=1)))
        means = np.nanmean(v, axis=1)
    between = float(np.nanvar(means[np.isfinite(means)], ddof=1))
    out["within_variance"] = within
    if not total > 0:
        out.update(seed_share=0.0, noise_share_of_means=0.0, note="the output does not vary")
        return out
    out["seed_share"] = float(min(1.0, within / total))
    noise = within / float(np.mean(counts[usable]))
    out["noise_share_of_means"] = float(min(1.0, noise / between)) if between > 0 else 1.0
    if out["noise_share_of_means"] > NOISE_WARNING:
        out["note"] = (
            f"the seed still makes {out['noise_share_of_means']:.0%} of the variance of the averaged outputs: "
            "indices are blurred by noise; use more replicates"
        )
    return out


def _half_rows(method: str, n: int, k: int, second_order: bool) -> tuple[int, int] | None:
    """(n/2, rows of the first half of the sample) where the design's structure allows."""
    half = n // 2
    if method == "sobol":
        if half < 2:
            return None
        return half, half * (2 * k + 2 if second_order else k + 2)
    if method == "morris":
        return (half, half * (k + 1)) if half >= 2 else None
    if method in ("pawn", "delta"):
        return (half, half) if half >= MIN_GIVEN_DATA // 2 else None
    return None  # eFAST: half a search curve is not a search curve


def _suggest_n(method: str, n: int, ratio: float) -> int:
    """A sample size that should bring the widest interval under the tolerance (∝ 1/√n)."""
    want = max(n * 2, math.ceil(n * max(ratio, 1.0) ** 2 * 1.2))
    if method == "sobol":
        return 1 << (want - 1).bit_length()
    return want


def _judge(
    method: str,
    metric: str,
    n: int,
    full: pd.DataFrame,
    half: pd.DataFrame | None,
    half_n: int | None,
    tolerance: float,
    conf_level: float,
    constant: bool,
) -> dict[str, Any]:
    """The convergence verdict of one metric (see :func:`analyze_samples`)."""
    row: dict[str, Any] = {
        "metric": metric,
        "n": n,
        "n_half": half_n,
        "max_change": None,
        "changed": None,
        "max_conf": None,
        "widest": None,
        "top_parameter": None,
        "top_parameter_half": None,
        "enough": None,
        "verdict": "",
    }
    if constant:
        row["verdict"] = (
            f"{metric} (averaged over replicates) is the same at every sample point: the inputs do not move it, "
            "so there is no variance to apportion."
        )
        return row
    pairs = MAIN_INDICES[method]
    pct = f"{conf_level:.0%}"
    confs = [(full[c].abs().max(), f"{i} of {full.loc[full[c].abs().idxmax(), 'parameter']}") for i, c in pairs
             if full[c].notna().any()]  # fmt: skip
    main = pairs[-1][0]
    if full[main].notna().any():
        row["top_parameter"] = str(full.loc[full[main].idxmax(), "parameter"])
    if not confs:
        row["verdict"] = f"{metric}: the method gave no indices (see notes)."
        return row
    max_conf, widest = max(confs, key=lambda t: t[0])
    row["max_conf"], row["widest"] = float(max_conf), widest
    reasons = []
    if half is not None:
        changes = []
        for i, _ in pairs:
            diff = (full.set_index("parameter")[i] - half.set_index("parameter")[i]).abs()
            if diff.notna().any():
                changes.append((float(diff.max()), f"{i} of {diff.idxmax()}"))
        if changes:
            max_change, changed = max(changes, key=lambda t: t[0])
            row["max_change"], row["changed"] = max_change, changed
            if half[main].notna().any():
                row["top_parameter_half"] = str(half.loc[half[main].idxmax(), "parameter"])
            if max_change > tolerance:
                reasons.append(f"{changed} moved by {max_change:.2f} between n/2 = {half_n} and n = {n}")
    if max_conf > tolerance:
        reasons.append(f"the widest {pct} interval ({widest}) is ±{max_conf:.2f}")
    enough = not reasons
    row["enough"] = enough
    what = "index" if method != "morris" else "index (μ* as a share of the largest μ*)"
    if enough:
        moved = (
            f"between n/2 = {half_n} and n = {n} no {what} moved by more than {row['max_change']:.2f}, and "
            if row["max_change"] is not None
            else "(the first half of an eFAST sample is no eFAST sample, so only the intervals are judged) "
        )
        row["verdict"] = (
            f"n = {n} was enough for {metric}: {moved}the widest {pct} interval is ±{max_conf:.2f} "
            f"(tolerance {tolerance:g})."
        )
    else:
        ratio = max(max_conf, row["max_change"] or 0.0) / tolerance
        row["verdict"] = (
            f"n = {n} was NOT enough for {metric}: {'; '.join(reasons)} (tolerance {tolerance:g}); "
            f"try n = {_suggest_n(method, n, ratio)}."
        )
    if row["top_parameter"] and row["top_parameter_half"] and row["top_parameter"] != row["top_parameter_half"]:
        row["verdict"] += (
            f" The most influential input changed from {row['top_parameter_half']} to {row['top_parameter']}."
        )
    return row


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
    half: Callable[[], tuple[np.ndarray, Mapping[str, np.ndarray]]] | None = None,
    source: str = "analysis",
) -> SensitivityResult:
    """Analyse outputs computed on a SALib design.

    Args:
        method: One of :data:`ANALYSIS_METHODS`.
        problem: SALib problem (``num_vars``, ``names``, ``bounds``) the sample was drawn for.
        x: The sample, (points × parameters), in the sampler's row order.
        outputs: Per metric, the outputs as (points,) or (points × replicates); NaN marks
            a failed run.
        n: The method's sample size (see the module docstring).
        second_order: Sobol': the sample has the second-order rows; report S2.
        levels: Morris: the grid levels of the sample.
        resamples: Bootstrap resamples for the intervals (PAWN and delta use at most
            :data:`SLOW_RESAMPLES`).
        conf_level: Confidence level of the intervals.
        tolerance: Largest acceptable index change between n/2 and n, and interval half-width.
        seed: Seed of the bootstrap.
        half: For designs whose first half is not a design of the same method (eFAST), a
            callable giving a separate half-size sample and its outputs.
        source: Where the request came from, for error messages.

    Raises:
        InputError: Unknown method, an n not valid for it, or a sample that does not
            match the problem.
    """
    method = _check_method(method, source)
    _check_settings(resamples, conf_level, tolerance, source)
    why = sample_size_error(method, n)
    if why:
        raise InputError(why, source, "n")
    names = list(problem["names"])
    k = len(names)
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != k:
        raise InputError(f"the sample has shape {x.shape}, not (points, {k})", source, "x")
    points = x.shape[0]
    notes: list[str] = []
    if method == "efast":
        notes.append("eFAST intervals come from SALib's bootstrap, which SALib itself calls indicative only")
    if method in ("pawn", "delta") and min(resamples, SLOW_RESAMPLES) < resamples:
        notes.append(f"{method} intervals use {SLOW_RESAMPLES} resamples (each reruns the whole estimator)")

    tables, s2_rows, seed_rows, conv_rows = [], [], [], []
    reps = 1
    half_sample = None
    for mi, (metric, raw) in enumerate(outputs.items()):
        values = np.asarray(raw, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        if values.shape[0] != points:
            raise InputError(
                f"metric {metric}: {values.shape[0]} outputs for {points} sample points", source, "outputs"
            )
        reps = max(reps, values.shape[1])
        sv = seed_variance(values)
        seed_rows.append({"metric": metric, **sv})
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            y = np.nanmean(values, axis=1)
        bad = ~np.isfinite(y)
        frame = pd.DataFrame({"metric": metric, "parameter": names})
        a_seed = _child_seed(seed, 2, mi)
        keep = np.ones(points, dtype=bool)
        if bad.any():
            if method in ("pawn", "delta"):
                keep = ~bad
                notes.append(f"{metric}: {int(bad.sum())} sample point(s) without a finished run are left out")
            else:
                notes.append(
                    f"{metric}: {int(bad.sum())} sample point(s) have no finished run; {method} needs every point of "
                    "its design, so this metric has no indices (rerun the failed runs)"
                )
        constant = bool(np.nanmax(y[keep]) - np.nanmin(y[keep]) == 0) if np.isfinite(y[keep]).any() else True
        usable = not constant and (method in ("pawn", "delta") or not bad.any())
        if usable:
            cols, s2, s2c = _indices_once(
                method, problem, x[keep], y[keep], second_order=second_order, levels=levels,
                resamples=resamples, conf_level=conf_level, seed=a_seed,
            )  # fmt: skip
        else:
            if constant and not bad.any():
                notes.append(f"{metric} is the same at every sample point: no indices")
            cols, s2, s2c = {}, None, None
        for c in INDEX_COLUMNS[2:]:
            frame[c] = cols.get(c, np.full(k, np.nan))
        frame["seed_share"] = sv["seed_share"] if sv["seed_share"] is not None else np.nan
        tables.append(frame)
        if s2 is not None:
            for i in range(k):
                for j in range(i + 1, k):
                    s2_rows.append(
                        {"metric": metric, "parameter_1": names[i], "parameter_2": names[j],
                         "S2": float(s2[i, j]), "S2_conf": float(s2c[i, j])}  # type: ignore[index]
                    )  # fmt: skip
        # convergence: the same analysis on the first half of the sample (or a separate half sample)
        half_frame, half_n = None, None
        if usable:
            cut = _half_rows(method, n, k, second_order)
            hx: np.ndarray | None = None
            hy: np.ndarray | None = None
            if cut is not None:
                half_n, rows = cut
                hx, hy, hkeep = x[:rows], y[:rows], keep[:rows]
                hx, hy = hx[hkeep], hy[hkeep]
            elif half is not None and n // 2 >= EFAST_MIN:
                if half_sample is None:
                    half_sample = half()
                half_n = n // 2
                hx = np.asarray(half_sample[0], dtype=float)
                hv = np.asarray(half_sample[1][metric], dtype=float)
                hy = np.nanmean(hv[:, None] if hv.ndim == 1 else hv, axis=1)
            if hx is not None and hy is not None and np.ptp(hy) > 0 and np.isfinite(hy).all():
                hcols, _, _ = _indices_once(
                    method, problem, hx, hy, second_order=second_order, levels=levels,
                    resamples=resamples, conf_level=conf_level, seed=a_seed,
                )  # fmt: skip
                half_frame = pd.DataFrame({"parameter": names, **hcols})
            else:
                half_n = None
        conv_rows.append(
            _judge(method, metric, n, frame, half_frame, half_n, tolerance, conf_level, constant or not usable)
        )
    indices = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=[*INDEX_COLUMNS, "seed_share"])
    settings = {
        "resamples": int(resamples),
        "conf_level": float(conf_level),
        "tolerance": float(tolerance),
        "seed": int(seed),
        "second_order": bool(second_order) if method == "sobol" else None,
        "levels": int(levels) if method == "morris" else None,
        "harmonics": EFAST_HARMONICS if method == "efast" else None,
        "pawn_slides": _pawn_slides(points) if method == "pawn" else None,
        "salib_version": _salib_version(),
    }
    return SensitivityResult(
        method=method,
        parameters=names,
        metrics=list(outputs),
        n=int(n),
        points=points,
        replicates=reps,
        indices=indices,
        second_order=pd.DataFrame(s2_rows, columns=["metric", "parameter_1", "parameter_2", "S2", "S2_conf"]),
        seed_variance=pd.DataFrame(seed_rows),
        convergence=pd.DataFrame(conv_rows),
        settings=settings,
        notes=notes,
    )


def _salib_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("SALib")


# --- sampling and the generic entry point ------------------------------------------------------------


def draw(
    method: str,
    problem: dict[str, Any],
    n: int,
    rng: np.random.Generator,
    *,
    second_order: bool = False,
    levels: int = 4,
) -> np.ndarray:
    """A SALib sample for ``method`` (Saltelli/Sobol', Morris, eFAST search curves, or a Latin
    hypercube for PAWN and delta) in the problem's bounds."""
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, n, calc_second_order=second_order, scramble=True, seed=rng)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, n, num_levels=levels, seed=rng)
    if method == "efast":
        from SALib.sample import fast_sampler

        return fast_sampler.sample(problem, n, M=EFAST_HARMONICS, seed=rng)
    from SALib.sample import latin

    return latin.sample(problem, n, seed=rng)


def _takes_seed(func: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "seed" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _as_outputs(value: Any) -> dict[str, float]:
    if isinstance(value, Mapping):
        return {str(k): float(v) for k, v in value.items()}
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        return {"output": float(value)}
    raise TypeError(f"the function must return a number or a dict of numbers, not {type(value).__name__}")


def analyze(
    func: Callable[..., Any],
    parameters: Mapping[str, tuple[float, float]],
    method: str = "sobol",
    n: int = 1024,
    seed: int = 7,
    *,
    replicates: int = 1,
    metrics: list[str] | None = None,
    second_order: bool = False,
    levels: int = 4,
    resamples: int = 200,
    conf_level: float = 0.95,
    tolerance: float = DEFAULT_TOLERANCE,
    common_random_numbers: bool = True,
) -> SensitivityResult:
    """Global sensitivity analysis of any Python function.

    Example::

        result = analyze(lambda p: p["a"] + 2 * p["b"], {"a": (0, 1), "b": (1, 5)}, method="sobol", n=1024)
        result.indices        # metric, parameter, S1, S1_conf, ST, ST_conf, ...
        print(result.verdict)  # was n enough?

    Args:
        func: ``func(values) -> dict of outputs`` (or one number, called ``output``), where
            ``values`` maps each parameter to a float. If it takes a ``seed`` keyword it is
            called with a seed per replicate (spawned from ``seed`` like an experiment's
            run seeds), so stochastic functions are reproducible.
        parameters: ``{name: (low, high)}``, sampled uniformly.
        method: One of :data:`ANALYSIS_METHODS`.
        n: Sample size as the method counts it (see the module docstring).
        seed: Seed of the sample, the replicates' seeds and the bootstrap.
        replicates: Calls per sample point (different seeds), averaged before the analysis.
        metrics: Outputs to analyse (default: every output of the function).
        second_order: Sobol': also estimate S2 (needs N·(2k+2) calls instead of N·(k+2)).
        levels: Morris: grid levels (even).
        resamples: Bootstrap resamples for the intervals.
        conf_level: Confidence level of the intervals.
        tolerance: What the convergence check accepts (index change and interval half-width).
        common_random_numbers: Replicate r gets the same seed at every point (sharper
            differences between points), as in experiments.

    Raises:
        InputError: Unknown method, bad bounds, an n the method cannot use, a metric the
            function does not produce, or bad settings; the message names the field.
    """
    source = "analyze"
    method = _check_method(method, source)
    bounds = _check_parameters(parameters, source)
    if not callable(func):
        raise InputError(f"func must be callable (got {type(func).__name__})", source, "func")
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise InputError(f"n must be a whole number (got {n!r})", source, "n")
    why = sample_size_error(method, int(n))
    if why:
        raise InputError(why, source, "n")
    if not isinstance(replicates, int) or replicates < 1:
        raise InputError(f"replicates must be a whole number of at least 1 (got {replicates!r})", source, "replicates")
    if method == "morris" and (not isinstance(levels, int) or levels < 2 or levels % 2):
        raise InputError(f"Morris needs an even number of levels, at least 2 (got {levels!r})", source, "levels")
    _check_settings(resamples, conf_level, tolerance, source)
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed must be a non-negative whole number (got {seed!r})", source, "seed")

    from experiments.spec.seeds import run_seed

    names = list(bounds)
    problem = {"num_vars": len(names), "names": names, "bounds": [list(bounds[p]) for p in names]}
    with_seed = _takes_seed(func)
    wanted: list[str] = []

    def evaluate(x: np.ndarray, offset: int) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i, row in enumerate(x):
            values = {p: float(v) for p, v in zip(names, row, strict=True)}
            for r in range(replicates):
                s = run_seed(int(seed), offset + i, r, common_random_numbers)
                result = _as_outputs(func(values, seed=s) if with_seed else func(values))
                if not wanted:
                    wanted.extend(metrics if metrics is not None else list(result))
                    missing = [m for m in wanted if m not in result]
                    if missing:
                        raise InputError(
                            f"the function does not produce {', '.join(map(repr, missing))}; "
                            f"it produces {', '.join(result)}",
                            source,
                            "metrics",
                        )
                if not out:
                    out = {m: np.full((len(x), replicates), np.nan) for m in wanted}
                for m in wanted:
                    out[m][i, r] = result.get(m, np.nan)
        return out

    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0,)))
    x = np.asarray(draw(method, problem, int(n), rng, second_order=second_order, levels=levels), dtype=float)
    outputs = evaluate(x, 0)
    evaluations = len(x) * replicates

    half_data: tuple[np.ndarray, dict[str, np.ndarray]] | None = None

    def half() -> tuple[np.ndarray, Mapping[str, np.ndarray]]:
        # eFAST: a separate sample of n/2 points per curve (its own stream, and its own run seeds)
        nonlocal half_data, evaluations
        if half_data is None:
            hrng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(3,)))
            hx = np.asarray(draw(method, problem, int(n) // 2, hrng), dtype=float)
            half_data = (hx, evaluate(hx, len(x)))
            evaluations += len(hx) * replicates
        return half_data

    result = analyze_samples(
        method, problem, x, outputs, int(n), second_order=second_order, levels=levels, resamples=resamples,
        conf_level=conf_level, tolerance=tolerance, seed=int(seed), half=half, source=source,
    )  # fmt: skip
    result.evaluations = evaluations
    if replicates > 1 and not with_seed:
        result.notes.append("the function takes no seed: its replicates differ only if it draws its own random numbers")
    return result
