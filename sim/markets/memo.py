"""Values worked out from arrays that seldom change, kept until one of them does.

The weekly decisions read per-household terms that depend only on inputs which change
monthly or at a route re-plan (store ratios per settlement, the door-delivery share, who
buys or sells online): gathering and combining them afresh every week was a good part of
the weekly decision's memory traffic. A :class:`Remembered` value is recomputed exactly
as before whenever any input's contents differ from the last call's, so the numbers are
the same as recomputing every week; only the work is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class Remembered:
    """One value computed by ``make(*inputs)``, kept while the inputs' contents are unchanged.

    Inputs are compared by value (a copy of each is kept), not by identity, because the
    model updates some of them in place (e.g. ``door_share``, ``online_buyer``).
    """

    def __init__(self, make: Callable[..., Any]):
        self._make = make
        self._inputs: tuple[np.ndarray, ...] | None = None
        self._value: Any = None

    def get(self, *inputs: np.ndarray | float) -> Any:
        """The value for these inputs, recomputed only if one of them has changed."""
        last = self._inputs
        if last is not None and len(last) == len(inputs) and all(map(_same, last, inputs)):
            return self._value
        self._value = _frozen(self._make(*inputs))
        self._inputs = tuple(np.array(x, copy=True) for x in inputs)
        return self._value


def _same(kept: np.ndarray, now: np.ndarray | float) -> bool:
    """Whether ``now`` has the same shape, dtype and contents as ``kept`` (NaN never equal)."""
    now = np.asarray(now)
    return kept.shape == now.shape and kept.dtype == now.dtype and bool((kept == now).all())


def _frozen(value: Any) -> Any:
    """``value`` with its arrays (alone or in a tuple) made read-only: every caller shares
    them until the inputs change, so none may write into them."""
    for a in value if isinstance(value, tuple) else (value,):
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    return value
