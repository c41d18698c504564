"""Gap of the fast route heuristic to the PyVRP solver on random prize-collecting instances.

Usage: ``python -m benchmarks.routing_gap [--instances 200] [--kept 0.1 --size median]``. The
objective compared is the prize-collecting one (route cost + revenue left uncollected),
lower is better; the gap is (heuristic − solver) / solver. Results go to
benchmarks/results/routing_gap.json.

``--kept TOL`` also measures what keeping plans costs (``carriers.replan_tolerance``,
sim/logistics/plans.py): one run of a generated county (``--size``, 50 households per
agent) at that tolerance, and at every re-plan each township plan that is kept is compared
with the plan the heuristic would make that day (same objective, same prizes and costs);
the kept gap is (kept − fresh) / fresh. Add it to the heuristic's gap for the kept plans'
gap to the solver.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

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


def kept_gaps(size: str, tolerance: float, seed: int = 1) -> list[float]:
    """Gaps of kept township plans to freshly made ones over one run (see the docstring)."""
    from benchmarks.phases import scenario_for
    from sim.model import CountyModel

    sc = scenario_for(size, "central_hill", 50)
    sc.carriers.replan_tolerance = tolerance
    routes = CountyModel(sc, seed=seed).logistics.routes
    stale_of, plan_all = routes._stale, routes.plan_all
    last: dict[str, Any] = {}
    gaps: list[float] = []

    def stale(*args: Any) -> set[int]:
        last["stale"] = stale_of(*args)
        return last["stale"]

    def compared(owner: frozenset, share: float, km_cost: float, down: np.ndarray, up: np.ndarray) -> Any:
        last["stale"] = None
        plans = plan_all(owner, share, km_cost, down, up)
        if last["stale"] is None:
            return plans
        net = routes.net_prizes(share, down, up)
        for t, kept in plans.items():
            villages = routes.lg.villages_of[t]
            if t in last["stale"] or not villages:
                continue
            fresh = routes.plan_township(t, share, km_cost, down, up, net)  # exact caches: no effect on the run
            left = float(np.maximum(net[villages], 0.0).sum())
            obj_kept, obj_fresh = left - kept.profit, left - fresh.profit
            if obj_fresh > 0:
                gaps.append((obj_kept - obj_fresh) / obj_fresh)
        return plans

    routes._stale, routes.plan_all = stale, compared
    routes.model.run(progress=False)
    return gaps


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=int, default=200)
    p.add_argument("--out", default="benchmarks/results/routing_gap.json")
    p.add_argument("--kept", type=float, default=None, help="also measure kept plans at this tolerance")
    p.add_argument("--size", default="median", choices=["small", "median", "large"])
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
    if args.kept is not None:
        k = np.array(kept_gaps(args.size, args.kept))
        res["kept"] = {
            "tolerance": args.kept,
            "size": args.size,
            "plans": len(k),
            "gap_mean": float(k.mean()) if len(k) else 0.0,
            "gap_median": float(np.median(k)) if len(k) else 0.0,
            "gap_max": float(k.max()) if len(k) else 0.0,
            "worse_share": float((k > 1e-9).mean()) if len(k) else 0.0,
        }
        kk = res["kept"]
        print(
            f"kept plans at tolerance {args.kept} ({args.size}, {kk['plans']} kept): gap to a fresh heuristic plan "
            f"mean {kk['gap_mean']:.2%}, median {kk['gap_median']:.2%}, max {kk['gap_max']:.2%}, "
            f"worse in {kk['worse_share']:.0%}"
        )
    write_results(args.out, **res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
