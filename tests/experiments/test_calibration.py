"""Calibration: identifiability on synthetic data from the model itself, and the fit report."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from experiments.national.calibration import (
    CalibrationTarget,
    Parameter,
    calibrate,
    load_calibration,
    run_calibration,
    simulate_national,
)
from experiments.spec.ensemble import apply_values
from sim.errors import InputError

TYPOLOGY = """stratum,region,map_region,size,county_units,logistics_center_share
c,central,central_hill,small,2,0.5
"""
PATH = "adoption.buy_imitation_per_month"


def _ensemble(tmp_path: Path) -> dict:
    (tmp_path / "typ.csv").write_text(TYPOLOGY)
    (tmp_path / "s.yaml").write_text(
        "timeline: {start: 2023-11-06, end: 2024-12-31}\n"
        "population: {households_per_agent: 20}\noutputs: {figures: false, progress: 'off'}\n"
    )
    return {
        "typology": str(tmp_path / "typ.csv"),
        "scenario": str(tmp_path / "s.yaml"),
        "sample": "full",
        "national_count": None,
        "seed": 3,
        "years": [2023, 2024],
    }


def test_identifiability_recovers_known_imitation_rate(tmp_path: Path) -> None:
    ens = _ensemble(tmp_path)
    true = 0.25
    synthetic = simulate_national(ens, {PATH: true}, seed=7, replicates=1, workers=1, base_dir=None).set_index(
        ["indicator", "year"]
    )
    value = float(synthetic.loc[("online_spending", 2024), "mean"])
    # the target must move with the parameter, or recovery would prove nothing
    other = simulate_national(ens, {PATH: 0.05}, seed=7, replicates=1, workers=1, base_dir=None).set_index(
        ["indicator", "year"]
    )
    assert abs(float(other.loc[("online_spending", 2024), "mean"]) - value) > 0.02 * value
    target = CalibrationTarget(indicator="online_spending", year=2024, value=value, scale=0.01 * value)
    fit = calibrate(ens, [Parameter(path=PATH, low=0.02, high=0.6)], [target], max_evaluations=12, seed=7)
    assert abs(fit.values[PATH] - true) < 0.1 * (0.6 - 0.02)
    assert list(fit.report.columns) == [
        "series",
        "indicator",
        "year",
        "official",
        "simulated",
        "residual",
        "scaled_residual",
    ]


def test_short_calibration_writes_fit_report_and_values(tmp_path: Path) -> None:
    spec = {
        "name": "short",
        "ensemble": _ensemble(tmp_path),
        "parameters": [{"path": PATH, "low": 0.02, "high": 0.2}],
        "targets": [{"indicator": "express_village_coverage", "year": 2024, "value": 0.95, "scale": 0.05}],
        "max_evaluations": 2,
    }
    f = tmp_path / "cal.yaml"
    f.write_text(yaml.safe_dump(spec))
    fit, values = run_calibration(f, tmp_path / "out")
    record = yaml.safe_load(values.read_text())
    assert record["values"][PATH] == pytest.approx(fit.values[PATH])
    assert 0.02 <= record["values"][PATH] <= 0.2
    report = (tmp_path / "out" / record["report"]).read_text()
    assert "express_village_coverage" in report and "residual" in report
    assert values.name == "short.yaml" and record["date"] and record["data"] == "explicit targets"
    assert (tmp_path / "out" / "short_fit.png").stat().st_size > 5_000


def test_one_parameter_may_set_several_settings_of_the_ensemble() -> None:
    p = Parameter(
        path="ensemble/development/logistics.cold_storage_at_start/above",
        low=0.5,
        high=0.99,
        also=["ensemble/development/logistics.center_at_start/above"],
    )
    assert p.settings(0.8) == {
        "ensemble/development/logistics.cold_storage_at_start/above": 0.8,
        "ensemble/development/logistics.center_at_start/above": 0.8,
    }
    ens = {
        "overrides": {"a.b": 1},
        "development": {
            "logistics.cold_storage_at_start": {"above": 0.1, "value": True},
            "logistics.center_at_start": {"above": 0.1, "value": True},
        },
    }
    out = apply_values(ens, {**p.settings(0.8), "adoption.buy_imitation_per_month": 0.2})
    assert {a["above"] for a in out["development"].values()} == {0.8}
    assert out["overrides"] == {"a.b": 1, "adoption.buy_imitation_per_month": 0.2}
    assert ens["development"]["logistics.center_at_start"]["above"] == 0.1  # the caller's copy is untouched


def test_bad_calibration_spec_names_field(tmp_path: Path) -> None:
    f = tmp_path / "cal.yaml"
    f.write_text(
        yaml.safe_dump(
            {"name": "x", "ensemble": {}, "parameters": [{"path": PATH, "low": 1, "high": 0}], "targets": [{}]}
        )
    )
    with pytest.raises(InputError, match="parameters") as err:
        load_calibration(f)
    assert "cal.yaml" in str(err.value)


def test_several_parameters_search_the_whole_box(tmp_path: Path) -> None:
    ens = _ensemble(tmp_path)
    params = [
        Parameter(path=PATH, low=0.02, high=0.4),
        Parameter(path="carriers.village_delivery_fee", low=0.4, high=1.6),
    ]
    target = CalibrationTarget(indicator="express_village_coverage", year=2024, value=0.95, scale=0.05)
    fit = calibrate(ens, params, [target], max_evaluations=3, seed=7)
    assert fit.trace is not None and len(fit.trace) == fit.evaluations >= 3
    # the fit is the best point the search evaluated, inside the bounds
    assert fit.objective == pytest.approx(fit.trace["objective"].min())
    assert 0.02 <= fit.values[PATH] <= 0.4 and 0.4 <= fit.values["carriers.village_delivery_fee"] <= 1.6
