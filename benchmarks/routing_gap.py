"""Gap of the fast route heuristic to the PyVRP solver on random prize-collecting instances.

Usage: ``python -m benchmarks.routing_gap [--instances 200]``. The objective compared is
the prize-collecting one (route cost + revenue left uncollected), lower is better; the gap
is (heuristic − solver) / solver. Results go to benchmarks/results/routing_gap.json.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from benchmarks import write_results
from sim.logistics.routing import plan_heuristic, plan_solver


def instance(seed: int) -> tuple[list[int], dict[int, float], np.ndarray]:
    """A township-sized instance: 5-30 villages in a 20 km square, roads 1.3 × straight line."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 31))
    pts = rng.random((n + 1, 2)) * 20
    dist = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1)) * 1.3
    prizes = {i: float(rng.uniform(2, 80)) for i in range(1, n + 1)}
    return list(range(1, n + 1)), prizes, dist


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=int, default=200)
    p.add_argument("--out", default="benchmarks/results/routing_gap.json")
    args = p.parse_args(argv)
    gaps, th, ts = [], 0.0, 0.0
    for seed in range(args.instances):
        villages, prizes, dist = instance(seed)
        t0 = time.perf_counter()
        h = plan_heuristic(0, villages, prizes, dist, 4.5, 12.0)
        t1 = time.perf_counter()
        s = plan_solver(0, villages, prizes, dist, 4.5, 12.0, seed=1)
        t2 = time.perf_counter()
        th, ts = th + t1 - t0, ts + t2 - t1
        total = sum(prizes.values())
        oh, os_ = h.cost + total - h.prize, s.cost + total - s.prize
        gaps.append((oh - os_) / os_)
    g = np.array(gaps)
    res = {
        "instances": args.instances,
        "gap_mean": float(g.mean()),
        "gap_median": float(np.median(g)),
        "gap_max": float(g.max()),
        "heuristic_ms": 1000 * th / args.instances,
        "solver_ms": 1000 * ts / args.instances,
    }
    print(
        f"gap mean {g.mean():.2%}, median {np.median(g):.2%}, max {g.max():.2%}; "
        f"heuristic {res['heuristic_ms']:.1f} ms, solver {res['solver_ms']:.1f} ms per instance"
    )
    write_results(args.out, **res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
