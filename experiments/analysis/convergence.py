"""Was n enough? The seed's share of an output's variance, and the convergence verdict.

Stochastic models are handled the same way by every method: replicates at a sample point
are averaged before the analysis (the indices describe the levers' effect on the expected
output), and :func:`seed_variance` reports the share of the run-to-run variance that is due
to the seed alone. :func:`judge` then compares the indices from the first half of the sample
(or from a separate half-size sample, for eFAST) with those from all of it, looks at the
width of the intervals, and says in plain words whether n was enough and which n to try.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from experiments.spec.methods import MIN_GIVEN_DATA

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


def half_rows(method: str, n: int, k: int, second_order: bool) -> tuple[int, int] | None:
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


# --- the verdict --------------------------------------------------------------------------------


def judge(
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
    """The convergence verdict of one metric: ``full`` holds the indices from the whole sample of
    size ``n``, ``half`` those from half of it (None: no half could be analysed) of size ``half_n``;
    ``constant`` says the output does not vary (or had no indices). Returns one row of
    :attr:`SensitivityResult.convergence`."""
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
    reasons = _half_change(row, pairs, full, half, half_n, n, tolerance)
    if max_conf > tolerance:
        reasons.append(f"the widest {conf_level:.0%} interval ({widest}) is ±{max_conf:.2f}")
    row["enough"] = not reasons
    row["verdict"] = _verdict(method, metric, row, reasons, tolerance, conf_level)
    return row


def _half_change(
    row: dict[str, Any],
    pairs: tuple[tuple[str, str], ...],
    full: pd.DataFrame,
    half: pd.DataFrame | None,
    half_n: int | None,
    n: int,
    tolerance: float,
) -> list[str]:
    """Fill in how far the indices moved between n/2 and n (and the half's top parameter);
    the reason n was not enough, if they moved more than the tolerance."""
    reasons: list[str] = []
    if half is None:
        return reasons
    changes = []
    for i, _ in pairs:
        diff = (full.set_index("parameter")[i] - half.set_index("parameter")[i]).abs()
        if diff.notna().any():
            changes.append((float(diff.max()), f"{i} of {diff.idxmax()}"))
    if changes:
        max_change, changed = max(changes, key=lambda t: t[0])
        row["max_change"], row["changed"] = max_change, changed
        main = pairs[-1][0]
        if half[main].notna().any():
            row["top_parameter_half"] = str(half.loc[half[main].idxmax(), "parameter"])
        if max_change > tolerance:
            reasons.append(f"{changed} moved by {max_change:.2f} between n/2 = {half_n} and n = {n}")
    return reasons


def _verdict(
    method: str, metric: str, row: dict[str, Any], reasons: list[str], tolerance: float, conf_level: float
) -> str:
    """The verdict in words: enough or not, why, which n to try, and whether the top input changed."""
    n, half_n, max_conf = row["n"], row["n_half"], row["max_conf"]
    pct = f"{conf_level:.0%}"
    what = "index" if method != "morris" else "index (μ* as a share of the largest μ*)"
    if row["enough"]:
        moved = (
            f"between n/2 = {half_n} and n = {n} no {what} moved by more than {row['max_change']:.2f}, and "
            if row["max_change"] is not None
            else "(the first half of an eFAST sample is no eFAST sample, so only the intervals are judged) "
        )
        verdict = (
            f"n = {n} was enough for {metric}: {moved}the widest {pct} interval is ±{max_conf:.2f} "
            f"(tolerance {tolerance:g})."
        )
    else:
        ratio = max(max_conf, row["max_change"] or 0.0) / tolerance
        verdict = (
            f"n = {n} was NOT enough for {metric}: {'; '.join(reasons)} (tolerance {tolerance:g}); "
            f"try n = {_suggest_n(method, n, ratio)}."
        )
    if row["top_parameter"] and row["top_parameter_half"] and row["top_parameter"] != row["top_parameter_half"]:
        verdict += f" The most influential input changed from {row['top_parameter_half']} to {row['top_parameter']}."
    return verdict
