"""Dated one-off policy events on Mesa's event list (a centre opening, a grant arriving)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from mesa.time.events import Priority

if TYPE_CHECKING:
    from sim.model import CountyModel


def week_index_on_or_after(model: CountyModel, day: dt.date) -> int | None:
    """Index of the first simulated week starting on or after ``day`` (None: after the run)."""
    return next((k for k, d in enumerate(model.dates) if d >= day), None)


def schedule_on(
    model: CountyModel, day: dt.date, action: Callable[[], object], priority: Priority = Priority.DEFAULT
) -> bool:
    """Put a one-off action on Mesa's event list, to run just before the first week
    starting on or after ``day``.

    Mesa 3.5 runs week ``k`` (0-based) at time ``k + 1``; an event at ``k + 0.5`` runs
    after week ``k - 1`` is recorded and before week ``k`` begins. While it runs, the
    model's ``today`` is week ``k``'s first day, so the event is dated, and finds
    programme windows open or shut, as of the week it precedes. Mesa holds event
    callables weakly, so the model keeps a strong reference (``model.keep_alive``).

    Args:
        model: The model.
        day: The date.
        action: What to do (called without arguments).
        priority: Among events before the same week, ``Priority.HIGH`` ones run first
            (the year's funds arrive before anything is paid from them).

    Returns:
        False (nothing scheduled) when the day falls after the run's last week.
    """
    k = week_index_on_or_after(model, day)
    if k is None:
        return False
    k = max(k, int(model.time))  # never in the past: the next gap between weeks at the earliest

    def run() -> None:
        model.today = model.dates[k]
        action()

    model.keep_alive.append(run)
    model.schedule_event(run, at=k + 0.5, priority=priority)
    return True
