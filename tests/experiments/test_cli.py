"""The countysim command end to end, in a subprocess as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.policy.indicators import INDICATORS

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "configs/scenarios/baseline.yaml"
FAST = ["--set", "map.size=small", "--set", "population.households_per_agent=5", "--set", "timeline.end=2024-03-31"]


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "experiments.cli.main", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_run_writes_every_output(tmp_path):
    out = tmp_path / "out"
    r = cli("run", str(BASELINE), *FAST, "--seed", "5", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "outputs written to" in r.stdout and "store_village_coverage" in r.stdout
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts.columns) == ["step", "date"] + [i.name for i in INDICATORS]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["indicators"]) == {i.name for i in INDICATORS}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5
    assert manifest["scenario"]["map"]["size"] == "small"
    assert len(manifest["scenario_hash"]) == 64
    assert manifest["versions"]["mesa"].startswith("3.5")
    assert manifest["git_commit"]
    # drawn by two worker processes (experiments/cli/figures.py), all there before the folder is
    for name in ("county_map", "logistics_map", "farm_sales", "targets", "channel_shares"):
        for ext in ("png", "svg"):
            assert (out / "figures" / f"{name}.{ext}").stat().st_size > 1000
    # nothing left from staging
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_run_same_seed_same_series(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert cli("run", str(BASELINE), *FAST, "--no-figures", "--out", str(out)).returncode == 0
    assert pd.read_parquet(a / "timeseries.parquet").equals(pd.read_parquet(b / "timeseries.parquet"))


def test_validate_good_and_bad(tmp_path):
    ok = cli("validate", str(BASELINE))
    assert ok.returncode == 0 and "valid" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\npolicy:\n  store_upgrade_subsidy: 2\n")
    r = cli("validate", str(bad))
    assert r.returncode == 2
    assert "bad.yaml" in r.stderr and "policy.store_upgrade_subsidy" in r.stderr
    assert "Traceback" not in r.stderr


def test_bad_map_file_exits_2_and_leaves_nothing(tmp_path):
    settlements = tmp_path / "s.csv"
    settlements.write_text(
        "id,name,kind,lon,lat,population\nC,Town,county_town,112,27,1000\nT,Tw,township,112.1,27,500\n"
        "V,Vil,village,112.2,27,-3\n"
    )
    scen = tmp_path / "sc.yaml"
    scen.write_text("name: x\nmap:\n  source: file\n  settlements_file: s.csv\n")
    out = tmp_path / "out"
    r = cli("run", str(scen), "--out", str(out))
    assert r.returncode == 2, r.stderr
    assert "s.csv" in r.stderr and "population" in r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()
    assert cli("validate", str(scen)).returncode == 2


def test_codistribution_member_that_is_not_a_carrier(tmp_path):
    scen = tmp_path / "sc.yaml"
    scen.write_text("name: x\nmap:\n  size: small\npolicy:\n  codistribution:\n    members: [post, NOPE]\n")
    r = cli("validate", str(scen))
    assert r.returncode == 2
    assert "policy.codistribution.members" in r.stderr and "NOPE" in r.stderr and "Traceback" not in r.stderr


def test_unwritable_output_is_an_input_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = cli("run", str(BASELINE), *FAST, "--out", str(blocker / "sub"))
    assert r.returncode == 2 and "--out" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("args", [["run", "missing.yaml"], ["validate", "missing.yaml"]])
def test_missing_scenario(args):
    r = cli(*args)
    assert r.returncode == 2 and "missing.yaml: file not found" in r.stderr


def test_bad_override_and_seed():
    r = cli("run", str(BASELINE), "--set", "policy.store_upgrade_subsidy=high")
    assert r.returncode == 2 and "policy.store_upgrade_subsidy" in r.stderr
    r = cli("run", str(BASELINE), "--seed", "-1")
    assert r.returncode == 2 and "--seed" in r.stderr


def test_schema_is_json_with_units():
    r = cli("schema")
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    assert schema["$defs"]["PolicyConfig"]["properties"]["store_upgrade_subsidy"]["unit"] == "share"


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "countysim"
    assert exe.exists()
    r = subprocess.run([str(exe), "indicators"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "store_village_coverage" in r.stdout


def test_plan_run_prints_tier_leading_status_and_targets(tmp_path):
    from sim.policy.catalogue import PROGRAMMES

    out = tmp_path / "plan"
    plan = ROOT / "configs/scenarios/plan.yaml"
    r = cli("run", str(plan), *FAST, "--no-figures", "--counterfactual", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "county tier: " in r.stdout and "leading county (领跑县): " in r.stdout
    assert "2025 targets" in r.stdout and "basic_tier_or_above" in r.stdout
    summary = json.loads((out / "summary.json").read_text())
    targets = {t["name"]: t for t in summary["targets_2025"]}
    assert {"leading_county", "basic_tier_or_above", "express_to_villages", "logistics_center"} <= set(targets)
    assert all({"value", "met", "first_met"} <= set(t) for t in targets.values())
    ce = summary["cost_effectiveness"]
    assert ce["baseline"].startswith("counterfactual") and set(ce["subsidy_spent_by_programme"]) == set(PROGRAMMES)
    assert {"village_with_express_delivery", "village_store", "online_share_point", "farm_income"} <= set(
        ce["outcomes"]
    )
    assert abs(summary["budget"]["unaccounted"]) < 1e-6 * max(summary["budget"]["received"], 1.0)
    assert summary["evaluation"]["reviews"][0]["stage"] == "survey"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["criteria"]["name"] == "national" and len(manifest["criteria"]["sha256"]) == 64
