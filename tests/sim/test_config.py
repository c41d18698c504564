"""The scenario schema: defaults, units, overrides and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config import Scenario, json_schema, load_scenario
from sim.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_baseline_loads_with_the_names_other_tools_rely_on():
    sc = load_scenario(ROOT / "configs/scenarios/baseline.yaml")
    assert sc.map.region in ("east_plain", "central_hill", "west_mountain", "northeast_plain")
    assert sc.map.size in ("small", "median", "large")
    assert sc.population.households_per_agent >= 1
    assert 0 <= sc.policy.store_upgrade_subsidy <= 1
    assert isinstance(sc.seed, int)


@pytest.mark.parametrize(
    "path",
    sorted(str(p.relative_to(ROOT)) for d in ("scenarios", "reference") for p in (ROOT / "configs" / d).glob("*.yaml")),
)
def test_every_shipped_scenario_is_valid(path):
    """A scenario the project ships must load (three policy packages once failed: their budget
    weights stopped adding up to 1 when programmes were added to the catalogue)."""
    assert isinstance(load_scenario(ROOT / path), Scenario)


def test_every_field_has_unit_meaning_and_default():
    schema = json_schema()
    defs = schema.get("$defs", {})
    checked = 0
    for model in [schema, *defs.values()]:
        for name, prop in model.get("properties", {}).items():
            if "$ref" in prop or any("$ref" in x for x in prop.get("allOf", [])):
                continue  # a section, described by its own model
            assert prop.get("description"), f"{model.get('title')}.{name} has no meaning"
            assert prop.get("unit"), f"{model.get('title')}.{name} has no unit"
            assert "default" in prop, f"{model.get('title')}.{name} has no default"
            checked += 1
    assert checked > 60


def test_overrides_apply_and_validate(tmp_path):
    p = write(tmp_path, "name: x\n")
    sc = load_scenario(p, ["policy.store_upgrade_subsidy=0.5", "map.size=small", "outputs.figures=false"])
    assert sc.policy.store_upgrade_subsidy == 0.5
    assert sc.map.size == "small"
    assert sc.outputs.figures is False
    with pytest.raises(InputError, match=r"policy\.store_upgrade_subsidy"):
        load_scenario(p, ["policy.store_upgrade_subsidy=1.5"])
    with pytest.raises(InputError, match=r"policy\.no_such_lever.*unknown key"):
        load_scenario(p, ["policy.no_such_lever=1"])
    with pytest.raises(InputError, match="must look like"):
        load_scenario(p, ["policy.store_upgrade_subsidy"])


def test_digest_tracks_every_value():
    a, b = Scenario(), Scenario()
    assert a.digest() == b.digest()
    b.policy.store_upgrade_subsidy = 0.31
    assert a.digest() != b.digest()


BAD = [
    ("malformed yaml", "name: [unclosed\n", r"s\.yaml.*not valid YAML"),
    ("empty file", "", r"s\.yaml.*is empty"),
    ("not a mapping", "- a\n- b\n", r"s\.yaml.*must be a mapping"),
    (
        "unknown key",
        "name: x\npolicy:\n  subsidy_rate: 0.3\n",
        r"s\.yaml.*policy\.subsidy_rate: unknown key; allowed keys here: .*store_upgrade_subsidy",
    ),
    ("unknown section", "name: x\ncarrierz: {}\n", r"carrierz: unknown key"),
    ("wrong type", "name: x\nseed: many\n", r"seed: .*integer"),
    (
        "out of range",
        "name: x\npolicy:\n  store_upgrade_subsidy: 1.5\n",
        r"policy\.store_upgrade_subsidy: .*less than or equal to 1",
    ),
    ("negative", "name: x\npopulation:\n  households_per_agent: 0\n", r"population\.households_per_agent"),
    ("bad choice", "name: x\nmap:\n  region: mars\n", r"map\.region: must be one of .*east_plain"),
    (
        "nan",
        "name: x\npolicy:\n  store_upgrade_subsidy: .nan\n",
        r"policy\.store_upgrade_subsidy: must be a finite number",
    ),
    ("infinity", "name: x\npolicy:\n  annual_budget: .inf\n", r"policy\.annual_budget: must be a finite number"),
    (
        "impossible timeline",
        "name: x\ntimeline:\n  start: 2025-01-01\n  end: 2024-01-01\n",
        r"timeline.*end must be after",
    ),
    ("timeline too far", "name: x\ntimeline:\n  end: 2040-01-01\n", r"timeline must lie within"),
    ("file map without file", "name: x\nmap:\n  source: file\n", r"settlements_file is not set"),
    (
        "villages fewer than townships",
        "name: x\nmap:\n  n_townships: 10\n  n_villages: 5\n",
        r"n_villages must be at least",
    ),
]


@pytest.mark.parametrize(("case", "text", "pattern"), BAD, ids=[b[0] for b in BAD])
def test_bad_scenarios_give_clear_errors(tmp_path, case, text, pattern):
    p = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_scenario(p)
    message = err.value.render()
    assert str(p) in message
    import re

    assert re.search(pattern, message, re.S), message
    assert "Traceback" not in message and "pydantic" not in message.lower()


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="is a directory"):
        load_scenario(tmp_path)


def test_not_utf8(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_scenario(p)


def test_yaml_is_read_with_the_safe_loader(tmp_path):
    p = write(tmp_path, "name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_scenario(p)
