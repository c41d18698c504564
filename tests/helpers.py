"""Plain code shared by the tests: constants, and what scripts outside pytest use too.

Tests ask for the scenario and spec factories through the fixtures in ``conftest.py``
(``tiny``, ``tiny_spec``); this module holds what is needed when a module is imported
(constants, ``parametrize`` lists) and what the reproduction scripts in ``docs/ODD.md``
import (``from tests.helpers import tiny``). No test imports ``conftest`` or another test
module.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from sim.config import Scenario, apply_overrides, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "scenarios" / "baseline.yaml"

# --- the tiny county ---------------------------------------------------------------------------

#: A small county over one year at four households per agent: a run takes well under a second.
TINY: dict[str, Any] = {
    "name": "tiny",
    "seed": 7,
    "timeline": {"start": "2023-07-01", "end": "2024-06-30"},
    "map": {"region": "central_hill", "size": "small"},
    "population": {"households_per_agent": 4},
    "outputs": {"figures": False, "progress": "off"},
}


def tiny(**overrides: Any) -> Scenario:
    """The tiny scenario with dotted-path overrides, e.g. ``tiny(**{"policy.annual_budget": 1e7})``."""
    data = apply_overrides(copy.deepcopy(TINY), dict(overrides))
    return scenario_from_dict(data, source="tiny")


# --- the tiny experiment -----------------------------------------------------------------------

#: The tiny grid's base: the baseline scenario on a small map, five households per agent, eight months.
TINY_GRID_OVERRIDES: dict[str, Any] = {
    "map.size": "small",
    "population.households_per_agent": 5,
    "timeline.end": "2024-02-29",
    "outputs.figures": False,
    "outputs.progress": "off",
}
#: What must match between two executions of one experiment (all but timings and worker names).
RESULT_COLUMNS_EXCLUDED = ["wall_seconds", "worker"]


def tiny_spec(tmp_path: Path, name: str = "tiny", **changes: object) -> Path:
    """Write a small grid spec (3 points × 2 replicates unless changed) and return its path."""
    data: dict = {
        "name": name,
        "base": {"scenario": str(BASELINE), "overrides": dict(TINY_GRID_OVERRIDES)},
        "levers": [{"path": "policy.store_upgrade_subsidy", "values": [0.0, 0.4, 0.8]}],
        "design": "grid",
        "replicates": 2,
        "metrics": [
            "store_village_coverage",
            "newtype_store_share",
            "subsidy_spent",
            {"indicator": "online_share", "stat": "mean", "year": 2024},
            {"indicator": "newtype_store_share", "stat": "first_reaching", "threshold": 0.25},
        ],
        "seed": 11,
        "backend": "inprocess",
    }
    data.update(changes)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- the scenario schema -----------------------------------------------------------------------


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
