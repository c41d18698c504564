"""The SALib side of each sensitivity method: its sampler and its estimator, called quietly
and reproducibly (one module per method in SALib; one function per method here).

* :func:`draw`: a method's sample (Saltelli/Sobol', Morris trajectories, eFAST search
  curves, or a Latin hypercube for PAWN and delta);
* :func:`method_indices`: one method's indices of one output with SALib's intervals, plus
  intervals SALib does not give (Morris μ and σ, PAWN) from resampling.

SALib is imported inside the functions: reading a spec must not pay for it.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from experiments.analysis.threads import one_blas_thread
from experiments.spec.methods import EFAST_HARMONICS

#: PAWN's slides: SALib's default of 10, fewer for small samples (about ten points a slide).
PAWN_SLIDES = 10
#: PAWN and delta rerun the whole estimator per bootstrap resample: at most this many.
SLOW_RESAMPLES = 100

#: What :func:`method_indices` returns: per-parameter columns, then S2 and its interval (or None).
Indices = tuple[dict[str, np.ndarray], np.ndarray | None, np.ndarray | None]


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


def child_seed(seed: int, *key: int) -> int:
    """A positive int seed for one SALib call (SALib treats seed 0 as "no seed")."""
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, dtype=np.uint32)[0]
    return int(state) % (2**31 - 2) + 1


def salib_version() -> str:
    """The installed SALib's version (recorded with every result)."""
    return importlib.metadata.version("SALib")


def pawn_slides(points: int) -> int:
    """PAWN's number of slides for a sample of ``points`` (see :data:`PAWN_SLIDES`)."""
    return int(min(PAWN_SLIDES, max(2, points // 10)))


def _z(conf_level: float) -> float:
    from scipy.stats import norm  # heavy (about a second): imported by the analyses that use it

    return float(norm.ppf(0.5 + conf_level / 2))


def _nan_columns(k: int, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {c: np.full(k, np.nan) for c in names}


# --- the estimators, one per method ----------------------------------------------------------


def method_indices(
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
) -> Indices:
    """One method's indices of one output: per-parameter columns, and S2 with its interval."""
    with _quiet_salib(seed):
        if method == "sobol":
            return _sobol(problem, y, second_order, resamples, conf_level, seed)
        if method == "efast":
            return _efast(problem, y, resamples, conf_level, seed), None, None
        if method == "morris":
            return _morris(problem, x, y, levels, resamples, conf_level, seed), None, None
        if method == "pawn":
            return _pawn(problem, x, y, resamples, conf_level, seed), None, None
        if method == "delta":
            return _delta(problem, x, y, resamples, conf_level), None, None
    raise ValueError(f"unknown method {method!r}")  # pragma: no cover - checked by callers


def _sobol(
    problem: dict[str, Any], y: np.ndarray, second_order: bool, resamples: int, conf_level: float, seed: int
) -> Indices:
    from SALib.analyze import sobol  # SALib is slow to import: only an analysis pays for it

    si = sobol.analyze(
        problem, y, calc_second_order=second_order, num_resamples=resamples, conf_level=conf_level, seed=seed
    )
    cols = {c: np.asarray(si[c], dtype=float) for c in ("S1", "S1_conf", "ST", "ST_conf")}
    s2 = np.asarray(si["S2"], dtype=float) if second_order else None
    s2c = np.asarray(si["S2_conf"], dtype=float) if second_order else None
    return cols, s2, s2c


def _efast(
    problem: dict[str, Any], y: np.ndarray, resamples: int, conf_level: float, seed: int
) -> dict[str, np.ndarray]:
    from SALib.analyze import fast  # SALib is slow to import: only an analysis pays for it

    si = fast.analyze(problem, y, M=EFAST_HARMONICS, num_resamples=resamples, conf_level=conf_level, seed=seed)
    return {c: np.asarray(si[c], dtype=float) for c in ("S1", "S1_conf", "ST", "ST_conf")}


def _morris(
    problem: dict[str, Any], x: np.ndarray, y: np.ndarray, levels: int, resamples: int, conf_level: float, seed: int
) -> dict[str, np.ndarray]:
    from SALib.analyze import morris  # SALib is slow to import: only an analysis pays for it

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


def _pawn(
    problem: dict[str, Any], x: np.ndarray, y: np.ndarray, resamples: int, conf_level: float, seed: int
) -> dict[str, np.ndarray]:
    from SALib.analyze import pawn  # SALib is slow to import: only an analysis pays for it

    slides = pawn_slides(len(y))
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
    from SALib.analyze import delta as sd  # SALib is slow to import: only an analysis pays for it

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


# --- the samplers -------------------------------------------------------------------------------


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
    # SALib is slow to import: each sampler is imported when it is used
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
