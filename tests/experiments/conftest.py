"""Fixtures shared by the tests of ``experiments``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests import helpers


@pytest.fixture(scope="session")
def tiny_spec() -> Callable[..., Path]:
    """The tiny-grid spec writer (``tests.helpers.tiny_spec``): ``tiny_spec(tmp_path, name="tiny", **changes)``.

    It writes a small grid spec (3 points × 2 replicates on the baseline scenario at
    ``helpers.TINY_GRID_OVERRIDES`` unless changed) and returns its path.
    """
    return helpers.tiny_spec
