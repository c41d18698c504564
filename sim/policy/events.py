"""Dated one-off policy events on Mesa's event list (a centre opening, a grant arriving),
and the run's calendar of them: facility builds, the year's funds, audits, grants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
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


# --- the run's calendar ----------------------------------------------------------------

#: Months whose first day begins a quarter: each quarter's audit comes at its turn.
QUARTER_MONTHS = (1, 4, 7, 10)


def schedule_facilities(model: CountyModel) -> None:
    """Put the programme's facility builds on the calendar as Mesa events.

    Each build runs just before the first week starting on or after its date
    (:func:`schedule_on`); a build the programme cannot yet pay for, or whose window is
    not open yet, is retried every four weeks. With the policy switched off nothing is
    scheduled: these are the programme's own projects.
    """
    pol = model.config.policy
    if not pol.enabled:
        return
    plans = [
        (pol.logistics_center_date, model.logistics.try_build_center),
        (pol.cold_storage_date, model.logistics.try_build_cold_storage),
        (pol.county_center_date, model.try_upgrade_county_center),
        (pol.ecommerce.livestream_base_date, model.anchors.try_set_up_base),
        (pol.durables.charging_date, model.durables.build_charging),
    ]
    for when, build in plans:
        if when is not None:
            schedule_on(model, when, _retrying(model, build))  # schedule_on keeps it alive


def _retrying(model: CountyModel, build: Callable[[], bool]) -> Callable[[], None]:
    """Wrap a facility build so that it tries again four weeks later until it succeeds:
    roughly monthly, like the firms' decisions; pots fill only when funds or grants
    arrive, so trying every week would change little."""

    def attempt() -> None:
        k = int(model.time)  # events run at k + 0.5, just before week k
        if not build() and k + 4 < model.n_weeks:
            schedule_on(model, model.dates[k + 4], attempt)

    return attempt


def schedule_policy_events(model: CountyModel) -> None:
    """The year's funds before each calendar year's first week (ahead of every other
    event of that week), quarterly audits at each quarter's turn, and the scenario's
    one-off grants and spot checks."""
    gov = model.government
    for k in np.flatnonzero(model.year_start):
        day = model.dates[int(k)]
        schedule_on(model, day, lambda d=day, f=bool(k == 0): gov.new_year(d, first=f), Priority.HIGH)
    first, last = model.dates[0], model.dates[-1]
    for year in range(first.year, last.year + 1):
        for month in QUARTER_MONTHS:
            day = dt.date(year, month, 1)
            if first < day <= last:
                schedule_on(model, day, gov.audit)
    for ev in model.config.policy.events:
        if ev.kind == "grant":
            amount, programme, note = float(ev.amount or 0.0), ev.programme, ev.note
            schedule_on(model, ev.date, lambda a=amount, p=programme, n=note: gov.grant(a, p, n))
        else:
            schedule_on(model, ev.date, lambda: gov.audit(certain=True))
