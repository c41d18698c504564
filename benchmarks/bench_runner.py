"""The experiment runner's own cost per run, and throughput on 1 and 2 local workers.

Overhead is measured two ways on the same design (a lever swept over points × 2
replicates of one scenario):

- direct: the in-process experiment's wall time minus the sum of its runs' own wall
  times (``run_job``: model plus metrics), i.e. plan, seeds, store writes (Parquet +
  fsync + rename per run), manifest and consolidation, per run; and the same in CPU
  time of the process (CPU outside ``run_job``), which a busy machine disturbs least;
- against a plain loop: ``CountyModel(scenario, seed, county=map).run()`` over the same
  scenarios and seeds with the map built once, no runner at all.

Throughput is runs per second of the whole ``run_experiment`` call (worker start-up
included) with the ``processes`` backend on 1 and 2 workers (and Dask's LocalCluster on
2), from the best of the interleaved repeats, and parallel efficiency = throughput(2) /
(2 × throughput(1)). Usage::

    python -m benchmarks.bench_runner [--runs 16] [--repeats 3] [--households-per-agent 1] [--end 2025-12-31]

Results are printed and written as JSON; docs/PERFORMANCE.md quotes them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import write_results
from experiments import run_experiment
from experiments.run import runner as runner_module
from experiments.run.runner import cached_map
from experiments.spec.experiment import spec_from_dict
from experiments.spec.plan import Job, RunOutcome, build_plan
from sim.model import CountyModel

ROOT = Path(__file__).resolve().parent.parent
_run_job = runner_module.run_job


def spec_data(runs: int, per_agent: int, end: str, size: str) -> dict[str, Any]:
    """A sweep of one lever over runs/2 points with 2 replicates: ``runs`` runs."""
    points = max(1, runs // 2)
    return {
        "name": "bench_runner",
        "base": {
            "scenario": str(ROOT / "configs" / "scenarios" / "baseline.yaml"),
            "overrides": {
                "map.size": size,
                "population.households_per_agent": per_agent,
                "timeline.end": end,
                "outputs.figures": False,
                "outputs.progress": "off",
            },
        },
        "levers": [
            {
                "path": "policy.store_upgrade_subsidy",
                "values": [round(float(x), 4) for x in np.linspace(0, 0.8, points)],
            }
        ],
        "design": "grid",
        "replicates": 2,
        "metrics": [
            "store_village_coverage",
            "newtype_store_share",
            "subsidy_spent",
            {"indicator": "online_share", "stat": "mean", "year": 2024},
            {"indicator": "newtype_store_share", "stat": "first_reaching", "threshold": 0.3},
        ],
        "seed": 1,
    }


def plain_loop(data: dict[str, Any]) -> tuple[float, float]:
    """The same runs without the runner: (wall, CPU) seconds for all of them."""
    plan = build_plan(spec_from_dict(data), check_maps=False)
    start, cpu = time.perf_counter(), time.process_time()
    county = None
    for run in plan.runs:
        scenario = plan.points[run.point].scenario
        if county is None:
            from sim.geography import build_map

            county = build_map(scenario.map, scenario._base_dir)
        CountyModel(scenario, seed=run.seed, county=county).run(progress=False)
    return time.perf_counter() - start, time.process_time() - cpu


#: CPU seconds spent inside run_job in this process (the in-process backend calls it here).
_RUN_JOB_CPU: list[float] = []


def _timed_run_job(job: Job) -> RunOutcome:
    start = time.process_time()
    try:
        return _run_job(job)
    finally:
        _RUN_JOB_CPU.append(time.process_time() - start)


def runner(data: dict[str, Any], backend: str, workers: int | None = None) -> tuple[float, float, float, float]:
    """For one backend: wall seconds of run_experiment, the runs' own wall seconds (sum), CPU
    seconds of this process, and CPU seconds of this process inside run_job."""
    _RUN_JOB_CPU.clear()
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), time.process_time()
        table = run_experiment(data, out=Path(tmp) / "out", backend=backend, workers=workers, progress=False)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert (table["status"] == "ok").all(), table["error"].dropna().tolist()
    return wall, float(table["wall_seconds"].sum()), cpu, sum(_RUN_JOB_CPU)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=16, help="runs per measurement (points × 2 replicates)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--size", default="small")
    p.add_argument("--households-per-agent", type=int, default=1)
    p.add_argument("--end", default="2025-12-31", help="last simulated day")
    p.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster measurement")
    p.add_argument("--overhead-only", action="store_true", help="skip the throughput measurements")
    p.add_argument("--out", default="benchmarks/results/runner.json")
    args = p.parse_args(argv)
    data = spec_data(args.runs, args.households_per_agent, args.end, args.size)
    # count the CPU time inside each in-process run (execute() looks run_job up at call time)
    runner_module.run_job = _timed_run_job
    n = len(build_plan(spec_from_dict(data), check_maps=False).runs)
    # warm-up: imports, the map cache, the first model
    cached_map(build_plan(spec_from_dict(data), check_maps=False).points[0].scenario)
    runner(
        {**data, "levers": [{"path": "policy.store_upgrade_subsidy", "values": [0.3]}], "replicates": 1}, "inprocess"
    )

    load_before = os.getloadavg()
    direct, direct_cpu, versus_plain, versus_plain_cpu, run_s = [], [], [], [], []
    for _ in range(args.repeats):  # interleaved, so drifting machine load hits both alike
        plain, plain_cpu = plain_loop(data)
        wall, own, cpu, own_cpu = runner(data, "inprocess")
        direct.append((wall - own) / n)
        direct_cpu.append((cpu - own_cpu) / n)
        versus_plain.append((wall - plain) / n)
        versus_plain_cpu.append((cpu - plain_cpu) / n)
        run_s.append(own / n)
    per_run = statistics.median(run_s)
    result: dict[str, Any] = {
        "setup": {"size": args.size, "households_per_agent": args.households_per_agent, "end": args.end, "runs": n},
        "run_seconds_median": per_run,
        "overhead_direct_s_per_run": statistics.median(direct),
        "overhead_direct_share": statistics.median(direct) / per_run,
        "overhead_direct_cpu_s_per_run": statistics.median(direct_cpu),
        "overhead_direct_cpu_share": statistics.median(direct_cpu) / per_run,
        "overhead_vs_plain_s_per_run": statistics.median(versus_plain),
        "overhead_vs_plain_share": statistics.median(versus_plain) / per_run,
        "overhead_vs_plain_cpu_s_per_run": statistics.median(versus_plain_cpu),
        "overhead_vs_plain_cpu_share": statistics.median(versus_plain_cpu) / per_run,
        "overhead_direct_all": direct,
        "overhead_direct_cpu_all": direct_cpu,
        "overhead_vs_plain_all": versus_plain,
        "overhead_vs_plain_cpu_all": versus_plain_cpu,
    }
    print(
        f"{n} runs of {args.size} (households per agent {args.households_per_agent}, to {args.end}): {per_run:.3f} s a run"
    )
    print(
        f"runner overhead per run: {1000 * result['overhead_direct_s_per_run']:.1f} ms "
        f"({100 * result['overhead_direct_share']:.2f}%) direct, {1000 * result['overhead_direct_cpu_s_per_run']:.1f} ms "
        f"({100 * result['overhead_direct_cpu_share']:.2f}%) of CPU time outside the runs; "
        f"{1000 * result['overhead_vs_plain_s_per_run']:.1f} ms "
        f"({100 * result['overhead_vs_plain_share']:.2f}%) against a plain loop; "
        f"CPU time against the plain loop {1000 * result['overhead_vs_plain_cpu_s_per_run']:.1f} ms "
        f"({100 * result['overhead_vs_plain_cpu_share']:.2f}%)"
    )

    # throughput: the cases interleaved in each repeat, so a burst of load from elsewhere on
    # the machine hits them alike; the best repeat is the least disturbed
    if args.overhead_only:
        write_results(args.out, results=result)
        return 0
    cases = [("inprocess", None), ("processes", 1), ("processes", 2)] + ([] if args.no_dask else [("dask", 2)])
    walls: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for backend, workers in cases:
            key = backend if workers is None else f"{backend}-{workers}"
            walls.setdefault(key, []).append(runner(data, backend, workers)[0])
    throughput = {k: n / min(w) for k, w in walls.items()}
    for key, w in walls.items():
        print(f"{key:12s} {throughput[key]:.2f} runs/s (best wall {min(w):.2f} s, median {statistics.median(w):.2f} s)")
    result["walls"] = walls
    result["throughput_runs_per_s"] = throughput
    result["load_average_1min"] = {"start": load_before[0], "end": os.getloadavg()[0]}
    print(f"1-minute load average: {load_before[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    result["parallel_efficiency_processes"] = throughput["processes-2"] / (2 * throughput["processes-1"])
    print(
        f"parallel efficiency, processes 2 vs 1 worker: {100 * result['parallel_efficiency_processes']:.0f}% (best walls)"
    )
    if "dask-2" in throughput:
        result["parallel_efficiency_dask_vs_processes_1"] = throughput["dask-2"] / (2 * throughput["processes-1"])
    write_results(args.out, results=result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
