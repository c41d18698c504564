"""Carriers' re-planning and co-distribution cost sharing as the number of villages grows.

Usage::

    python -m benchmarks.replan_scaling [--villages 40 100 250 600 1200] [--villages-per-township 16]
                                        [--repeats 3] [--solver-max-villages 600] [--solver-repeats 1]
                                        [--households-per-agent 1] [--region central_hill]
                                        [--out benchmarks/results/replan_scaling.json]

For each number of villages a county is generated with ``map.n_villages`` set, as many
townships as keep about ``--villages-per-township`` villages each (16 is the median
preset's 250 / 16), and 1,600 residents per village (the median preset's density), so that
only the size of the road network and the number of delivery instances grow. Then:

* **heuristic**: one ``model.logistics.replan(0.0)`` of all carriers with the default
  route heuristic (every carrier plans every township's villages);
* **solver**: the same with ``carriers.routing: solver`` (PyVRP), for counties of at most
  ``--solver-max-villages`` villages (two orders of magnitude slower);
* **settlement**: the consortium's settlement, ``replan(0.0, settle=True)`` in a county
  where co-distribution runs from the first day (logistics centre at the start, every
  carrier of the fleet a member, as with ``policy.codistribution.members`` listing them):
  the grand coalition's shared routes and the exact Shapley cost shares, which plan the
  routes of every one of the 2^n − 1 coalitions of the n carriers. ``settle_s`` is the
  time inside ``Logistics._settle_consortium`` (timed by a wrapper on the instance),
  ``replan_settle_s`` the whole re-plan with it;
* **voluntary** (first settlement as in ``configs/scenarios/codistribution.yaml``,
  ``members: null``): on a fresh county where co-distribution starts a week after the
  first day, the clock is moved to that week and the first settlement runs; each carrier
  joins when its profit inside (with its Shapley cost share) beats its profit alone, which
  costs one Shapley game per candidate. One fresh county per repeat.

* **kept**: the heuristic re-plan again with nothing changed and a positive
  ``carriers.replan_tolerance`` (:data:`KEPT_TOLERANCE` unless the scenario's default is
  positive): every township keeps its plan, priced at the (same) costs and prizes — the
  floor of a re-plan when plans are kept (``kept_s``).

Plans are cached by their inputs within a model, and kept while their inputs hold
(``sim/logistics/plans.py``); caches and kept plans are emptied before every timed call
except ``kept`` so each one plans from scratch, as a re-plan after a month of changed
volumes mostly does. Times are medians of the repeats. The table is printed and the numbers go
to ``benchmarks/results/replan_scaling.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks import write_results

VILLAGES = [40, 100, 250, 600, 1200]
PERSONS_PER_VILLAGE = 1600  # the median preset: 400,000 residents, 250 villages
START = dt.date(2023, 7, 1)  # the scenarios' default first day


def townships_for(villages: int, per_township: float) -> int:
    """Townships that keep about ``per_township`` villages each (at least one)."""
    return max(1, round(villages / per_township))


def scenario(
    villages: int,
    per_township: float,
    per_agent: int,
    region: str,
    routing: str = "heuristic",
    codistribution: str | None = None,
    carriers: list[str] | None = None,
) -> Any:
    """A generated county of ``villages`` villages for timing the carriers' plans.

    Args:
        villages: Administrative villages (``map.n_villages``).
        per_township: Villages per township (sets ``map.n_townships``).
        per_agent: Households per agent.
        region: Region preset.
        routing: ``heuristic`` or ``solver``.
        codistribution: None (off), ``all`` (every carrier a member from the first day,
            centre at the start) or ``voluntary`` (members join when it pays, from the
            second week, centre at the start).
        carriers: Names of the fleet's carriers (needed for ``all``).

    Returns:
        The validated scenario.
    """
    from sim.config import Scenario

    data: dict[str, Any] = {
        "timeline": {"start": START.isoformat(), "end": "2024-06-30"},
        "map": {
            "size": "median",
            "region": region,
            "n_villages": villages,
            "n_townships": townships_for(villages, per_township),
            "population": villages * PERSONS_PER_VILLAGE,
        },
        "population": {"households_per_agent": per_agent},
        "carriers": {"routing": routing},
        "outputs": {"figures": False, "progress": "off"},
    }
    if codistribution is not None:
        start = START if codistribution == "all" else START + dt.timedelta(days=7)
        data["logistics"] = {"center_at_start": True}
        data["policy"] = {
            "codistribution": {
                "enabled": True,
                "start": start.isoformat(),
                "members": list(carriers or []) if codistribution == "all" else None,
            }
        }
    return Scenario.model_validate(data)


def _timed_replan(model: Any, settle: bool | None) -> tuple[float, float]:
    """One re-plan from an empty plan cache: (whole re-plan seconds, seconds in the settlement)."""
    lg = model.logistics
    inside = [0.0]
    original: Callable[..., Any] = lg._settle_consortium

    def settle_timed(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            inside[0] += time.perf_counter() - t

    lg._settle_consortium = settle_timed
    try:
        lg.routes.clear()
        t0 = time.perf_counter()
        lg.replan(0.0, settle=settle)
        elapsed = time.perf_counter() - t0
    finally:
        del lg._settle_consortium  # back to the class's method
    return elapsed, inside[0]


#: Tolerance of the ``kept`` timing when the scenario's default is 0.
KEPT_TOLERANCE = 0.1


def _timed_kept(model: Any, repeats: int) -> float:
    """Median seconds of a re-plan in which every township keeps its plan (nothing changed)."""
    routes = model.logistics.routes
    saved = routes.tolerance
    routes.tolerance = saved if saved > 0 else KEPT_TOLERANCE
    try:
        model.logistics.replan(0.0)  # the plans to keep
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model.logistics.replan(0.0)
            times.append(time.perf_counter() - t0)
    finally:
        routes.tolerance = saved
    return statistics.median(times)


def measure(
    villages: int,
    repeats: int = 3,
    per_township: float = 16.0,
    per_agent: int = 1,
    region: str = "central_hill",
    solver: bool = True,
    solver_repeats: int = 1,
    voluntary: bool = True,
) -> dict[str, Any]:
    """All timings for one county size.

    Args:
        villages: Administrative villages.
        repeats: Timed repeats of the heuristic re-plan and of the settlements.
        per_township: Villages per township.
        per_agent: Households per agent.
        region: Region preset.
        solver: Also time the PyVRP planner.
        solver_repeats: Its repeats.
        voluntary: Also time a first voluntary settlement (a fresh county per repeat).

    Returns:
        One row: ``villages``, ``townships``, ``carriers``, ``coalitions``,
        ``households``, ``heuristic_s`` (median, with ``_min``/``_max``), ``kept_s``, ``solver_s``
        (None when skipped), ``settle_s``, ``replan_settle_s``, ``members``,
        ``voluntary_settle_s`` and ``voluntary_members`` (None when skipped), ``repeats``.
    """
    from sim.model import CountyModel

    model = CountyModel(scenario(villages, per_township, per_agent, region), seed=1)
    row: dict[str, Any] = {
        "villages": len(model.county.villages),
        "townships": len(model.county.townships),
        "households": len(model.households),
        "carriers": len(model.logistics.carriers),
        "coalitions": 2 ** len(model.logistics.carriers) - 1,
        "repeats": repeats,
    }
    names = [c.name for c in model.logistics.carriers]
    heur = [_timed_replan(model, settle=None)[0] for _ in range(repeats)]
    row.update(heuristic_s=statistics.median(heur), heuristic_s_min=min(heur), heuristic_s_max=max(heur))
    row["kept_s"] = _timed_kept(model, repeats)
    del model
    gc.collect()

    row["solver_s"], row["solver_repeats"] = None, 0
    if solver:
        model = CountyModel(scenario(villages, per_township, per_agent, region, routing="solver"), seed=1)
        times = [_timed_replan(model, settle=None)[0] for _ in range(solver_repeats)]
        row["solver_s"], row["solver_repeats"] = statistics.median(times), solver_repeats
        del model
        gc.collect()

    model = CountyModel(
        scenario(villages, per_township, per_agent, region, codistribution="all", carriers=names), seed=1
    )
    runs = [_timed_replan(model, settle=True) for _ in range(repeats)]
    row["replan_settle_s"] = statistics.median(r[0] for r in runs)
    row["settle_s"] = statistics.median(r[1] for r in runs)
    row["settle_s_min"], row["settle_s_max"] = min(r[1] for r in runs), max(r[1] for r in runs)
    row["members"] = sorted(c.name for c in model.logistics.carriers if c.member)
    del model
    gc.collect()

    row["voluntary_settle_s"], row["voluntary_members"] = None, None
    if voluntary:
        times, members = [], []
        for _ in range(repeats):
            model = CountyModel(scenario(villages, per_township, per_agent, region, codistribution="voluntary"), seed=1)
            model.today = model.dates[1]  # the week co-distribution starts: its first settlement is due
            times.append(_timed_replan(model, settle=True)[1])
            members = sorted(c.name for c in model.logistics.carriers if c.member)
            del model
            gc.collect()
        row["voluntary_settle_s"], row["voluntary_members"] = statistics.median(times), members
    return row


def format_row(row: dict[str, Any], header: bool = False) -> str:
    """One line of the table (or its header)."""
    if header:
        return (
            f"{'villages':>8s} {'towns':>6s} {'carriers':>8s} {'heuristic s':>12s} {'kept s':>7s} {'solver s':>9s} "
            f"{'settlement s':>13s} {'voluntary s':>12s} {'members':>8s}"
        )

    def num(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    return (
        f"{row['villages']:>8d} {row['townships']:>6d} {row['carriers']:>8d} {num(row['heuristic_s']):>12s} "
        f"{num(row.get('kept_s')):>7s} "
        f"{num(row['solver_s']):>9s} {num(row['settle_s']):>13s} {num(row['voluntary_settle_s']):>12s} "
        f"{len(row['members']):>8d}"
    )


def main(argv: list[str] | None = None) -> int:
    """Measure every size, print the table and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--villages", type=int, nargs="+", default=VILLAGES)
    ap.add_argument("--villages-per-township", type=float, default=16.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--solver-max-villages", type=int, default=600, help="time the PyVRP planner up to this size")
    ap.add_argument("--solver-repeats", type=int, default=1)
    ap.add_argument("--no-voluntary", action="store_true", help="skip the first voluntary settlement")
    ap.add_argument("--households-per-agent", type=int, default=1)
    ap.add_argument("--region", default="central_hill")
    ap.add_argument("--out", default="benchmarks/results/replan_scaling.json")
    args = ap.parse_args(argv)
    rows = []
    print(format_row({}, header=True))
    for v in args.villages:
        row = measure(
            v,
            repeats=args.repeats,
            per_township=args.villages_per_township,
            per_agent=args.households_per_agent,
            region=args.region,
            solver=v <= args.solver_max_villages,
            solver_repeats=args.solver_repeats,
            voluntary=not args.no_voluntary,
        )
        rows.append(row)
        print(format_row(row), flush=True)
    write_results(
        args.out,
        settings={
            "villages_per_township": args.villages_per_township,
            "persons_per_village": PERSONS_PER_VILLAGE,
            "households_per_agent": args.households_per_agent,
            "region": args.region,
            "solver_max_villages": args.solver_max_villages,
        },
        results=rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
