"""Fixtures shared by the whole suite (plain shared code is in ``tests/helpers.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sim.config import Scenario
from tests import helpers


@pytest.fixture(scope="session")
def tiny() -> Callable[..., Scenario]:
    """The tiny-county factory (``tests.helpers.tiny``): ``tiny(**{"policy.annual_budget": 1e7})``.

    A small county over one year at four households per agent; a run takes well under a
    second. Session-scoped (it holds no state), so module fixtures and Hypothesis tests can
    use it too.
    """
    return helpers.tiny
