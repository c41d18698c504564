"""The ODD description (docs/ODD.md) stays in step with the code.

Every scenario field (by dotted path) and every indicator must be named in the ODD, in
backticks, so that adding a parameter or an indicator without documenting it fails here.
This checks only that the names are there; what the text says about them is reviewed by
people.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.policy.indicators import INDICATORS
from tests.helpers import field_paths

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


@pytest.fixture(scope="module")
def odd_names() -> set[str]:
    assert ODD.exists(), f"{ODD} is missing"
    return set(re.findall(r"`([^`\n]+)`", ODD.read_text(encoding="utf-8")))


def test_field_paths_walk_the_sections():
    paths = set(field_paths())
    assert {"seed", "map", "map.region", "policy.store_upgrade_subsidy", "stores.entry_cost"} <= paths


def test_every_scenario_field_is_in_the_odd(odd_names):
    missing = [p for p in field_paths() if p not in odd_names]
    assert not missing, f"scenario fields not named (in backticks) in docs/ODD.md: {', '.join(missing)}"


def test_every_indicator_is_in_the_odd(odd_names):
    missing = [i.name for i in INDICATORS if i.name not in odd_names]
    assert not missing, f"indicators not named (in backticks) in docs/ODD.md: {', '.join(missing)}"
