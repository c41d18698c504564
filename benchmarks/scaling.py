"""Scaling curve: how the household decision and a full run grow with the number of households.

Usage::

    python -m benchmarks.scaling [--decision-sizes 10000 30000 100000 300000 1000000] [--decision-repeats 5]
                                 [--run-sizes 10000 30000 100000 300000 1000000] [--run-repeats 3]
                                 [--end 2024-06-30] [--map-size median] [--region central_hill]
                                 [--out benchmarks/results/scaling.json] [--figure docs/figures/scaling.png]

Two curves, both at one household agent per household:

* **decision**: one weekly household decision (channel choice and spending, farm sales,
  the month's adoption) in the model's vectorised form, timed as
  :mod:`benchmarks.household_decision` does (same county builder, same draws, warm-up
  first, median of the repeats);
* **full run**: a whole county built and run over a shortened horizon (from the
  scenario's start to ``--end``, 52 weeks by default), each repeat in a fresh subprocess;
  the time per week is the run's time over its weeks (construction reported apart).
  The population is set with ``map.population`` (three persons per household) on a fixed
  map (``--map-size``, the median county by default), so that only the households grow;
  ``--map-size auto`` picks the map by size as ``county_with`` does (small up to 20,000
  households, median up to 200,000, large above), which mixes in the growth of villages
  and stores.

For each curve the slope of log(time) against log(households) is fitted by least squares:
1 is linear, above 1 worse than linear. The table is printed, the numbers go to
``benchmarks/results/scaling.json`` and a log-log chart, with a linear reference line
through each curve's smallest point, to ``docs/figures/scaling.png``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import write_results
from experiments.run import atomic

ROOT = Path(__file__).resolve().parent.parent
DECISION_SIZES = [10_000, 30_000, 100_000, 300_000, 1_000_000]
RUN_SIZES = [10_000, 30_000, 100_000, 300_000, 1_000_000]
PERSONS_PER_HOUSEHOLD = 3.0


def loglog_slope(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log(y) against log(x); NaN with fewer than two distinct x.

    Args:
        x: Sizes (positive).
        y: Times (positive).

    Returns:
        The exponent ``b`` of ``y ≈ a · x^b``.
    """
    lx, ly = np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float))
    if len(lx) < 2 or np.ptp(lx) == 0:
        return float("nan")
    return float(np.polyfit(lx, ly, 1)[0])


def decision_point(households: int, repeats: int) -> dict[str, Any]:
    """Time the vectorised weekly household decision in a county of about ``households`` households.

    Args:
        households: Target number of households (the county is built by ``county_with``).
        repeats: Timed repeats after one warm-up.

    Returns:
        ``households`` (actual), ``seconds_median``, ``seconds_min``, ``seconds_max``,
        ``decisions_per_s``, ``repeats``.
    """
    from benchmarks.household_decision import county_with, draws, vectorised

    model = county_with(households)
    d = draws(model)
    vectorised(model, *d)  # warm-up
    times = [vectorised(model, *d)[1] for _ in range(repeats)]
    n = len(model.households)
    med = statistics.median(times)
    return {
        "households": n,
        "seconds_median": med,
        "seconds_min": min(times),
        "seconds_max": max(times),
        "decisions_per_s": n / med,
        "repeats": repeats,
    }


def decision_curve(sizes: list[int], repeats: int) -> dict[str, Any]:
    """The decision's time at every size, and the log-log slope.

    Args:
        sizes: Target numbers of households.
        repeats: Timed repeats per size.

    Returns:
        ``rows`` (one per size, see :func:`decision_point`) and ``slope``.
    """
    rows = []
    for size in sizes:
        rows.append(decision_point(size, repeats))
        gc.collect()  # the previous county's arrays go before the next one is built
    return {"rows": rows, "slope": loglog_slope([r["households"] for r in rows], [r["seconds_median"] for r in rows])}


def map_size_for(households: int, map_size: str) -> str:
    """The map preset of a full run: ``map_size`` itself, or for ``auto`` the one ``county_with`` picks."""
    if map_size != "auto":
        return map_size
    return "small" if households <= 20_000 else ("median" if households <= 200_000 else "large")


def run_once(households: int, end: str, map_size: str, region: str) -> dict[str, Any]:
    """Build and run one county of about ``households`` households in this process.

    Args:
        households: Target number of households (population = 3 × households).
        end: Last day of the timeline (ISO date).
        map_size: Map preset or ``auto``.
        region: Region preset.

    Returns:
        ``households`` (actual), ``weeks``, ``build_s``, ``run_s``, ``ms_per_week``,
        ``map_size``, ``villages``.
    """
    import sim
    from sim.config import Scenario

    size = map_size_for(households, map_size)
    sc = Scenario.model_validate(
        {
            "timeline": {"end": end},
            "map": {"size": size, "region": region, "population": int(households * PERSONS_PER_HOUSEHOLD)},
            "population": {"households_per_agent": 1, "household_size": PERSONS_PER_HOUSEHOLD},
            "outputs": {"figures": False, "progress": "off"},
        }
    )
    t0 = time.perf_counter()
    model = sim.CountyModel(sc, seed=1)
    t1 = time.perf_counter()
    model.run(progress=False)
    t2 = time.perf_counter()
    return {
        "households": len(model.households),
        "weeks": model.n_weeks,
        "build_s": t1 - t0,
        "run_s": t2 - t1,
        "ms_per_week": 1000 * (t2 - t1) / model.n_weeks,
        "map_size": size,
        "villages": len(model.county.villages),
    }


def run_in_subprocess(households: int, end: str, map_size: str, region: str) -> dict[str, Any]:
    """:func:`run_once` in a fresh Python process, with the process's peak memory (MB)."""
    code = (
        "import json, resource, sys\n"
        "from benchmarks.scaling import run_once\n"
        "r = run_once(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])\n"
        # VmHWM: this address space's peak. ru_maxrss would carry over the parent's peak
        # through fork and exec (the parent holds the decision curve's million households)
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
        "r['peak_rss_mb'] = (int(hwm[0].split()[1]) if hwm else "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024\n"
        "print(json.dumps(r))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(households), end, map_size, region],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_curve(
    sizes: list[int],
    repeats: int,
    end: str = "2024-06-30",
    map_size: str = "median",
    region: str = "central_hill",
    subprocesses: bool = True,
) -> dict[str, Any]:
    """Full-run time per week at every size, and the log-log slope.

    Args:
        sizes: Target numbers of households.
        repeats: Runs per size (medians reported).
        end: Last day of the timeline.
        map_size: Map preset, or ``auto`` (by size, as ``county_with``).
        region: Region preset.
        subprocesses: Each run in a fresh process (peak memory recorded); False runs in
            this process (for the smoke test).

    Returns:
        ``rows`` (per size: ``households``, ``weeks``, ``villages``, ``map_size``,
        ``ms_per_week_median`` / ``_min`` / ``_max``, ``build_s_median``,
        ``run_s_median``, ``peak_rss_mb`` when measured, ``repeats``) and ``slope`` (of
        the time per week).
    """
    rows = []
    for size in sizes:
        runs = [
            run_in_subprocess(size, end, map_size, region) if subprocesses else run_once(size, end, map_size, region)
            for _ in range(repeats)
        ]
        per_week = [r["ms_per_week"] for r in runs]
        row = {
            "households": runs[0]["households"],
            "weeks": runs[0]["weeks"],
            "villages": runs[0]["villages"],
            "map_size": runs[0]["map_size"],
            "ms_per_week_median": statistics.median(per_week),
            "ms_per_week_min": min(per_week),
            "ms_per_week_max": max(per_week),
            "build_s_median": statistics.median(r["build_s"] for r in runs),
            "run_s_median": statistics.median(r["run_s"] for r in runs),
            "repeats": repeats,
        }
        if "peak_rss_mb" in runs[0]:
            row["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
        rows.append(row)
        gc.collect()
    return {
        "rows": rows,
        "slope": loglog_slope([r["households"] for r in rows], [r["ms_per_week_median"] for r in rows]),
    }


def plot(result: dict[str, Any], path: str | Path) -> Path:
    """Log-log chart of both curves, each with a linear reference through its smallest point.

    Args:
        result: ``{"decision": ..., "full_run": ...}`` as :func:`decision_curve` and
            :func:`run_curve` return them (either may be missing or empty).
        path: PNG file to write (atomically).

    Returns:
        The path written.
    """
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [
        ("decision", "one weekly household decision", "seconds_median", 1.0, "C0"),
        ("full_run", "full run, per week", "ms_per_week_median", 1e-3, "C1"),
    ]
    fig, ax = plt.subplots(figsize=(7.0, 4.8), dpi=120)
    for key, label, col, scale, colour in series:
        rows = (result.get(key) or {}).get("rows") or []
        if not rows:
            continue
        x = np.array([r["households"] for r in rows], dtype=float)
        y = np.array([r[col] * scale for r in rows], dtype=float)
        slope = result[key].get("slope", float("nan"))
        ax.plot(x, y, "o-", color=colour, label=f"{label} (slope {slope:.2f})")
        i = int(np.argmin(x))
        ref = y[i] * x / x[i]
        ax.plot(x, ref, "--", color=colour, alpha=0.5, linewidth=1, label=f"linear from {int(x[i]):,d} households")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("households (one agent each)")
    ax.set_ylabel("seconds")
    ax.set_title("Scaling with the number of households (log-log; slope 1 = linear)")
    ax.text(
        0.02,
        0.97,
        "dashed: linear growth from the smallest size; above it = worse than linear",
        transform=ax.transAxes,
        fontsize=8,
        va="top",
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(out, buf.getvalue())
    return out


def format_table(result: dict[str, Any]) -> str:
    """Both curves as text tables with their slopes."""
    lines = []
    dec = result.get("decision") or {}
    if dec.get("rows"):
        lines.append(f"{'households':>11s} {'decision ms':>12s} {'M decisions/s':>14s}")
        for r in dec["rows"]:
            lines.append(
                f"{r['households']:>11,d} {r['seconds_median'] * 1000:12.2f} {r['decisions_per_s'] / 1e6:14.2f}"
            )
        lines.append(f"decision: log-log slope {dec['slope']:.2f}")
    run = result.get("full_run") or {}
    if run.get("rows"):
        lines.append(
            f"{'households':>11s} {'villages':>9s} {'weeks':>6s} {'ms/week':>9s} {'build s':>8s} {'peak MB':>8s}"
        )
        for r in run["rows"]:
            peak = f"{r['peak_rss_mb']:8.0f}" if "peak_rss_mb" in r else f"{'-':>8s}"
            lines.append(
                f"{r['households']:>11,d} {r['villages']:>9d} {r['weeks']:>6d} {r['ms_per_week_median']:9.1f} "
                f"{r['build_s_median']:8.2f} {peak}"
            )
        lines.append(f"full run: log-log slope of time per week {run['slope']:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure both curves, print the table, write the JSON and the chart."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--decision-sizes", type=int, nargs="*", default=DECISION_SIZES, help="households (none: skip)")
    ap.add_argument("--decision-repeats", type=int, default=5)
    ap.add_argument("--run-sizes", type=int, nargs="*", default=RUN_SIZES, help="households (none: skip)")
    ap.add_argument("--run-repeats", type=int, default=3)
    ap.add_argument("--end", default="2024-06-30", help="last day of the full runs (they start on 2023-07-01)")
    ap.add_argument("--map-size", default="median", choices=["small", "median", "large", "auto"])
    ap.add_argument("--region", default="central_hill")
    ap.add_argument("--out", default="benchmarks/results/scaling.json")
    ap.add_argument("--figure", default="docs/figures/scaling.png", help="PNG chart ('' to skip)")
    args = ap.parse_args(argv)
    result: dict[str, Any] = {}
    if args.decision_sizes:
        result["decision"] = decision_curve(args.decision_sizes, args.decision_repeats)
    if args.run_sizes:
        result["full_run"] = run_curve(args.run_sizes, args.run_repeats, args.end, args.map_size, args.region)
    print(format_table(result))
    write_results(
        args.out,
        settings={
            "end": args.end,
            "map_size": args.map_size,
            "region": args.region,
            "households_per_agent": 1,
            "persons_per_household": PERSONS_PER_HOUSEHOLD,
        },
        **result,
    )
    if args.figure:
        print(f"chart: {plot(result, args.figure)}")
    for key in ("decision", "full_run"):
        slope = (result.get(key) or {}).get("slope")
        if slope is not None and not math.isfinite(slope):
            print(f"{key}: slope not defined (fewer than two sizes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
