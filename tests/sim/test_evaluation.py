"""Tier criteria, the November reviews, leading counties and their exit, targets and cost-effectiveness."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import Criteria, load_criteria, load_scenario
from sim.errors import InputError
from sim.model import CountyModel
from sim.policy.evaluation import RunFacts, cost_effectiveness, levels, rate, targets_2025
from sim.policy.indicators import BASE_NAMES, BY_NAME, CRITERION_INDICATORS

ROOT = Path(__file__).resolve().parents[2]
CRITERIA = sorted((ROOT / "configs" / "criteria").glob("*.yaml"))
EPS = 1e-6


def provenance(**extra) -> dict:
    return {"status": "assumed", "reason": "test", **extra}


def criteria_dict(tiers: dict | None = None, targets: list | None = None) -> dict:
    return {
        "name": "test",
        "review": provenance(month=11, day=25),
        "leading": provenance(min_tier=3, first_year=2023),
        "tiers": tiers
        or {
            "basic": [provenance(indicator="store_village_coverage", threshold=0.9)],
            "enhanced": [
                provenance(indicator="store_village_coverage", threshold=0.95),
                provenance(indicator="logistics_center", threshold=1),
            ],
            "advanced": [provenance(indicator="cost_per_parcel", op="<=", threshold=0.5)],
        },
        "targets_2025": {
            "by": "2025-12-31",
            "items": targets or [provenance(name="basic", goal="basic", indicator="county_tier", threshold=1)],
        },
    }


def write_criteria(path: Path, data: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# --- rating on hand-built counties -------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "tier"),
    [
        ({"store_village_coverage": 0.89, "logistics_center": 1, "cost_per_parcel": 0.1}, 0),
        ({"store_village_coverage": 0.90, "logistics_center": 0, "cost_per_parcel": 0.1}, 1),
        ({"store_village_coverage": 0.96, "logistics_center": 0, "cost_per_parcel": 0.1}, 1),
        ({"store_village_coverage": 0.96, "logistics_center": 1, "cost_per_parcel": 0.6}, 2),
        ({"store_village_coverage": 0.95, "logistics_center": 1, "cost_per_parcel": 0.5}, 3),
        # an advanced-only strength does not lift a county that fails the basic tier
        ({"store_village_coverage": 0.5, "logistics_center": 1, "cost_per_parcel": 0.1}, 0),
    ],
)
def test_rating_on_hand_built_cases(values, tier):
    c = Criteria.model_validate(criteria_dict())
    assert rate(c, values) == tier
    assert min(levels(c, values).values()) == tier


def all_pass(c: Criteria) -> dict[str, float]:
    """Values meeting every criterion: the strictest threshold on each indicator."""
    out: dict[str, float] = {}
    for _, crit in c.criteria():
        old = out.get(crit.indicator)
        pick = max if crit.op == ">=" else min
        out[crit.indicator] = crit.threshold if old is None else pick(old, crit.threshold)
    return out


@pytest.mark.parametrize("path", CRITERIA, ids=[p.stem for p in CRITERIA])
def test_each_shipped_threshold_just_over_and_just_under(path):
    c = load_criteria(path).criteria
    best = all_pass(c)
    assert rate(c, best) == 3
    for k, crit in c.criteria():
        under = best | {crit.indicator: crit.threshold - EPS if crit.op == ">=" else crit.threshold + EPS}
        assert rate(c, under) < k, (path.stem, k, crit.indicator)
        assert levels(c, under)[crit.indicator] < k
        # just at the threshold the criterion passes; the county reaches at least tier k
        # when every lower tier's threshold on the indicator is no stricter (true of both files)
        at = best | {crit.indicator: crit.threshold}
        assert crit.passes(at[crit.indicator]) and rate(c, at) >= k, (path.stem, k, crit.indicator)


@pytest.mark.parametrize("path", CRITERIA, ids=[p.stem for p in CRITERIA])
def test_shipped_criteria_say_where_every_threshold_comes_from(path):
    c = load_criteria(path).criteria
    for _, crit in c.criteria():
        assert (crit.status == "sourced" and crit.source) or (crit.status == "assumed" and crit.reason)
    assert {t.indicator for t in c.targets_2025.items} <= set(BY_NAME)
    assert {crit.indicator for _, crit in c.criteria()} <= BASE_NAMES
    # the shipped files only test indicators that have a weekly criterion level
    assert {crit.indicator for _, crit in c.criteria()} <= set(CRITERION_INDICATORS)


def test_weekly_criterion_levels_match_the_rating(tiny):
    # Shanxi's file leaves some criterion indicators unused: their level is 3 throughout
    model = CountyModel(tiny(**{"evaluation.criteria": str(ROOT / "configs" / "criteria" / "shanxi.yaml")}))
    ts = model.run(progress=False).timeseries
    crits = {crit.indicator for _, crit in model.evaluator.criteria.criteria()}
    level_cols = [f"criterion_{n}_level" for n in CRITERION_INDICATORS if n in crits]
    surveyed = ts["county_tier"].iloc[0]
    assert surveyed == ts[level_cols].iloc[0].min()
    unused = [f"criterion_{n}_level" for n in CRITERION_INDICATORS if n not in crits]
    assert unused and all((ts[c] == 3).all() for c in unused)
    assert (ts[level_cols].min(axis=1) <= 3).all() and set(np.unique(ts[level_cols])) <= {0, 1, 2, 3}


# --- reviews, leading counties and the exit mechanism -------------------------------------------


@pytest.fixture
def run_with(tiny, tmp_path):
    """Run the tiny county to the end of 2025 under criteria with these tiers: ``run_with(tiers, **overrides)``."""

    def run(tiers: dict, **overrides):
        path = write_criteria(tmp_path / "c.yaml", criteria_dict(tiers))
        sc = tiny(**{"timeline.end": "2025-12-31", "map.n_villages": 12, "evaluation.criteria": str(path), **overrides})
        model = CountyModel(sc)
        result = model.run(progress=False)
        return model, result

    return run


ALWAYS = provenance(indicator="chain_retailers", threshold=0)


def test_reviews_fall_on_the_review_day_and_a_sliding_leader_is_removed(run_with, tmp_path):
    # advanced only while the plan is in its launch phase: leading from the 2023 review,
    # then sliding below the leading standard at the 2024 review
    tiers = {
        "basic": [ALWAYS],
        "enhanced": [ALWAYS],
        "advanced": [provenance(indicator="plan_phase", op="<=", threshold=1)],
    }
    _, result = run_with(tiers)
    reviews = result.evaluation["reviews"]
    assert [(r["date"], r["stage"], r["tier"], r["leading"]) for r in reviews] == [
        ("2023-07-01", "survey", 3, False),
        ("2023-11-25", "review", 3, True),
        ("2024-11-30", "review", 2, False),
        ("2025-11-29", "review", 2, False),
    ]
    assert reviews[1]["change"] == "recommended" and reviews[2]["change"].startswith("removed: slid")
    ts = result.timeseries.set_index("date")
    assert ts.loc["2023-11-18", "leading_county"] == 0 and ts.loc["2023-11-25", "leading_county"] == 1
    assert ts.loc["2024-11-23", "leading_county"] == 1 and ts.loc["2024-11-30", "leading_county"] == 0
    assert ts.loc["2024-11-23", "county_tier"] == 3 and ts.loc["2024-11-30", "county_tier"] == 2


def test_leading_status_starts_with_the_plan(run_with, tmp_path):
    tiers = {"basic": [ALWAYS], "enhanced": [ALWAYS], "advanced": [ALWAYS]}
    _, result = run_with(tiers, **{"timeline.start": "2022-01-01"})
    reviews = [r for r in result.evaluation["reviews"] if r["stage"] == "review"]
    assert [(r["date"][:4], r["tier"], r["leading"]) for r in reviews] == [
        ("2022", 3, False),  # rated advanced, but there were no leading counties before the plan
        ("2023", 3, True),
        ("2024", 3, True),
        ("2025", 3, True),
    ]


def test_a_flagged_county_is_not_recommended_until_the_flag_expires(run_with, tmp_path):
    tiers = {"basic": [ALWAYS], "enhanced": [ALWAYS], "advanced": [ALWAYS]}
    audits = [{"date": "2023-11-01", "kind": "audit"}, {"date": "2024-11-01", "kind": "audit"}]
    _, result = run_with(
        tiers,
        **{
            "policy.leakage_share": 0.2,
            "policy.audit_intensity": 0.0,
            "policy.flag_months": 6,
            "policy.events": audits,
        },
    )
    reviews = [r for r in result.evaluation["reviews"] if r["stage"] == "review"]
    assert [(r["flagged"], r["leading"], r["change"]) for r in reviews] == [
        (True, False, None),  # found leaking in November 2023: not recommended
        (True, False, None),  # found again in November 2024
        (False, True, "recommended"),
    ]


# --- criteria files: selection and bad input ----------------------------------------------------


def test_scenario_selects_criteria_relative_to_its_file(tmp_path):
    sub = tmp_path / "criteria"
    sub.mkdir()
    write_criteria(sub / "mine.yaml", criteria_dict())
    scen = tmp_path / "sc.yaml"
    scen.write_text("name: x\nmap: {size: small}\nevaluation:\n  criteria: criteria/mine.yaml\n")
    sc = load_scenario(scen)
    model = CountyModel(sc)
    assert model.evaluator.criteria.name == "test"
    shanxi = load_scenario(
        ROOT / "configs" / "scenarios" / "plan.yaml", ["evaluation.criteria=../criteria/shanxi.yaml"]
    )
    assert CountyModel(shanxi).evaluator.criteria.name == "shanxi"


BAD_CRITERIA = [
    (
        {"tiers": {"basic": [provenance(indicator="store_coverage", threshold=0.9)], "enhanced": [ALWAYS],
                   "advanced": [ALWAYS]}},
        "tiers.basic[0].indicator: unknown indicator 'store_coverage'; did you mean",
    ),
    (
        {"tiers": {"basic": [ALWAYS], "enhanced": [provenance(indicator="county_tier", threshold=1)],
                   "advanced": [ALWAYS]}},
        "tiers.enhanced[0].indicator: 'county_tier' is rated from the tiers",
    ),
    (
        {"targets_2025": {"by": "2025-12-31", "items": [provenance(name="x", goal="x", indicator="farm_incom",
                                                                    threshold=1)]}},
        "targets_2025.items[0].indicator: unknown indicator 'farm_incom'",
    ),
    (
        {"tiers": {"basic": [{"indicator": "logistics_center", "threshold": 1, "status": "sourced"}],
                   "enhanced": [ALWAYS], "advanced": [ALWAYS]}},
        "tiers.basic[0]: a sourced value needs a source",
    ),
    ({"tiers": {"basic": [ALWAYS], "enhanced": [ALWAYS], "advanced": []}}, "tiers.advanced"),
    ({"tierz": {}}, "tierz: unknown key"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "needle"), BAD_CRITERIA, ids=[b[1][:40] for b in BAD_CRITERIA])
def test_bad_criteria_name_the_file_and_field(tmp_path, change, needle):
    path = write_criteria(tmp_path / "bad_criteria.yaml", criteria_dict() | change)
    with pytest.raises(InputError) as err:
        load_criteria(path)
    assert needle in err.value.render() and "bad_criteria.yaml" in err.value.render()


def test_missing_criteria_file_names_the_scenario_field(tiny):
    with pytest.raises(InputError) as err:
        tiny(**{"evaluation.criteria": "nowhere/criteria.yaml"})
    assert "evaluation.criteria" in err.value.render() and "nowhere" in err.value.render()


def test_unknown_indicator_in_criteria_exits_2_without_traceback(tmp_path):
    bad = criteria_dict({"basic": [provenance(indicator="no_such_thing", threshold=1)], "enhanced": [ALWAYS],
                         "advanced": [ALWAYS]})  # fmt: skip
    write_criteria(tmp_path / "bad.yaml", bad)
    scen = tmp_path / "sc.yaml"
    scen.write_text("name: x\nmap: {size: small}\nevaluation: {criteria: bad.yaml}\n")
    for args in (["validate", str(scen)], ["run", str(scen), "--out", str(tmp_path / "out")]):
        r = subprocess.run(
            [sys.executable, "-m", "experiments.cli.main", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert r.returncode == 2, r.stderr
        assert "bad.yaml" in r.stderr and "tiers.basic[0].indicator" in r.stderr and "no_such_thing" in r.stderr
        assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


# --- targets and cost-effectiveness on hand-built series -----------------------------------------


def series(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    dates = pd.date_range("2025-11-01", periods=n, freq="7D")
    return pd.DataFrame({"date": dates, **{k: np.asarray(v, dtype=float) for k, v in columns.items()}})


def test_targets_value_met_and_first_met():
    targets = [
        provenance(name="tier", goal="g", indicator="county_tier", threshold=1),
        provenance(name="cost", goal="g", indicator="cost_per_parcel", op="<=", threshold=0.5),
        provenance(name="more", goal="g", indicator="online_share", op="increase"),
    ]
    c = Criteria.model_validate(criteria_dict(targets=targets))
    ts = series(
        county_tier=[0, 1, 1, 0, 1, 1, 1, 1, 1, 1],
        cost_per_parcel=[0.6, 0.6, 0.55, 0.5, 0.49, 0.6, 0.6, 0.6, 0.6, 0.4],
        online_share=[0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.21, 0.1],
    )
    # the target date 2025-12-31 falls in week 9 (2025-12-27); week 10 is after it
    out = {t["name"]: t for t in targets_2025(ts, c)}
    assert out["tier"]["first_met"] == "2025-11-08" and out["tier"]["met"] and out["tier"]["value"] == 1
    assert out["cost"]["value"] == 0.6 and not out["cost"]["met"] and out["cost"]["first_met"] == "2025-11-22"
    assert out["more"]["met"] and out["more"]["first_met"] == "2025-12-27" and out["more"]["threshold"] == 0.2
    assert all(t["evaluated_at"] == "2025-12-27" for t in out.values())


def ledger(spent: dict[str, float], leaked: dict[str, float] | None = None) -> dict:
    from sim.policy.catalogue import PROGRAMMES

    leaked = leaked or {}
    return {
        "by_programme": {p: {"spent": spent.get(p, 0.0), "leaked": leaked.get(p, 0.0)} for p in PROGRAMMES},
    }


def test_cost_effectiveness_against_start_and_against_a_counterfactual():
    weeks = 8
    ts = series(
        express_village_coverage=np.linspace(0.5, 0.75, weeks),
        stores_open=[100] * 4 + [110] * 4,
        newtype_store_share=[0.1] * 4 + [0.2] * 4,
        online_share=[0.20] * 4 + [0.25] * 4,
    )
    facts = RunFacts(villages=200, townships=10, rural_households=1000.0)
    money = ledger({"logistics_center": 900_000.0, "store_upgrade": 100_000.0}, {"store_upgrade": 10_000.0})
    ce = cost_effectiveness(ts, money, facts)
    assert ce["fiscal_cost_total"] == 1_010_000.0
    express = ce["outcomes"]["village_with_express_delivery"]
    assert express["change"] == pytest.approx(50.0)  # 0.5 -> 0.75 of 200 villages
    assert express["yuan_per_unit_all_programmes"] == pytest.approx(1_010_000.0 / 50)
    assert express["yuan_per_unit_aimed_programmes"] == pytest.approx(900_000.0 / 50)
    stores = ce["outcomes"]["village_store"]
    assert stores["change"] == 10 and stores["yuan_per_unit_aimed_programmes"] == pytest.approx(11_000.0)
    assert ce["outcomes"]["newtype_store"]["change"] == pytest.approx(0.2 * 110 - 0.1 * 100)
    assert ce["outcomes"]["online_share_point"]["change"] == pytest.approx(5.0)
    assert "farm_income" in ce["outcomes"]
    # against a counterfactual that improved on its own, the plan's own effect is smaller
    cf = ts.assign(express_village_coverage=0.7, stores_open=110)
    ce_cf = cost_effectiveness(ts, money, facts, counterfactual=cf)
    assert ce_cf["baseline"].startswith("counterfactual")
    assert ce_cf["outcomes"]["village_with_express_delivery"]["change"] == pytest.approx(10.0)
    no_gain = ce_cf["outcomes"]["village_store"]
    assert no_gain["change"] == 0 and no_gain["yuan_per_unit_all_programmes"] is None and "note" in no_gain


# --- the plan against no plan ---------------------------------------------------------------------


@pytest.mark.slow
def test_plan_reaches_a_higher_tier_than_the_baselines_on_the_median_county():
    # the same median county and seed without the plan (no_plan.yaml), and the default
    # policy mix on the default median county (baseline.yaml); screened at 4 households
    # per agent for speed
    screening = ["population.households_per_agent=4", "outputs.figures=false", "outputs.progress=off"]
    tiers = {}
    for name in ("plan", "no_plan", "baseline"):
        sc = load_scenario(ROOT / "configs" / "scenarios" / f"{name}.yaml", screening)
        assert sc.map.size == "median" and sc.seed == 20230727
        tiers[name] = CountyModel(sc).run(progress=False).evaluation["tier"]
    assert tiers["plan"] > tiers["no_plan"] and tiers["plan"] > tiers["baseline"], tiers


def test_the_tier_vocabulary_is_one_enum() -> None:
    """Codes, criteria-file names and Chinese names of the tiers all come from Tier."""
    from sim.policy.tiers import RATED_TIERS, TIER_LABELS, TIER_ZH, TIERS, Tier

    assert [int(t) for t in Tier] == [0, 1, 2, 3]
    assert TIERS == ("basic", "enhanced", "advanced") == tuple(t.label for t in RATED_TIERS)
    assert TIER_LABELS == {0: "none", 1: "basic", 2: "enhanced", 3: "advanced"}
    assert TIER_ZH == {0: "未达标", 1: "基本型", 2: "增强型", 3: "提升型"}
    assert set(TIERS) == set(Criteria.model_fields["tiers"].annotation.model_fields)
