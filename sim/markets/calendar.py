"""Weeks, dates and the seasons that move rural spending.

One model step is one week. Steps carry real dates so that the plan's phases, its
November evaluations and Spring Festival fall where they fall in the calendar.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.config import SPRING_FESTIVAL

#: Festival shopping is concentrated in the weeks before the festival (年货 purchases);
#: three weeks is an assumption consistent with the usual "腊月" shopping season.
FESTIVAL_WEEKS = 3

WEEK = dt.timedelta(days=7)


def week_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of every simulated week from ``start`` until ``end`` (inclusive)."""
    n = (end - start).days // 7 + 1
    return [start + i * WEEK for i in range(n)]


def festival_weight(week_start: dt.date) -> float:
    """Share of the Spring Festival shopping season that falls in this week (0 or 1/3 ...).

    Raises:
        ValueError: The year is outside the table (the timeline validator prevents it
            for scenarios; the message says which years are known).
    """
    year = week_start.year
    for y in (year, year + 1):
        if y not in SPRING_FESTIVAL:
            raise ValueError(
                f"no Spring Festival date known for {y}; known years {min(SPRING_FESTIVAL)}-{max(SPRING_FESTIVAL)}"
            )
        festival = SPRING_FESTIVAL[y]
        days_before = (festival - week_start).days
        if 0 < days_before <= FESTIVAL_WEEKS * 7:
            return 1.0 / FESTIVAL_WEEKS
    return 0.0


def spending_season(weeks: list[dt.date], uplift: float) -> np.ndarray:
    """Weekly multiplier on everyday spending, averaging 1 over a year.

    The festival weeks get ``uplift`` of a year's festival extra spread over them; the
    other weeks are scaled down so that annual spending is unchanged (households shift
    spending to the festival, they do not earn more for it).
    """
    w = np.array([festival_weight(d) for d in weeks])
    # A year has 52 weeks of which FESTIVAL_WEEKS carry the uplift: normalise so that the
    # mean over a full year is 1.
    extra = uplift * FESTIVAL_WEEKS * w  # each festival week gets (1 + uplift)
    base = 52.0 / (52.0 + uplift * FESTIVAL_WEEKS)
    return base * (1.0 + extra)


def month_starts(weeks: list[dt.date]) -> np.ndarray:
    """True for the first simulated week of each calendar month (monthly decisions)."""
    flags = np.zeros(len(weeks), dtype=bool)
    for i, d in enumerate(weeks):
        flags[i] = i == 0 or d.month != weeks[i - 1].month
    return flags


def year_starts(weeks: list[dt.date]) -> np.ndarray:
    """True for the first simulated week of each calendar year (budgets arrive)."""
    flags = np.zeros(len(weeks), dtype=bool)
    for i, d in enumerate(weeks):
        flags[i] = i == 0 or d.year != weeks[i - 1].year
    return flags
