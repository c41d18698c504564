"""How far can route plans be kept? Final indicators and re-planning time by tolerance.

Usage::

    python -m benchmarks.replan_tolerance [--tolerances 0 0.05 0.1 0.2 0.3] [--seeds 8]
                                          [--out benchmarks/results/replan_tolerance.json]

Runs the reference scenarios (``configs/reference/``) and the co-distribution scenario
(``configs/scenarios/codistribution.yaml`` at 10 households per agent, so that it takes
about as long as the others) for seeds 1…N at every ``carriers.replan_tolerance`` given,
and compares each run's final indicators with the same seed's run at tolerance 0 (today's
re-plan of every township). For each scenario, indicator and tolerance it reports the
mean paired difference in units of the indicator's seed-to-seed standard deviation at
tolerance 0 (``effect``), and the paired t statistic of that difference. A tolerance is
**within the noise** when, for every scenario and indicator, one of these holds:

* ``|effect|`` is at most :data:`WITHIN` — a shift a quarter of what changing the seed does;
* ``|effect|`` is at most twice that and the paired difference is not significant at 5%
  (two-sided t test over the seeds): with a handful of seeds a quarter of an SD is below
  what can be resolved, and kept plans make a run diverge from its tolerance-0 twin;
* the mean difference is under :data:`FLOOR` of the indicator's mean (for indicators that
  barely vary with the seed, such as the village coverage of a county whose routes do
  not depend on its households' draws).

Also reported:
the share of township plans kept rather than planned, and the seconds spent in
``Logistics.replan`` (median over the runs of a scenario).

The numbers are never asserted in tests; the chosen default and the table are in
docs/PERFORMANCE.md ("Routes kept while their inputs hold").
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: The indicators compared: the route plans' own outputs and what they feed.
INDICATORS = (
    "express_village_coverage",
    "village_door_parcel_share",
    "service_point_share",
    "cost_per_parcel",
    "codistribution_parcel_share",
    "carrier_profit",
    "delivery_days",
    "farm_online_sales",
    "farm_income",
    "online_share",
    "store_village_coverage",
)

#: Largest |mean paired difference| / seed-to-seed SD counted as within the noise.
WITHIN = 0.25
#: A mean difference below this share of the indicator's mean is within the noise too.
FLOOR = 0.002


def scenarios() -> dict[str, Any]:
    """The scenarios measured, by name (validated, no figures, no progress bar)."""
    from sim.config import load_scenario

    out = {p.stem: load_scenario(p) for p in sorted((ROOT / "configs" / "reference").glob("*.yaml"))}
    codis = load_scenario(ROOT / "configs" / "scenarios" / "codistribution.yaml")
    codis.population.households_per_agent = 10
    codis.outputs.figures = False
    out["codistribution_10"] = codis
    return out


def run_one(scenario: Any, tolerance: float, seed: int) -> dict[str, Any]:
    """One run: final indicators, seconds in re-planning, township plans made and kept."""
    from sim.model import CountyModel

    sc = scenario.model_copy(deep=True)
    sc.carriers.replan_tolerance = tolerance
    model = CountyModel(sc, seed=seed)
    lg = model.logistics
    spent = [0.0]
    replan = lg.replan

    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return replan(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t

    lg.replan = timed
    summary = model.run(progress=False).summary
    return {
        "values": {k: float(summary[k]) for k in INDICATORS},
        "replan_s": spent[0],
        "planned": lg.routes.counts["planned"],
        "kept": lg.routes.counts["kept"],
    }


def effects(base: list[dict[str, float]], other: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per indicator: the mean paired difference (``diff``), it over the seed-to-seed SD of
    ``base`` (``effect``), over the mean of ``base`` (``relative``), its paired t statistic
    (``t``) and whether it is ``within`` the noise (module docstring)."""
    from scipy.stats import t as student

    out = {}
    for k in INDICATORS:
        a = [r[k] for r in base]
        diffs = [r[k] - b for r, b in zip(other, a, strict=True)]
        diff = statistics.fmean(diffs)
        sd = statistics.stdev(a) if len(a) > 1 else 0.0
        sd_diff = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
        mean = statistics.fmean(a)
        effect = _ratio(diff, sd)
        relative = _ratio(diff, abs(mean))
        t = _ratio(diff, sd_diff / len(diffs) ** 0.5)
        quiet = abs(t) < student.ppf(0.975, len(diffs) - 1) if len(diffs) > 1 else False
        within = abs(effect) <= WITHIN or (abs(effect) <= 2 * WITHIN and quiet) or abs(relative) <= FLOOR
        out[k] = {"diff": diff, "effect": effect, "relative": relative, "t": t, "within": float(within)}
    return out


def _ratio(x: float, scale: float) -> float:
    """``x / scale``; 0 when both are 0, infinite when only the scale is."""
    if scale > 0:
        return x / scale
    return 0.0 if abs(x) < 1e-12 else float("inf")


def measure(tolerances: list[float], seeds: list[int], names: list[str] | None = None) -> dict[str, Any]:
    """Every scenario at every tolerance and seed; effects against tolerance 0."""
    result: dict[str, Any] = {"tolerances": tolerances, "seeds": seeds, "within": WITHIN, "floor": FLOOR}
    result["scenarios"] = {}
    for name, sc in scenarios().items():
        if names and name not in names:
            continue
        runs = {tol: [run_one(sc, tol, s) for s in seeds] for tol in sorted({0.0, *tolerances})}
        base = [r["values"] for r in runs[0.0]]
        rows = {}
        for tol, rs in runs.items():
            made = sum(r["planned"] for r in rs)
            kept = sum(r["kept"] for r in rs)
            rows[str(tol)] = {
                "effects": effects(base, [r["values"] for r in rs]),
                "kept_share": kept / (made + kept) if made + kept else 0.0,
                "replan_s": statistics.median(r["replan_s"] for r in rs),
                "mean": {k: statistics.fmean(r["values"][k] for r in rs) for k in INDICATORS},
                "values": {k: [r["values"][k] for r in rs] for k in INDICATORS},
            }
        result["scenarios"][name] = rows
        print(format_scenario(name, rows), flush=True)
    return result


def format_scenario(name: str, rows: dict[str, Any]) -> str:
    """One scenario's table: tolerance, plans kept, re-plan seconds, the largest effect
    (with its relative difference) and the indicators outside the noise."""
    head = f"  {'tolerance':>9s} {'kept':>6s} {'replan s':>9s} {'max |effect|':>13s} {'(relative)':>10s}  indicator"
    lines = [name, head]
    for tol, row in rows.items():
        k, e = max(row["effects"].items(), key=lambda kv: abs(kv[1]["effect"]))
        outside = [n for n, v in row["effects"].items() if not v["within"]]
        lines.append(
            f"  {float(tol):9.2f} {row['kept_share']:6.1%} {row['replan_s']:9.3f} {abs(e['effect']):13.2f}"
            f" {e['relative']:10.3%}  {k}; outside the noise: {', '.join(outside) or 'none'}"
        )
    return "\n".join(lines)


def largest_within(result: dict[str, Any]) -> float:
    """The largest tolerance whose every effect, in every scenario, is within the noise."""
    ok = 0.0
    for tol in sorted(result["tolerances"]):
        if not all(e["within"] for rows in result["scenarios"].values() for e in rows[str(tol)]["effects"].values()):
            break
        ok = tol
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tolerances", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.2, 0.3])
    ap.add_argument("--seeds", type=int, default=8, help="seeds 1..N")
    ap.add_argument("--scenarios", nargs="*", default=None, help="names (default: all)")
    ap.add_argument("--out", default="benchmarks/results/replan_tolerance.json")
    args = ap.parse_args(argv)
    result = measure(sorted(set(args.tolerances)), list(range(1, args.seeds + 1)), args.scenarios)
    result["largest_within"] = largest_within(result)
    print(f"largest tolerance within the noise (|effect| <= {WITHIN} or under {FLOOR:.1%}): {result['largest_within']}")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
