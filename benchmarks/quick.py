"""Quick regression guard for speed: a few small measurements compared with stored ones.

Usage: ``python -m benchmarks.quick [--update]`` (``make bench-quick``). It times the small
preset's full run and the household decision at 10,000 households (best of a few
repeats) and compares them with ``benchmarks/results/quick.json``. A slowdown of more than
25% prints a WARNING line; it never fails, because shared machines are noisy — CI can run
it and read the output. ``--update`` stores the current numbers as the new reference.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks import write_results

REFERENCE = Path(__file__).resolve().parent / "results" / "quick.json"
TOLERANCE = 0.25


def small_run_seconds(repeats: int = 3) -> float:
    """Best wall time of the small preset's full run (model built and run, no outputs)."""
    import sim
    from sim.config import Scenario

    sc = Scenario.model_validate({"map": {"size": "small"}, "outputs": {"figures": False, "progress": "off"}})
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        sim.CountyModel(sc).run(progress=False)
        best = min(best, time.perf_counter() - t0)
    return best


def decision_seconds(repeats: int = 7) -> float:
    """Best time of one vectorised household decision at 10,000 households."""
    from benchmarks.household_decision import county_with, draws, vectorised

    model = county_with(10_000)
    d = draws(model)
    vectorised(model, *d)
    return min(vectorised(model, *d)[1] for _ in range(repeats))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--update", action="store_true", help="store the current numbers as the reference")
    args = ap.parse_args(argv)
    now = {"small_preset_s": small_run_seconds(), "decision_10k_s": decision_seconds()}
    if args.update or not REFERENCE.exists():
        write_results(REFERENCE, **now)
        print(f"reference stored in {REFERENCE}: {now}")
        return 0
    ref = json.loads(REFERENCE.read_text())
    for key, value in now.items():
        old = ref[key]
        change = value / old - 1.0
        flag = "WARNING: slower by more than 25%" if change > TOLERANCE else "ok"
        print(f"{key}: {value * 1000:.1f} ms (reference {old * 1000:.1f} ms, {change:+.0%}) {flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
