"""Full runs of the size presets: wall time, time per week and peak memory.

Each measurement runs in a fresh subprocess so that peak memory (max RSS) belongs to
that run alone. Usage::

    python -m benchmarks.presets [--sizes small median] [--repeats 3] [--out benchmarks/results/presets.json]
                                 [--profile] [--profile-repeats 1]

Results are printed as a table and written as JSON; docs/PERFORMANCE.md quotes them.

With ``--profile``, each size also gets separate profiled runs (in their own
subprocesses, after the timed ones, so that the timings above are not affected): the
time of one run by the phases of the weekly step (:mod:`benchmarks.phases`). Each row of
the JSON then has a ``phases`` dict — phase → ``{"seconds", "share", "calls"}``, the
seconds adding up to ``profile_total_s`` with an ``other`` remainder — from the profiled
run with the median total, and ``profile_total_s`` / ``profile_repeats``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks import write_results
from benchmarks.phases import format_phases

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import sim
from sim.config import Scenario
sc = Scenario.model_validate({"map": {"size": sys.argv[1], "region": sys.argv[2]},
                              "population": {"households_per_agent": int(sys.argv[3])},
                              "outputs": {"figures": False, "progress": "off"}})
t1 = time.perf_counter()
model = sim.CountyModel(sc)
t2 = time.perf_counter()
result = model.run(progress=False)
t3 = time.perf_counter()
print(json.dumps({"households": len(model.households), "weeks": model.n_weeks, "import_s": t1 - t0,
                  "build_s": t2 - t1, "run_s": t3 - t2, "total_s": t3 - t1,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(size: str, region: str, per_agent: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, size, region, str(per_agent)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def profile(size: str, region: str, per_agent: int, end: str | None = None) -> dict[str, Any]:
    """One profiled run in a fresh subprocess (:func:`benchmarks.phases.profile_run`).

    Args:
        size: Size preset.
        region: Region preset.
        per_agent: Households per agent.
        end: Last day of the timeline (None: the scenario's default).

    Returns:
        The profile: ``total_s``, ``build_s``, ``run_s``, ``phases``, ``not_instrumented``.
    """
    cmd = [sys.executable, "-m", "benchmarks.phases", "--json", "--size", size, "--region", region]
    cmd += ["--households-per-agent", str(per_agent)] + (["--end", end] if end else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def profile_row(size: str, region: str, per_agent: int, repeats: int, end: str | None = None) -> dict[str, Any]:
    """The keys a profiled row adds: the phases of the profiled run with the median total."""
    runs = sorted((profile(size, region, per_agent, end) for _ in range(repeats)), key=lambda r: r["total_s"])
    mid = runs[(len(runs) - 1) // 2]
    return {
        "phases": mid["phases"],
        "profile_total_s": mid["total_s"],
        "profile_total_s_all": [r["total_s"] for r in runs],
        "profile_repeats": repeats,
        "not_instrumented": mid["not_instrumented"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=["small", "median"])
    p.add_argument("--region", default="central_hill")
    p.add_argument("--households-per-agent", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default="benchmarks/results/presets.json")
    p.add_argument("--profile", action="store_true", help="also profile a run by the phases of the weekly step")
    p.add_argument("--profile-repeats", type=int, default=1, help="profiled runs per size (the median is kept)")
    args = p.parse_args(argv)
    rows = []
    for size in args.sizes:
        runs = [measure(size, args.region, args.households_per_agent) for _ in range(args.repeats)]
        totals = [r["total_s"] for r in runs]
        row = {
            "size": size,
            "region": args.region,
            "households_per_agent": args.households_per_agent,
            "households": runs[0]["households"],
            "weeks": runs[0]["weeks"],
            "total_s_median": statistics.median(totals),
            "total_s_min": min(totals),
            "total_s_max": max(totals),
            "build_s_median": statistics.median(r["build_s"] for r in runs),
            "run_s_median": statistics.median(r["run_s"] for r in runs),
            "ms_per_week": 1000 * statistics.median(r["run_s"] for r in runs) / runs[0]["weeks"],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "repeats": args.repeats,
        }
        rows.append(row)
        print(
            f"{size:7s} {row['households']:>8,d} households  total {row['total_s_median']:.2f} s "
            f"(min {row['total_s_min']:.2f}, max {row['total_s_max']:.2f})  build {row['build_s_median']:.2f} s  "
            f"{row['ms_per_week']:.1f} ms/week  peak {row['peak_rss_mb']:.0f} MB"
        )
        if args.profile:
            row.update(profile_row(size, args.region, args.households_per_agent, args.profile_repeats))
            print(f"  profiled run: {row['profile_total_s']:.2f} s")
            print(format_phases(row["phases"], row["profile_total_s"]))
            if row["not_instrumented"]:
                print("  not instrumented (the model changed): " + ", ".join(row["not_instrumented"]))
    write_results(args.out, results=rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
