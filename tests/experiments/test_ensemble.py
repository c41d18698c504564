"""The national ensemble: typology weights, spec expansion, and stratified vs full estimates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from experiments.national.ensemble import national_indicators, write_national
from experiments.run.runner import run_experiment
from experiments.spec.ensemble import FIDELITY, NATIONAL_COUNTY_UNITS, counties, load_typology, parse_ensemble
from experiments.spec.experiment import load_spec, spec_from_dict
from sim.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
TYPOLOGY = ROOT / "configs" / "data" / "county_typology.csv"

#: A tiny typology: two small-county strata of 5 and 4 units (full ensemble = 9 runs).
SMALL = """# test typology
stratum,region,map_region,size,county_units,logistics_center_share
e,east,east_plain,small,5,0.8
w,west,west_mountain,small,4,0.3
"""


def test_national_typology_weights_sum_to_national_count() -> None:
    strata = load_typology(TYPOLOGY)
    assert sum(s.county_units for s in strata) == NATIONAL_COUNTY_UNITS == 1871
    for sample in ("full", "stratified"):
        ens = parse_ensemble({"typology": str(TYPOLOGY), "scenario": "x.yaml", "sample": sample, "per_stratum": 3}, "t")
        cs = counties(ens)
        assert sum(c.weight for c in cs) == pytest.approx(1871)
        assert len(cs) == (1871 if sample == "full" else 3 * len(strata))
        assert len({c.overrides["map.map_seed"] for c in cs}) == len(cs)  # every county its own map


def test_bad_typology_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "typ.csv"
    bad.write_text(SMALL.replace("5,0.8", "5,1.8"))
    with pytest.raises(InputError, match="logistics_center_share") as err:
        load_typology(bad, None)
    assert "typ.csv" in str(err.value)
    bad.write_text(SMALL)
    with pytest.raises(InputError, match="sum to 9, not the national count 1871"):
        load_typology(bad)


def test_spec_rejects_base_with_ensemble(tmp_path: Path) -> None:
    typ = tmp_path / "typ.csv"
    typ.write_text(SMALL)
    data = {
        "name": "x",
        "base": "a.yaml",
        "ensemble": {"typology": str(typ), "scenario": "a.yaml", "national_count": None},
        "design": "list",
    }
    with pytest.raises(InputError, match="either base or ensemble"):
        spec_from_dict(data)


def test_national_2025_spec_expands() -> None:
    spec = load_spec(ROOT / "configs" / "experiments" / "national_2025.yaml")
    assert len(spec.base) == 36
    assert {m.column for m in spec.metrics} >= {"tier_2025", "leading_2025", "express_2025", "farm_online_2025"}


def _typology(tmp_path: Path) -> Path:
    typ = tmp_path / "typ.csv"
    typ.write_text(SMALL)
    return typ


def test_fidelity_screening_sets_weight_and_schedule_of_every_county(tmp_path: Path) -> None:
    ens = {"typology": str(_typology(tmp_path)), "scenario": "x.yaml", "national_count": None, "sample": "full"}
    mode = FIDELITY["screening"]
    assert set(mode) == {"population.households_per_agent", "carriers.replan_every_weeks"}
    screening = counties(parse_ensemble({**ens, "fidelity": "screening", "overrides": {"a.b": 1}}, "t"))
    assert len(screening) == 9
    for c in screening:
        assert {k: c.overrides[k] for k in mode} == mode
        assert c.overrides["a.b"] == 1  # the ensemble's own overrides still reach every county
    # full (the default) adds nothing: the counties run as the scenario and overrides say
    full = counties(parse_ensemble(ens, "t"))
    assert all(not set(mode) & set(c.overrides) for c in full)
    # the mode moves no draw: same maps, centres and development levels
    assert [(c.label, c.overrides["map.map_seed"], c.development) for c in full] == [
        (c.label, c.overrides["map.map_seed"], c.development) for c in screening
    ]


def test_fidelity_expands_into_the_bases_of_the_spec(tmp_path: Path) -> None:
    ens = {"typology": str(_typology(tmp_path)), "scenario": "x.yaml", "national_count": None, "fidelity": "screening"}
    spec = spec_from_dict({"name": "f", "ensemble": ens, "design": "list"})
    assert spec.ensemble["fidelity"] == "screening"  # recorded in the resolved spec (and the manifest)
    for base in spec.base:
        for path, value in FIDELITY["screening"].items():
            assert base.overrides[path] == value


@pytest.mark.parametrize("value", ["fast", "Screening", 1])
def test_unknown_fidelity_names_the_field(tmp_path: Path, value: object) -> None:
    ens = {"typology": str(_typology(tmp_path)), "scenario": "x.yaml", "national_count": None, "fidelity": value}
    with pytest.raises(InputError, match=r"ensemble\.fidelity: Input should be 'full' or 'screening'") as err:
        spec_from_dict({"name": "f", "ensemble": ens, "design": "list"})
    assert repr(value) in str(err.value)


def test_fidelity_and_an_override_of_the_same_path_is_an_error(tmp_path: Path) -> None:
    ens = {
        "typology": str(_typology(tmp_path)),
        "scenario": "x.yaml",
        "national_count": None,
        "fidelity": "screening",
        "overrides": {"population.households_per_agent": 7},
    }
    with pytest.raises(InputError, match=r"ensemble\.overrides: population\.households_per_agent is set by"):
        parse_ensemble(ens, "t")
    # with fidelity: full the override is the researcher's to set
    assert (
        counties(parse_ensemble({**ens, "fidelity": "full"}, "t"))[0].overrides["population.households_per_agent"] == 7
    )


def test_bad_fidelity_exits_2_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from experiments.cli.main import main

    spec = tmp_path / "bad.yaml"
    spec.write_text(
        f"name: bad\ndesign: list\nensemble:\n  typology: {_typology(tmp_path)}\n  scenario: x.yaml\n"
        "  national_count: null\n  fidelity: coarse\n"
    )
    assert main(["experiment", str(spec), "--out", str(tmp_path / "out"), "--progress", "off"]) == 2
    err = capsys.readouterr().err
    assert "ensemble.fidelity" in err and "'coarse'" in err and "Traceback" not in err


def test_committed_national_specs_run_in_the_ensemble_mode() -> None:
    from experiments.national.calibration import load_calibration

    mode = FIDELITY["screening"]
    for name in ("national_2025.yaml", "national_full.yaml"):
        spec = load_spec(ROOT / "configs" / "experiments" / name)
        assert spec.ensemble["fidelity"] == "screening", name
        assert all({k: b.overrides[k] for k in mode} == mode for b in spec.base), name
    full = load_spec(ROOT / "configs" / "experiments" / "national_full.yaml")
    assert len(full.base) == NATIONAL_COUNTY_UNITS and full.replicates == 1
    calibration, _, base = load_calibration(ROOT / "configs" / "experiments" / "calibrate_2021_2023.yaml")
    cs = counties(parse_ensemble(calibration.ensemble, "t"), base)
    assert calibration.ensemble["fidelity"] == "screening" and len(cs) == 36
    assert all({k: c.overrides[k] for k in mode} == mode for c in cs)


def _run(tmp_path: Path, typ: Path, sample: str, replicates: int) -> pd.DataFrame:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "timeline: {start: 2023-11-06, end: 2024-12-31}\n"
        "population: {households_per_agent: 20}\noutputs: {figures: false, progress: 'off'}\n"
    )
    ens = {
        "typology": str(typ),
        "scenario": str(scenario),
        "sample": sample,
        "per_stratum": 2,
        "national_count": None,
        "seed": 5,
        "years": [2023, 2024],
    }
    spec = spec_from_dict({"name": f"t_{sample}", "ensemble": ens, "design": "list", "replicates": replicates})
    runs = run_experiment(spec, tmp_path / sample, backend="inprocess", progress=False)
    cs = counties(parse_ensemble(spec.ensemble, "t"))
    if sample == "stratified":  # the files `countysim experiment` writes for an ensemble
        written = write_national(spec.ensemble, None, tmp_path / sample)
        assert (tmp_path / sample / "figures" / "national_projection.png").stat().st_size > 10_000
        assert len(pd.read_csv(tmp_path / sample / "counties.csv")) == 4
        assert len(written) == len(pd.read_csv(tmp_path / sample / "national.csv"))
    return national_indicators(runs, {c.label: c.weight for c in cs}, {c.label: c.stratum for c in cs})


def test_stratified_sample_reproduces_full_ensemble(tmp_path: Path) -> None:
    typ = tmp_path / "typ.csv"
    typ.write_text(SMALL)
    full = _run(tmp_path, typ, "full", 1).set_index(["year", "indicator"])
    strat = _run(tmp_path, typ, "stratified", 1).set_index(["year", "indicator"])
    # the full ensemble has no sampling error; the stratified one states its own
    assert (full["se"] == 0).all()
    checked = 0
    for key in [(2024, "express_village_coverage"), (2024, "online_spending"), (2024, "share_basic_or_better")]:
        f, s = full.loc[key], strat.loc[key]
        assert abs(s["mean"] - f["mean"]) <= 3 * s["se"] + 1e-9 * abs(f["mean"]), key
        checked += 1
    assert checked == 3
    assert set(full.index.get_level_values("indicator")) >= {
        "share_tier_basic",
        "leading_counties",
        "online_spending_growth",
        "farm_online_sales_growth",
    }


def test_development_moves_starting_attributes_together(tmp_path: Path) -> None:
    typ = tmp_path / "typ.csv"
    typ.write_text(SMALL)
    dev = {
        "retailers.county_center_m2": {"low": 3000, "high": 15000},
        "logistics.cold_storage_at_start": {"above": 0.7, "value": True},
        "policy.codistribution.start": {"above": 0.7, "value": "2023-07-01"},
    }
    ens = parse_ensemble(
        {"typology": str(typ), "scenario": "x.yaml", "sample": "full", "national_count": None, "development": dev},
        "t",
    )
    cs = counties(ens)
    for stratum in ("e", "w"):
        levels = sorted(c.development for c in cs if c.stratum == stratum)
        n = len(levels)
        # stratified within the stratum: one level in each 1/n of [0, 1)
        assert [int(x * n) for x in levels] == list(range(n))
    for c in cs:
        assert c.overrides["retailers.county_center_m2"] == pytest.approx(3000 + 12000 * c.development)
        advanced = c.development > 0.7
        assert c.overrides.get("logistics.cold_storage_at_start", False) is advanced
        assert ("policy.codistribution.start" in c.overrides) is advanced
    # without development the draws of the other attributes are unchanged
    plain = counties(parse_ensemble({"typology": str(typ), "scenario": "x.yaml", "national_count": None}, "t"))
    strat = counties(
        parse_ensemble({"typology": str(typ), "scenario": "x.yaml", "national_count": None, "development": dev}, "t")
    )
    assert [c.overrides["map.map_seed"] for c in plain] == [c.overrides["map.map_seed"] for c in strat]


def test_bad_development_attribute_names_field() -> None:
    with pytest.raises(InputError, match=r"ensemble\.development"):
        parse_ensemble({"typology": "t.csv", "scenario": "x.yaml", "development": {"a.b": {"low": 1}}}, "t")
    with pytest.raises(InputError, match=r"ensemble\.development"):
        parse_ensemble(
            {"typology": "t.csv", "scenario": "x.yaml", "development": {"a.b": {"low": 1, "high": 2, "above": 0.5}}},
            "t",
        )


def test_calibrated_values_reach_every_county(tmp_path: Path) -> None:
    typ = tmp_path / "typ.csv"
    typ.write_text(SMALL)
    (tmp_path / "fit.yaml").write_text(
        "name: fit\nvalues:\n  adoption.buy_imitation_per_month: 0.123\n"
        "  ensemble/development/logistics.cold_storage_at_start/above: 0.9\n"
    )
    ens = {
        "typology": str(typ),
        "scenario": "x.yaml",
        "national_count": None,
        "calibrated": "fit.yaml",
        "development": {"logistics.cold_storage_at_start": {"above": 0.1, "value": True}},
    }
    spec = spec_from_dict({"name": "c", "ensemble": ens, "design": "list"}, base_dir=tmp_path)
    assert spec.ensemble["development"]["logistics.cold_storage_at_start"]["above"] == 0.9
    cs = counties(parse_ensemble(spec.ensemble, "t"))
    assert all(c.overrides["adoption.buy_imitation_per_month"] == 0.123 for c in cs)
    assert all(c.overrides.get("logistics.cold_storage_at_start", False) is (c.development > 0.9) for c in cs)
    with pytest.raises(InputError, match=r"ensemble\.calibrated: file not found"):
        spec_from_dict(
            {"name": "c", "ensemble": {**ens, "calibrated": "nope.yaml"}, "design": "list"}, base_dir=tmp_path
        )
    (tmp_path / "bad.yaml").write_text("values:\n  ensemble/nothing/here: 1\n")
    with pytest.raises(InputError, match=r"ensemble\.calibrated: .*no 'nothing'"):
        spec_from_dict(
            {"name": "c", "ensemble": {**ens, "calibrated": "bad.yaml"}, "design": "list"}, base_dir=tmp_path
        )


def test_planning_a_large_ensemble_sets_up_one_world_per_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    from experiments.spec import plan
    from experiments.spec.plan import CHECK_EVERY_WORLD_UP_TO, _check_worlds
    from sim.config import Scenario

    built: list[int] = []
    monkeypatch.setattr(plan, "CountyModel", lambda sc, county=None: built.append(sc.map.map_seed))
    monkeypatch.setattr(plan, "build_map", lambda m, base_dir=None: object())
    few = [Scenario.model_validate({"map": {"size": "small", "map_seed": k}}) for k in range(3)]
    _check_worlds(few, [])
    assert built == [0, 1, 2]  # a sweep's few bases: every world is set up
    built.clear()
    many = [
        Scenario.model_validate({"map": {"size": size, "map_seed": k}})
        for k in range(CHECK_EVERY_WORLD_UP_TO)
        for size in ("small", "median")
    ]
    _check_worlds(many, [])
    assert built == [0, 0]  # an ensemble: one world per kind of generated county


def test_projection_draws_official_series(tmp_path: Path) -> None:
    from experiments.national.ensemble import official_points, projection_figure

    csv = tmp_path / "official.csv"
    csv.write_text(
        "series,year,value,unit\nleading_counties_batch,2023,123,count\n"
        "express_village_coverage,2022,0.95,share\nrural_income_per_capita,2023,21691,CNY\n"
    )
    points = official_points(csv, "t")
    assert sorted(points["indicator"]) == ["express_village_coverage", "leading_counties"]
    national = pd.DataFrame(
        [
            {"year": y, "indicator": ind, "mean": v, "low": v, "high": v}
            for y in (2022, 2023)
            for ind, v in (("leading_counties", 100.0), ("express_village_coverage", 0.9))
        ]
    )
    import matplotlib.pyplot as plt

    fig = projection_figure(national, points)
    labels = [line.get_label() for ax in fig.axes for line in ax.get_lines()]
    plt.close(fig)  # later tests check that no figure is left open
    assert "official: leading_counties" in labels and "official: express_village_coverage" in labels
    with pytest.raises(InputError, match="file not found"):
        official_points(tmp_path / "nope.csv", "t")
    typ = tmp_path / "typ.csv"
    typ.write_text(SMALL)
    ens = {"typology": str(typ), "scenario": "x.yaml", "national_count": None, "official": "missing.csv"}
    with pytest.raises(InputError, match=r"ensemble\.official: file not found"):
        spec_from_dict({"name": "o", "ensemble": ens, "design": "list"}, base_dir=tmp_path)
