"""The ODD description (docs/ODD.md) stays in step with the code.

Every scenario field (by dotted path) and every indicator must be named in the ODD, in
backticks, so that adding a parameter or an indicator without documenting it fails here.
This checks only that the names are there; what the text says about them is reviewed by
people.
"""

from __future__ import annotations

import importlib
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


ROOT = Path(__file__).resolve().parents[1]
#: The pages a reader follows to the code: every path or module they name must exist.
GUIDES = ("README.md", "docs/ODD.md", "docs/USER_GUIDE.md", "docs/PERFORMANCE.md", "notebooks/README.md",
          "configs/data/README.md")  # fmt: skip


def _resolves(dotted: str) -> bool:
    """Whether ``sim.a.b`` names a module, or an attribute reachable from the deepest module."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def stale_references(text: str) -> list[str]:
    """Paths (``sim/...``, ``experiments/...``, ``tests/...``) and dotted names (``sim.x.y``)
    in backticks that no longer exist."""
    paths = re.findall(r"`((?:sim|experiments|tests|benchmarks|configs)/[\w./-]*)`", text)
    names = re.findall(r"`((?:sim|experiments)(?:\.\w+)+)(?:\(\))?`", text)
    return [p for p in paths if not (ROOT / p.rstrip("/")).exists()] + [n for n in names if not _resolves(n)]


@pytest.mark.parametrize("guide", GUIDES)
def test_docs_name_paths_and_modules_that_exist(guide: str) -> None:
    stale = stale_references((ROOT / guide).read_text(encoding="utf-8"))
    assert not stale, f"{guide} names what no longer exists: {', '.join(sorted(set(stale)))}"


def test_stale_references_are_caught() -> None:
    assert stale_references("see `sim/markets.py` and `sim.policy.catalogue.schedule_on`") == [
        "sim/markets.py",
        "sim.policy.catalogue.schedule_on",
    ]
    assert stale_references("see `sim/markets/channels.py` and `sim.policy.events.schedule_on`") == []
