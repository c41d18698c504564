"""The national ensemble: typology weights, spec expansion, and stratified vs full estimates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from experiments.ensemble import (
    NATIONAL_COUNTY_UNITS,
    counties,
    load_typology,
    national_indicators,
    parse_ensemble,
    write_national,
)
from experiments.runner import run_experiment
from experiments.spec import load_spec, spec_from_dict
from sim.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
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
