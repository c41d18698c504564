"""The ODD description (docs/ODD.md) stays in step with the code.

Every scenario field (by dotted path) and every indicator must be named in the ODD, in
backticks, so that adding a parameter or an indicator without documenting it fails here.
This checks only that the names are there; what the text says about them is reviewed by
people.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from sim.config import Scenario
from sim.policy.indicators import INDICATORS

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


def _sections_in(annotation: typing.Any) -> list[type[BaseModel]]:
    """Scenario sections inside a field's type (``Section``, ``Section | None``, ``list[Section]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _sections_in(arg)]


def field_paths(model: type[BaseModel] = Scenario, prefix: str = "") -> Iterator[str]:
    """Every field of the scenario schema as a dotted path, sections included."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path
        for section in _sections_in(field.annotation):
            yield from field_paths(section, f"{path}.")


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
