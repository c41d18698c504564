"""Shared fixtures: small, fast scenarios built from the schema's defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sim.config import Scenario, apply_overrides, scenario_from_dict

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
    import copy

    data = apply_overrides(copy.deepcopy(TINY), {k: v for k, v in overrides.items()})
    return scenario_from_dict(data, source="tiny")


@pytest.fixture
def make_scenario() -> Callable[..., Scenario]:
    return tiny
