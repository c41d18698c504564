"""How coarse a national ensemble may run: household weight and re-plan interval against
the national indicators' Monte-Carlo error.

The stratified national ensemble of ``configs/experiments/national_2025.yaml`` (its
counties, calibrated values and development profile) is run over the plan horizon
(2023-07-01 … 2025-12-31) at full detail — ``--reference-weight`` households per agent
(1: one agent per household), carriers re-planning every 4 weeks as the scenario says —
for ``--seeds`` run seeds, and then at each candidate setting for the same seeds. For
every national indicator (leading counties, share at basic tier or better, express
coverage of villages, online spending, farm online sales; each year of the horizon):

- ``mc_se``: its Monte-Carlo standard error at full detail, the standard deviation over
  seeds of the national estimate of one seed (counties held fixed: the run seed is the
  only thing that differs between replicates);
- ``d``: a candidate's difference from full detail, mean over seeds minus mean over
  seeds, in units of ``mc_se``; ``z``: the same difference over its own standard error
  (both settings' spreads over their seeds), to tell a real shift from noise;
- the time: the runs' own CPU seconds (``wall_seconds`` in the runs table; one run per
  worker process) and the mean time of a county of each size.

Rule (stated in docs/PERFORMANCE.md "Ensemble mode"): a setting is kept when every
indicator's ``|d| <= --tolerance`` (2). An indicator the full-detail seeds did not move
(``mc_se = 0``; with a few seeds, a tier share whose counties all stayed on their side
of a threshold) is measured in its spread pooled over all settings instead. The weights
are tried in increasing order at the scenario's re-plan interval and kept up to the first
that fails; then the re-plan intervals likewise at the coarsest kept weight. Usage::

    python -m benchmarks.ensemble_fidelity [--per-stratum 2] [--seeds 4] [--reference-weight 1]
        [--weights 50 100 200 400] [--replan 8 13] [--workers 2] [--calibration]

``--analyse FILE`` recomputes the comparison from a results file without running.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from benchmarks import write_results
from experiments.national.calibration import load_calibration, simulate_national
from experiments.national.ensemble import national_indicators
from experiments.run.runner import run_experiment
from experiments.spec.ensemble import counties, parse_ensemble, resolve_calibrated
from experiments.spec.experiment import spec_from_dict

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "configs" / "experiments"
OUT = ROOT / "benchmarks" / "results" / "ensemble_fidelity.json"

#: National indicators compared (national.csv names); every year of the horizon.
INDICATORS = (
    "leading_counties",
    "share_basic_or_better",
    "express_village_coverage",
    "online_spending",
    "farm_online_sales",
)
#: The carriers' re-plan interval of the scenario (sim/config/logistics.py default).
SCENARIO_REPLAN = 4
START, END, YEARS = "2023-07-01", "2025-12-31", [2023, 2025]


def ensemble_section(per_stratum: int, weight: int, replan: int) -> dict[str, Any]:
    """national_2025.yaml's ensemble over the plan horizon at one setting (no fidelity mode:
    the setting is given explicitly, so the measurement does not depend on the mode it chooses)."""
    spec = yaml.safe_load((SPECS / "national_2025.yaml").read_text(encoding="utf-8"))
    ens = copy.deepcopy(spec["ensemble"])
    ens.pop("fidelity", None)
    ens.pop("official", None)
    ens.update(sample="stratified", per_stratum=per_stratum, years=YEARS)
    ens["overrides"] = {
        **ens.get("overrides", {}),
        "timeline.start": START,
        "timeline.end": END,
        "population.households_per_agent": weight,
        "carriers.replan_every_weeks": replan,
    }
    return ens


def run_setting(per_stratum: int, weight: int, replan: int, seeds: int, workers: int) -> dict[str, Any]:
    """One setting over ``seeds`` replicates: national estimates per seed and the times."""
    ens = ensemble_section(per_stratum, weight, replan)
    data = {"name": f"fidelity_w{weight}_r{replan}", "ensemble": ens, "design": "list", "replicates": seeds}
    data["seed"] = 20230727  # the same run seeds for every setting
    spec = spec_from_dict(data, source="ensemble_fidelity", base_dir=SPECS)
    cs = counties(parse_ensemble(spec.ensemble, "ensemble_fidelity"), SPECS)
    weights = {c.label: c.weight for c in cs}
    strata = {c.label: c.stratum for c in cs}
    size = {c.label: c.overrides["map.size"] for c in cs}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        runs = run_experiment(spec, Path(tmp) / "e", backend="processes", workers=workers, progress=False)
    wall = time.perf_counter() - t0
    failed = int((runs["status"] != "ok").sum())
    if failed:
        raise SystemExit(f"{failed} runs failed at weight {weight}, replan {replan}: {runs['error'].dropna().iloc[0]}")
    per_seed: dict[str, list[float]] = {}
    for _rep, grp in runs.groupby("replicate"):
        table = national_indicators(grp, weights, strata)
        for _, row in table[table["indicator"].isin(INDICATORS)].iterrows():
            per_seed.setdefault(f"{row['indicator']}_{int(row['year'])}", []).append(float(row["mean"]))
    runs["size"] = runs["base"].map(size)
    return {
        "households_per_agent": weight,
        "replan_every_weeks": replan,
        "seeds": seeds,
        "runs": len(runs),
        "experiment_wall_s": wall,
        "run_cpu_s": float(runs["wall_seconds"].sum()),
        "mean_run_s_by_size": {k: float(v) for k, v in runs.groupby("size")["wall_seconds"].mean().items()},
        "estimates": per_seed,
    }


def pooled_sd(settings: list[dict[str, Any]]) -> dict[str, float]:
    """Each indicator's spread over seeds pooled over settings (each around its own mean):
    the MC standard error with all settings' degrees of freedom, for an indicator the
    full-detail seeds happened not to move."""
    out: dict[str, float] = {}
    for key in settings[0]["estimates"]:
        ss = dof = 0.0
        for s in settings:
            v = s["estimates"][key]
            if len(v) > 1:
                ss += statistics.variance(v) * (len(v) - 1)
                dof += len(v) - 1
        out[key] = math.sqrt(ss / dof) if dof else 0.0
    return out


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else (0.0 if num == 0 else math.copysign(math.inf, num))


def compare(
    reference: dict[str, Any], candidate: dict[str, Any], tolerance: float, pooled: dict[str, float]
) -> dict[str, Any]:
    """Each indicator's difference from the reference in MC standard errors, and the verdict.

    The unit is the reference's spread over its seeds; where that is zero (an indicator
    the full-detail seeds did not move, e.g. a tier share whose counties all stayed on
    their side of a threshold) the spread pooled over every setting measured (``pooled``),
    and where that is zero too only an equal value passes.
    """
    rows: dict[str, dict[str, Any]] = {}
    ok = True
    for key, ref in reference["estimates"].items():
        cand = candidate["estimates"][key]
        mr, mc = statistics.fmean(ref), statistics.fmean(cand)
        sr = statistics.stdev(ref) if len(ref) > 1 else 0.0
        sc = statistics.stdev(cand) if len(cand) > 1 else 0.0
        unit = sr if sr > 0 else pooled[key]
        diff = mc - mr
        d = _ratio(diff, unit)
        z = _ratio(diff, math.sqrt(sr**2 / len(ref) + sc**2 / len(cand)))
        passed = abs(d) <= tolerance
        ok &= passed
        rows[key] = {
            "reference": mr,
            "candidate": mc,
            "mc_se": sr,
            "unit": unit,
            "unit_pooled": sr == 0,
            "candidate_sd": sc,
            "d": d,
            "z": z,
            "relative": diff / mr if mr else math.nan,
            "pass": passed,
        }
    return {"pass": ok, "worst": max(rows, key=lambda k: abs(rows[k]["d"])), "indicators": rows}


def _label(s: dict[str, Any]) -> str:
    return f"w{s['households_per_agent']}_r{s['replan_every_weeks']}"


def choose(results: dict[str, Any], tolerance: float) -> dict[str, Any]:
    """Apply the rule: the weights in increasing order at the scenario's interval, kept up
    to the first that fails; then the intervals in increasing order at the coarsest kept
    weight, likewise. Returns the comparisons, the choice and the chosen setting's record."""
    ref = results["reference"]
    pooled = pooled_sd([ref, *results["candidates"]])
    comps = {_label(s): compare(ref, s, tolerance, pooled) for s in results["candidates"]}
    by = {_label(s): s for s in results["candidates"]}
    weight = ref["households_per_agent"]
    for s in sorted(results["candidates"], key=lambda s: s["households_per_agent"]):
        if s["replan_every_weeks"] != SCENARIO_REPLAN:
            continue
        if not comps[_label(s)]["pass"]:
            break
        weight = s["households_per_agent"]
    replan = SCENARIO_REPLAN
    for s in sorted(results["candidates"], key=lambda s: s["replan_every_weeks"]):
        if s["households_per_agent"] != weight or s["replan_every_weeks"] == SCENARIO_REPLAN:
            continue
        if not comps[_label(s)]["pass"]:
            break
        replan = s["replan_every_weeks"]
    chosen = by.get(f"w{weight}_r{replan}", ref)
    return {
        "comparisons": comps,
        "pooled_sd": pooled,
        "choice": {"households_per_agent": weight, "replan_every_weeks": replan},
        "by": chosen,
    }


def coarsest_passing_weight(results: dict[str, Any], tolerance: float) -> int:
    """The coarsest weight kept at the scenario's interval so far (for the re-plan stage)."""
    return choose(results, tolerance)["choice"]["households_per_agent"]


def full_ensemble_estimate(setting: dict[str, Any], workers: int) -> dict[str, float]:
    """Minutes for the full ensemble (1,871 counties, this horizon, one seed) from the
    setting's mean time per county size, spread over ``workers`` busy workers."""
    typ = pd.read_csv(ROOT / "configs" / "data" / "county_typology.csv", comment="#", skipinitialspace=True)
    units = typ.groupby("size")["county_units"].sum()
    means = setting["mean_run_s_by_size"]
    cpu = float(sum(units[s] * means[s] for s in units.index))
    return {"cpu_s": cpu, "wall_min_estimate": cpu / workers / 60.0, "workers": workers}


def cpu_by_size(per_stratum: int, weight: int, replan: int, repeats: int) -> dict[str, Any]:
    """CPU seconds of one county run by size, in this process (``time.process_time``: what
    a run costs whatever else the machine is doing), over the first county of each
    stratum, ``repeats`` times each; the median of the repeats per county, then the mean
    over the counties of a size."""
    from sim.config import load_scenario  # the model only for this measurement
    from sim.model import CountyModel

    section = resolve_calibrated(ensemble_section(per_stratum, weight, replan), "ensemble_fidelity", SPECS)
    ens = parse_ensemble(section, "ensemble_fidelity")
    scenario_path = SPECS / ens.scenario
    firsts = [c for c in counties(ens, SPECS) if c.label.endswith("-0000")]
    by_size: dict[str, list[float]] = {}
    for c in firsts:
        scenario = load_scenario(scenario_path, c.overrides)
        times = []
        for _ in range(repeats):
            t0 = time.process_time()
            CountyModel(scenario, seed=1).run(progress=False)
            times.append(time.process_time() - t0)
        by_size.setdefault(c.overrides["map.size"], []).append(statistics.median(times))
    return {
        "households_per_agent": weight,
        "replan_every_weeks": replan,
        "mean_run_s_by_size": {k: statistics.fmean(v) for k, v in by_size.items()},
        "counties_by_size": {k: len(v) for k, v in by_size.items()},
        "repeats": repeats,
    }


#: Weeks of the plan horizon measured here and of the calibration's 2021-01-04 … 2023-12-31.
PLAN_WEEKS, CALIBRATION_WEEKS = 131, 156


def calibration_estimate(cpu: dict[str, Any], workers: int, per_stratum: int = 3) -> dict[str, float]:
    """Seconds for one calibration evaluation (12 strata × ``per_stratum`` counties, 156
    weeks) from a setting's CPU time per county size over the plan horizon, scaled by
    weeks (the build is a small part of a run), spread over ``workers``."""
    sizes = pd.read_csv(ROOT / "configs" / "data" / "county_typology.csv", comment="#", skipinitialspace=True)
    n = sizes.groupby("size").size() * per_stratum
    means = cpu["mean_run_s_by_size"]
    cpu_s = float(sum(n[k] * means[k] for k in n.index)) * CALIBRATION_WEEKS / PLAN_WEEKS
    return {"cpu_s": cpu_s, "wall_s_estimate": cpu_s / workers, "workers": workers}


def time_calibration_evaluation(workers: int) -> dict[str, Any]:
    """Wall time of one evaluation of calibrate_2021_2023.yaml (36 counties, 2021-2023),
    at the fitted values, as its spec stands (i.e. in the mode it names)."""
    spec, _targets, base = load_calibration(SPECS / "calibrate_2021_2023.yaml")
    fitted = yaml.safe_load((ROOT / "configs" / "calibrated" / "calibrate_2021_2023.yaml").read_text())["values"]
    t0 = time.perf_counter()
    simulate_national(spec.ensemble, fitted, spec.seed, 1, workers, base)
    return {"wall_s": time.perf_counter() - t0, "workers": workers, "ensemble": spec.ensemble.get("fidelity")}


def _fmt(v: float) -> str:
    return "∞" if math.isinf(v) else f"{v:+.1f}"


def markdown(results: dict[str, Any], tolerance: float) -> str:
    """The table for docs/PERFORMANCE.md: each setting's worst |d|, time and verdict."""
    picked = choose(results, tolerance)
    ref = results["reference"]
    lines = [
        "| households per agent | re-plan every (weeks) | run CPU s (all seeds) | small / median / large county s "
        f"| worst indicator | d (MC SE) | z | within ±{tolerance:g} MC SE |",
        "|---:|---:|---:|---|---|---:|---:|---|",
    ]
    for s in [ref, *results["candidates"]]:
        m = s["mean_run_s_by_size"]
        sizes = " / ".join(f"{m.get(k, float('nan')):.2f}" for k in ("small", "median", "large"))
        head = f"| {s['households_per_agent']} | {s['replan_every_weeks']} | {s['run_cpu_s']:.0f} | {sizes} "
        if s is ref:
            lines.append(head + "| (full detail) | | | |")
            continue
        c = picked["comparisons"][_label(s)]
        w = c["indicators"][c["worst"]]
        lines.append(head + f"| {c['worst']} | {_fmt(w['d'])} | {_fmt(w['z'])} | {'yes' if c['pass'] else 'no'} |")
    ch = picked["choice"]
    lines.append("")
    lines.append(
        f"Chosen: {ch['households_per_agent']} households per agent, re-plan every {ch['replan_every_weeks']} weeks."
    )
    return "\n".join(lines)


def detail(results: dict[str, Any], tolerance: float) -> str:
    """Every indicator of every candidate: reference mean, MC SE and d (for the docs' details)."""
    picked = choose(results, tolerance)
    keys = list(results["reference"]["estimates"])
    labels = [_label(s) for s in results["candidates"]]
    lines = [
        "| indicator | full detail (mean) | MC SE | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * (2 + len(labels)),
    ]
    for k in keys:
        r = picked["comparisons"][labels[0]]["indicators"][k] if labels else None
        cells = [
            f"{_fmt(c['d'])} ({c['relative']:+.1%})"
            for c in (picked["comparisons"][lab]["indicators"][k] for lab in labels)
        ]
        if r is not None:
            lines.append(f"| {k} | {r['reference']:.4g} | {r['mc_se']:.3g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the reference, the weights, then the re-plan intervals; save after each setting."""
    results: dict[str, Any] = {"settings": vars(args).copy(), "horizon": [START, END], "candidates": []}
    results["settings"] = {k: str(v) if isinstance(v, Path) else v for k, v in results["settings"].items()}
    done: dict[str, dict[str, Any]] = {}
    if args.resume and args.out.is_file():  # settings measured by an interrupted run are kept
        before = json.loads(args.out.read_text(encoding="utf-8"))
        done = {_label(s): s for s in [before.get("reference"), *before.get("candidates", [])] if s}

    def one(weight: int, replan: int) -> dict[str, Any]:
        if f"w{weight}_r{replan}" in done:
            return done[f"w{weight}_r{replan}"]
        print(f"weight {weight}, re-plan every {replan} weeks ...", file=sys.stderr, flush=True)
        s = run_setting(args.per_stratum, weight, replan, args.seeds, args.workers)
        print(f"  {s['experiment_wall_s']:.0f} s wall, {s['run_cpu_s']:.0f} s of runs", file=sys.stderr, flush=True)
        return s

    results["reference"] = one(args.reference_weight, SCENARIO_REPLAN)
    write_results(args.out, **results)
    for w in args.weights:
        results["candidates"].append(one(w, SCENARIO_REPLAN))
        write_results(args.out, **results)
    weight = coarsest_passing_weight(results, args.tolerance)
    for k in args.replan:
        results["candidates"].append(one(weight, k))
        write_results(args.out, **results)
    return results


def cpu_times(results: dict[str, Any], choice: dict[str, int], args: argparse.Namespace) -> dict[str, Any]:
    """In-process CPU time by county size at full detail, at the former national setting
    (50 households per agent, re-plan every 4 weeks) and at the choice, with the full
    ensemble and one calibration evaluation estimated from each."""
    ref = results["reference"]
    settings = {(ref["households_per_agent"], SCENARIO_REPLAN), (50, SCENARIO_REPLAN)}
    settings.add((choice["households_per_agent"], choice["replan_every_weeks"]))
    cpu = [cpu_by_size(args.per_stratum, w, k, args.cpu_repeats) for w, k in sorted(settings)]
    estimates = [
        {
            "households_per_agent": c["households_per_agent"],
            "replan_every_weeks": c["replan_every_weeks"],
            **full_ensemble_estimate(c, args.workers),
            "calibration_evaluation": calibration_estimate(c, args.workers),
        }
        for c in cpu
    ]
    return {"cpu": cpu, "full_ensemble_cpu": estimates}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-stratum", type=int, default=2, help="counties per stratum (12 strata)")
    ap.add_argument("--seeds", type=int, default=4, help="run seeds per setting")
    ap.add_argument("--reference-weight", type=int, default=1, help="households per agent of full detail")
    ap.add_argument("--weights", type=int, nargs="*", default=[50, 100, 200, 400])
    ap.add_argument("--replan", type=int, nargs="*", default=[8, 13], help="intervals tried at the chosen weight")
    ap.add_argument("--tolerance", type=float, default=2.0, help="largest |difference| in MC standard errors")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--calibration", action="store_true", help="also time one calibration evaluation")
    ap.add_argument(
        "--cpu-repeats", type=int, default=0, help="also time one county per stratum in-process (CPU), N times"
    )
    ap.add_argument("--analyse", type=Path, help="recompute the comparison from this results file, no runs")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--resume", action="store_true", help="keep the settings already in --out, run the others")
    args = ap.parse_args(argv)
    results = json.loads(args.analyse.read_text(encoding="utf-8")) if args.analyse else measure(args)
    picked = choose(results, args.tolerance)
    results["comparisons"] = picked["comparisons"]
    results["choice"] = picked["choice"]
    results["full_ensemble"] = full_ensemble_estimate(picked["by"], args.workers)
    results["full_ensemble_reference_weight"] = full_ensemble_estimate(results["reference"], args.workers)
    if args.cpu_repeats:
        results.update(cpu_times(results, picked["choice"], args))
    if args.calibration:
        results["calibration_evaluation"] = time_calibration_evaluation(args.workers)
    if not args.analyse or args.calibration or args.cpu_repeats:
        write_results(args.out, **{k: v for k, v in results.items() if k not in ("machine", "git_commit", "versions")})
    print(markdown(results, args.tolerance))
    print()
    print(detail(results, args.tolerance))
    print(json.dumps({k: results[k] for k in ("choice", "full_ensemble")}, indent=1))
    if "full_ensemble_cpu" in results:
        print(json.dumps(results["full_ensemble_cpu"], indent=1))
    if "calibration_evaluation" in results:
        print(json.dumps(results["calibration_evaluation"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
