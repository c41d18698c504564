"""Wall time of `countysim run` against the model's own time, for one or more code trees.

Issue 17's goal for a run with figures: at most 1.5 × the model's own time + 2 s (the
model's time is ``wall_seconds`` in the run's ``manifest.json``). Each repeat is a fresh
process, as a user runs it; the trees are interleaved (A B A B ...) so that a change of
machine load hits both alike, and medians are reported with the load average. Usage::

    python -m benchmarks.run_command --trees /path/to/before /path/to/after --repeats 3
    python -m benchmarks.run_command --set outputs.figures=false    # the run without figures

Each tree is put first on ``PYTHONPATH`` and run as ``python -m experiments.cli.main``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(tree: Path, scenario: str, overrides: list[str]) -> tuple[float, float]:
    """(wall seconds of the command, the model's own seconds) of one fresh `countysim run`."""
    with tempfile.TemporaryDirectory(prefix="countysim-bench-") as tmp:
        out = Path(tmp) / "run"
        sets = [arg for o in overrides for arg in ("--set", o)]
        cmd = [
            sys.executable,
            "-m",
            "experiments.cli.main",
            "run",
            scenario,
            *sets,
            "--progress",
            "off",
            "--out",
            str(out),
        ]
        env = {**os.environ, "PYTHONPATH": str(tree)}
        start = time.perf_counter()
        subprocess.run(cmd, cwd=tree, env=env, check=True, capture_output=True)
        wall = time.perf_counter() - start
        return wall, json.loads((out / "manifest.json").read_text())["wall_seconds"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trees", nargs="+", type=Path, default=[ROOT], help="code trees to compare (default: this one)")
    p.add_argument("--scenario", default="configs/scenarios/baseline.yaml")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="K=V")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1, help="unrecorded runs of each tree first (file cache)")
    args = p.parse_args(argv)
    for _ in range(args.warmup):
        for tree in args.trees:
            one_run(tree, args.scenario, args.overrides)
    times: dict[Path, list[tuple[float, float]]] = {tree: [] for tree in args.trees}
    for k in range(args.repeats):
        for tree in args.trees:
            wall, model = one_run(tree, args.scenario, args.overrides)
            times[tree].append((wall, model))
            print(f"repeat {k + 1} {tree}: {wall:.2f} s wall, model {model:.2f} s, load {os.getloadavg()[0]:.2f}")
    for tree, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        model = statistics.median(m for _, m in runs)
        over = statistics.median(w - m for w, m in runs)
        print(
            f"{tree}: median {wall:.2f} s wall, model {model:.2f} s, beyond the model {over:.2f} s, "
            f"goal 1.5 × model + 2 s = {1.5 * model + 2:.2f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
