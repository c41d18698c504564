"""Full runs of the size presets: wall time, time per week and peak memory.

Each measurement runs in a fresh subprocess so that peak memory (max RSS) belongs to
that run alone. Usage::

    python -m benchmarks.presets [--sizes small median] [--repeats 3] [--out benchmarks/results/presets.json]

Results are printed as a table and written as JSON; docs/PERFORMANCE.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from experiments import atomic, provenance

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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=["small", "median"])
    p.add_argument("--region", default="central_hill")
    p.add_argument("--households-per-agent", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default="benchmarks/results/presets.json")
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
    atomic.write_json(
        args.out,
        {
            "machine": provenance.machine(),
            "git_commit": provenance.git_commit(),
            "versions": provenance.package_versions(),
            "results": rows,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
