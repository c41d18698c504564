"""Sensitivity analysis, target attainment and scenario discovery.

Known answers come from the literature:

* Ishigami–Homma function (Ishigami and Homma 1990; SALib.test_functions.Ishigami,
  a = 7, b = 0.1 on [-π, π]³): S1 = V1/V, V2/V, 0 and ST = (V1 + V13)/V, V2/V, V13/V with
  V1 = (1 + bπ⁴/5)²/2, V2 = a²/8, V13 = 8b²π⁸/225 and V = a²/8 + bπ⁴/5 + b²π⁸/18 + 1/2
  (Saltelli et al. 2008, Global Sensitivity Analysis: The Primer, section 4.9 and
  Sobol' and Levitan 1999). A fourth input the function ignores must get ST ≈ 0.
* A linear function: Morris's μ* of an input is its coefficient times its range (the
  elementary effect is constant), σ is 0, so the ranking follows the coefficients.

Everything runs on cheap analytic functions, except one end-to-end experiment on a tiny county.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.analysis.attainment import Goal, attainment, goals_from_criteria, met_table
from experiments.analysis.convergence import seed_variance
from experiments.analysis.discovery import find_box
from experiments.analysis.function import analyze
from experiments.cli.main import main
from sim.errors import InputError

ROOT = Path(__file__).absolute().parents[2]
BASELINE = ROOT / "configs" / "scenarios" / "baseline.yaml"

A, B = 7.0, 0.1
_V1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
_V2 = A**2 / 8
_V13 = 8 * B**2 * math.pi**8 / 225
_V = A**2 / 8 + B * math.pi**4 / 5 + B**2 * math.pi**8 / 18 + 0.5
ISHIGAMI_S1 = {"x1": _V1 / _V, "x2": _V2 / _V, "x3": 0.0, "unused": 0.0}
ISHIGAMI_ST = {"x1": (_V1 + _V13) / _V, "x2": _V2 / _V, "x3": _V13 / _V, "unused": 0.0}
ISHIGAMI_BOUNDS = {"x1": (-math.pi, math.pi), "x2": (-math.pi, math.pi), "x3": (-math.pi, math.pi), "unused": (0, 1)}


def ishigami(p: dict[str, float]) -> float:
    from SALib.test_functions import Ishigami

    return float(Ishigami.evaluate(np.array([[p["x1"], p["x2"], p["x3"]]]), A=A, B=B)[0])


@pytest.fixture(scope="module")
def sobol_1024():
    return analyze(ishigami, ISHIGAMI_BOUNDS, method="sobol", n=1024, seed=11, resamples=200)


# --- known indices ------------------------------------------------------------------------------


def test_analytic_ishigami_values_are_the_textbook_ones() -> None:
    # the Primer's table: S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437
    assert [round(ISHIGAMI_S1[k], 4) for k in ("x1", "x2", "x3")] == [0.3139, 0.4424, 0.0]
    assert [round(ISHIGAMI_ST[k], 4) for k in ("x1", "x2", "x3")] == [0.5576, 0.4424, 0.2437]


def test_sobol_reproduces_ishigami_indices_within_their_intervals(sobol_1024) -> None:
    t = sobol_1024.indices.set_index("parameter")
    assert list(t.columns[:5]) == ["metric", "S1", "S1_conf", "ST", "ST_conf"]
    assert sobol_1024.evaluations == 1024 * (4 + 2)
    for p in ("x1", "x2", "x3"):
        # the interval (with 0.01 for the bootstrap's own noise) covers the true value
        assert abs(t.loc[p, "S1"] - ISHIGAMI_S1[p]) <= t.loc[p, "S1_conf"] + 0.01, p
        assert abs(t.loc[p, "ST"] - ISHIGAMI_ST[p]) <= t.loc[p, "ST_conf"] + 0.01, p
        assert 0 < t.loc[p, "ST_conf"] < 0.15
    # an input the function ignores: no share at all
    assert abs(t.loc["unused", "ST"]) < 0.01 and abs(t.loc["unused", "S1"]) < 0.01
    assert t["seed_share"].isna().all()  # one replicate: the seed's share cannot be told


def test_efast_and_second_order_sobol_agree_with_the_analytic_values() -> None:
    r = analyze(ishigami, ISHIGAMI_BOUNDS, method="efast", n=500, seed=3, resamples=50)
    t = r.indices.set_index("parameter")
    for p in ("x1", "x2", "x3"):
        assert abs(t.loc[p, "S1"] - ISHIGAMI_S1[p]) < 0.05, p
        assert abs(t.loc[p, "ST"] - ISHIGAMI_ST[p]) < 0.06, p
    assert t.loc["unused", "S1"] < 0.02
    assert r.evaluations == 4 * 500 + 4 * 250  # and a half-size sample for the convergence check
    s2 = analyze(ishigami, ISHIGAMI_BOUNDS, method="sobol", n=512, seed=5, resamples=50, second_order=True)
    pairs = s2.second_order.set_index(["parameter_1", "parameter_2"])
    # the only interaction of the Ishigami function is x1·x3
    assert abs(pairs.loc[("x1", "x3"), "S2"] - _V13 / _V) < pairs.loc[("x1", "x3"), "S2_conf"] + 0.05
    assert abs(pairs.loc[("x1", "x2"), "S2"]) < pairs.loc[("x1", "x2"), "S2_conf"] + 0.05


def test_morris_ranks_the_dominant_input_first() -> None:
    def linear(p: dict[str, float]) -> dict[str, float]:
        return {"y": 10 * p["a"] + 2 * p["b"] + 0.1 * p["c"]}

    r = analyze(linear, {"a": (0, 1), "b": (0, 1), "c": (0, 1)}, method="morris", n=12, seed=2, resamples=50)
    t = r.indices.set_index("parameter")
    assert t["mu_star"].sort_values(ascending=False).index.tolist() == ["a", "b", "c"]
    assert t.loc["a", "mu_star"] == pytest.approx(10.0, rel=1e-6)  # coefficient × range
    assert t["sigma"].max() < 1e-9 and (t["mu_star_conf"] >= 0).all() and t["sigma_conf"].notna().all()
    assert r.enough  # a linear function needs few trajectories


@pytest.mark.parametrize("method", ["pawn", "delta"])
def test_moment_independent_methods_rank_the_dominant_input_first(method: str) -> None:
    def f(p: dict[str, float]) -> float:
        return 2 * p["a"] + p["b"]

    r = analyze(f, {"a": (0, 1), "b": (0, 1), "unused": (0, 1)}, method=method, n=100, seed=4, resamples=10)
    t = r.indices.set_index("parameter")[method]
    assert t.idxmax() == "a"
    # small samples give an ignored input a positive floor (about 0.1-0.2 here), well below a's index
    assert t["a"] > t["unused"] + 0.2
    assert (r.indices[f"{method}_conf"] > 0).all()


# --- stochastic models --------------------------------------------------------------------------


def test_seed_share_is_zero_for_a_deterministic_function_and_large_for_noise() -> None:
    def model(p: dict[str, float], seed: int) -> dict[str, float]:
        noise = np.random.default_rng(seed).normal()
        return {"deterministic": p["a"] + 2 * p["b"], "noise": noise, "mixed": 4 * p["a"] + 0.5 * noise}

    kw = {"method": "sobol", "n": 32, "seed": 1, "replicates": 4, "resamples": 30, "common_random_numbers": False}
    r = analyze(model, {"a": (0, 1), "b": (0, 1)}, **kw)
    share = r.seed_variance.set_index("metric")["seed_share"]
    assert share["deterministic"] == 0.0
    assert share["noise"] > 0.8
    assert 0.02 < share["mixed"] < 0.5
    # reported next to the indices, and averaging leaves little noise in "mixed"
    assert (r.indices.loc[r.indices["metric"] == "noise", "seed_share"] > 0.8).all()
    noise_left = r.seed_variance.set_index("metric")["noise_share_of_means"]
    assert noise_left["mixed"] < share["mixed"]
    # the same seed gives the same sample and indices; another seed another sample
    again = analyze(model, {"a": (0, 1), "b": (0, 1)}, **kw)
    pd.testing.assert_frame_equal(r.indices, again.indices)
    other = analyze(model, {"a": (0, 1), "b": (0, 1)}, **{**kw, "seed": 2})
    assert not np.allclose(other.indices["S1"].fillna(0), r.indices["S1"].fillna(0))


def test_seed_variance_of_a_table() -> None:
    assert seed_variance(np.array([[1.0, 1.0], [3.0, 3.0]]))["seed_share"] == 0.0
    one = seed_variance(np.array([[1.0], [3.0]]))
    assert one["seed_share"] is None and "2 or more replicates" in one["note"]


def test_convergence_verdict_flips_when_n_is_too_small(sobol_1024) -> None:
    assert sobol_1024.enough
    assert sobol_1024.verdict.startswith("n = 1024 was enough for output")
    small = analyze(ishigami, ISHIGAMI_BOUNDS, method="sobol", n=8, seed=11, resamples=50)
    assert not small.enough
    assert "n = 8 was NOT enough for output" in small.verdict
    suggested = int(re.search(r"try n = (\d+)", small.verdict).group(1))
    assert suggested > 8 and suggested & (suggested - 1) == 0  # a power of two, as Sobol' needs
    row = small.convergence.iloc[0]
    assert row["n_half"] == 4 and row["max_conf"] > 0.1


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "location", "message"),
    [
        ({"method": "sobel"}, "method", "unknown method 'sobel'"),
        ({"parameters": {"a": (0, 1), "b": (2, 1)}}, "parameters.b", r"low \(2\) must be below high \(1\)"),
        ({"parameters": {"a": (1, 1)}}, "parameters.a", "does not vary"),
        ({"n": 1000}, "n", r"power of 2.*try 512 or 1024"),
        ({"method": "efast", "n": 40}, "n", "try 65"),
        ({"method": "morris", "n": 1}, "n", "at least 2 trajectories"),
        ({"method": "pawn", "n": 5}, "n", "at least 20"),
        ({"metrics": ["z"]}, "metrics", "does not produce 'z'; it produces y"),
        ({"resamples": 3}, "resamples", "at least 10"),
    ],
)
def test_bad_input_is_an_input_error_naming_the_field(kwargs: dict, location: str, message: str) -> None:
    args = {"parameters": {"a": (0.0, 1.0), "b": (1.0, 5.0)}, "method": "sobol", "n": 16, **kwargs}
    with pytest.raises(InputError, match=message) as err:
        analyze(lambda p: {"y": p["a"]}, **args)
    assert err.value.location == location


def spec_with(**changes: object) -> dict:
    data = {
        "name": "t",
        "base": {"scenario": str(BASELINE)},
        "levers": [
            {"path": "policy.store_upgrade_subsidy", "range": [0.0, 0.8]},
            {"path": "policy.voucher_rate", "range": [0.0, 0.3]},
        ],
        "design": {"method": "sobol", "samples": 8, "second_order": False},
        "metrics": [
            "store_village_coverage",
            {"indicator": "online_share", "stat": "first_reaching", "threshold": 0.2},
        ],
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sensitivity": {"methods": ["morris"]}}, "sensitivity.methods: morris cannot read a sobol design"),
        (
            {"design": {"method": "lhs", "samples": 12}, "sensitivity": {"methods": ["delta"]}},
            "delta needs at least 20 sample points",
        ),
        ({"sensitivity": {"metrics": ["online_share"]}}, "sensitivity.metrics: online_share is not a metric"),
        ({"sensitivity": {"cost": ["online_share.first_reaching_0.2"]}}, "is a date, not a number"),
        ({"sensitivity": {"resamples": 2}}, "sensitivity.resamples"),
        ({"design": {"method": "efast", "samples": 40}}, r"eFAST needs samples above .*try 65"),
    ],
)
def test_bad_sensitivity_sections_are_input_errors(changes: dict, message: str) -> None:
    from experiments.spec.experiment import spec_from_dict

    with pytest.raises(InputError, match=message):
        spec_from_dict(spec_with(**changes))


def test_a_bad_sensitivity_section_exits_2_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec_with(sensitivity={"methods": ["efast"]})))
    assert main(["experiment", str(path), "--dry-run", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "sensitivity.methods: efast cannot read a sobol design" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_gsa_designs_are_analysed_and_analysis_settings_do_not_change_the_runs() -> None:
    from experiments.spec.design import Design, sample
    from experiments.spec.experiment import spec_from_dict

    plain = spec_from_dict(spec_with())
    tuned = spec_from_dict(spec_with(sensitivity={"methods": ["sobol", "pawn"], "resamples": 50}))
    assert plain.analysed and plain.analysis_methods() == ["sobol"]
    assert tuned.analysis_methods() == ["sobol", "pawn"]
    assert tuned.content_hash() == plain.content_hash()  # --resume still finds the same experiment
    lhs = spec_from_dict(spec_with(design={"method": "lhs", "samples": 24}))
    assert not lhs.analysed and lhs.analysis_methods() == ["pawn", "delta"]
    efast = sample(Design(method="efast", samples=65), list(plain.levers), np.random.default_rng(0))
    assert efast.unit.shape == (65 * 2, 2) and efast.unit.min() >= 0 and efast.unit.max() <= 1


def test_change_metric_is_last_minus_first() -> None:
    from experiments.spec.metrics import Metric, compute

    ts = pd.DataFrame({"date": pd.date_range("2023-07-03", periods=3, freq="7D"), "online_share": [0.1, 0.3, 0.25]})
    m = Metric(indicator="online_share", stat="change")
    assert m.column == "online_share.change"
    assert compute(m, ts, {}) == pytest.approx(0.15)


# --- target attainment and scenario discovery -----------------------------------------------------


def synthetic_runs(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    runs = pd.DataFrame({"a": rng.uniform(0, 10, n), "b": rng.uniform(0, 1, n), "c": rng.uniform(0, 1, n)})
    # P(met) rises with a and falls with b; c does nothing
    p = 1 / (1 + np.exp(-(-1 + 0.6 * runs["a"] - 3 * runs["b"])))
    runs["score"] = (rng.random(n) < p).astype(float)
    runs["always"] = 3.0
    runs["status"] = "ok"
    return runs


def test_attainment_probability_and_logistic_signs() -> None:
    runs = synthetic_runs()
    goals = [Goal("always_met", "always", ">=", 1.0), Goal("score", "score", ">=", 1.0)]
    att = attainment(runs, goals, levers=["a", "b", "c"], resamples=30)
    probs = att.probabilities.set_index("goal")
    assert probs.loc["always_met", "probability"] == 1.0 and probs.loc["always_met", "ci_high"] == 1.0
    assert any("always_met: met in every run" in n for n in att.notes)
    assert probs.loc["score", "probability"] == pytest.approx(runs["score"].mean())
    assert probs.loc["score", "ci_low"] < probs.loc["score", "probability"] < probs.loc["score", "ci_high"]
    assert probs.loc["score", "auc"] > 0.7
    dep = att.dependence[att.dependence["goal"] == "score"].set_index("lever")
    assert dep.loc["a", "coef"] > 0 and dep.loc["a", "direction"] == "raises the chance"
    assert dep.loc["b", "coef"] < 0 and dep.loc["b", "direction"] == "lowers the chance"
    assert dep.loc["a", "p_at_high"] > dep.loc["a", "p_at_low"]
    assert abs(dep.loc["c", "effect"]) < abs(dep.loc["b", "effect"]) < abs(dep.loc["a", "effect"])
    # the composite goal: both met in the same run
    met = met_table(runs, goals)
    assert probs.loc["all_targets", "met"] == int((met["always_met"] * met["score"]).sum())


def test_targets_map_to_the_metric_columns_that_measure_them() -> None:
    from sim.config import load_criteria

    crit = load_criteria(None).criteria
    metrics = {
        "tier": {"indicator": "county_tier", "stat": "final"},
        "express_village_coverage": {"indicator": "express_village_coverage", "stat": "final_year"},
        "online_share.change": {"indicator": "online_share", "stat": "change"},
        "online_share": {"indicator": "online_share", "stat": "final_year"},  # a 52-week mean: not the end value
    }
    goals, missing = goals_from_criteria(crit, metrics, run_end=crit.targets_2025.by)
    by = {g.name: g for g in goals}
    assert by["basic_tier_or_above"].column == "tier" and by["basic_tier_or_above"].op == ">="
    assert by["express_to_villages"].threshold == 0.95
    assert by["two_way_flow_down"] == Goal(
        "two_way_flow_down", "online_share.change", ">", 0.0, by["two_way_flow_down"].goal, "online_share",
        by["two_way_flow_down"].source,
    )  # fmt: skip
    hints = {m["name"]: m["hint"] for m in missing}
    assert "{indicator: leading_county, stat: final}" in hints["leading_county"]
    assert "stat: change" in hints["consumption_upgrade"]
    # a run that goes past the target date needs the value on that date
    late, missing_late = goals_from_criteria(crit, metrics, run_end=crit.targets_2025.by.replace(year=2026))
    assert not late and any("stat: at, date: 2025-12-31" in m["hint"] for m in missing_late)


def test_prim_finds_a_planted_box() -> None:
    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.uniform(size=(800, 3)), columns=["a", "b", "c"])
    x["switch"] = rng.random(800) < 0.5
    inside = (x["a"] > 0.6) & (x["b"] < 0.3)
    y = (inside & (rng.random(800) < 0.95)).to_numpy()
    box = find_box(x, y, density=0.8, outcome="target")
    assert box is not None and box.reached
    assert set(box.limits) == {"a", "b"}
    assert abs(box.limits["a"]["min"] - 0.6) < 0.05 and abs(box.limits["b"]["max"] - 0.3) < 0.05
    assert box.density > 0.85 and box.coverage > 0.8 and box.mass == pytest.approx(inside.mean(), abs=0.05)
    assert "target met in" in box.describe()
    # nothing to find where there is a single case of interest
    assert find_box(x, np.arange(800) == 3) is None


# --- through the experiment runner ---------------------------------------------------------------


def test_a_sobol_experiment_is_analysed_when_it_finishes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = {
        "name": "tiny_sobol",
        "base": {
            "scenario": str(BASELINE),
            "overrides": {
                "map.size": "small",
                "population.households_per_agent": 10,
                "timeline.end": "2024-06-30",
                "outputs.figures": False,
                "outputs.progress": "off",
            },
        },
        "levers": [
            {"path": "policy.store_upgrade_subsidy", "range": [0.0, 0.8]},
            {"path": "policy.annual_budget", "distribution": {"kind": "loguniform", "low": 2.0e5, "high": 2.0e7}},
        ],
        "design": {"method": "sobol", "samples": 4, "second_order": False},
        "replicates": 2,
        "metrics": [
            {"indicator": "newtype_store_share", "stat": "change"},
            {"indicator": "logistics_center", "stat": "final"},
            {"indicator": "subsidy_spent", "stat": "final"},
            {"indicator": "funds_leaked", "stat": "final"},
        ],
        "sensitivity": {"resamples": 20},
        "seed": 3,
        "backend": "inprocess",
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    assert main(["experiment", str(path), "--out", str(out), "--progress", "off"]) == 0
    printed = capsys.readouterr().out
    assert "was NOT enough" in printed and "analysis in" in printed
    sens = json.loads((out / "sensitivity.json").read_text())
    assert sens["design"] == "sobol" and sens["methods"] == ["sobol"] and sens["enough"] is False
    result = sens["results"][0]
    assert result["n"] == 4 and result["points"] == 16 and result["replicates"] == 2
    assert {r["metric"] for r in result["seed_variance"]} >= {"newtype_store_share.change", "subsidy_spent.final"}
    table = pd.read_csv(out / "sensitivity.csv")
    assert {"base", "metric", "parameter", "S1", "S1_conf", "ST", "ST_conf", "seed_share", "converged"} <= set(table)
    assert set(table["parameter"]) == {"policy.store_upgrade_subsidy", "policy.annual_budget"}
    att = pd.read_csv(out / "attainment.csv").set_index("goal")
    assert att.loc["newtype_stores", "runs"] == 32 and "logistics_center" in att.index
    assert json.loads((out / "prim_boxes.json").read_text())["density_wanted"] == 0.8
    assert (out / "frontier.csv").is_file() and (out / "figures" / "sensitivity_sobol.png").is_file()
    # analyse again with other settings; a method the design cannot feed is an input error (exit 2)
    assert main(["analyze", str(out), "--resamples", "10", "--tolerance", "1", "--no-targets", "--no-figures"]) == 0
    assert "written: sensitivity.csv, sensitivity.json" in capsys.readouterr().out
    assert json.loads((out / "sensitivity.json").read_text())["settings"]["resamples"] == 10
    assert main(["analyze", str(out), "--methods", "sobol,pawn", "--no-targets", "--no-figures"]) == 2
    assert "--methods: pawn cannot analyse this design: pawn needs at least 20" in capsys.readouterr().err
    assert main(["analyze", str(out), "--methods", "morris"]) == 2
    assert "morris cannot read a sobol design" in capsys.readouterr().err


def test_the_example_sobol_spec_is_valid_small_and_measures_every_target() -> None:
    from experiments.spec.experiment import load_spec
    from experiments.spec.plan import build_plan
    from sim.config import load_criteria

    spec = load_spec(ROOT / "configs" / "experiments" / "sobol_levers.yaml")
    assert len(spec.levers) >= 10 and spec.analysed and spec.analysis_methods() == ["sobol"]
    plan = build_plan(spec, check_maps=False)
    assert len(plan.runs) == 16 * (len(spec.levers) + 2) * spec.replicates == 448
    defs = {m.column: m.describe() for m in spec.metrics}
    scenario = plan.points[0].scenario
    goals, missing = goals_from_criteria(load_criteria(None).criteria, defs, scenario.timeline.end)
    assert not missing and len(goals) == len(load_criteria(None).criteria.targets_2025.items)
