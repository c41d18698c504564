"""Metrics of an experiment: an indicator and a statistic of its weekly series.

An experiment keeps one number (or date) per run and metric instead of the whole series,
so that a sweep of thousands of runs stays small and a runs table can go straight into
sensitivity analysis. Every statistic is defined here and nowhere else; the spec
validates against this module and the runner computes with it, so a metric name means
the same thing in the spec, the table and the report.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.policy.indicators import BY_NAME

Stat = Literal["final_year", "final", "mean", "max", "min", "at", "first_reaching", "change"]

#: What each statistic means (shown in errors and docs).
STATS: dict[str, str] = {
    "final_year": "the indicator's own final-year summary (last value, 52-week mean or 52-week sum, per indicator)",
    "final": "the value in the last simulated week",
    "mean": "mean of the weekly values over `year`, or `from`..`to`, or the whole run",
    "max": "largest weekly value over `year`, or `from`..`to`, or the whole run",
    "min": "smallest weekly value over `year`, or `from`..`to`, or the whole run",
    "at": "the value in the week containing `date`",
    "first_reaching": "the first week's date on which the value reaches `threshold` (NaT if never)",
    "change": "the value in the last simulated week minus the value in the first (what an `increase` target of "
    "the 2025 scoreboard compares)",
}

_WINDOW_STATS = ("mean", "max", "min")


class Metric(BaseModel):
    """One column of the runs table: a statistic of one indicator's weekly series.

    Attributes:
        indicator: An indicator name from ``sim.policy.indicators``.
        stat: The statistic (see :data:`STATS`).
        year: Calendar year to take ``mean``/``max``/``min`` over.
        start: First date of the window (YAML key ``from``).
        end: Last date of the window (YAML key ``to``).
        date: The date for ``at``.
        threshold: The level for ``first_reaching``.
        direction: ``above`` (reach from below, value >= threshold) or ``below``.
        name: Column name; derived from the indicator and statistic when omitted.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    indicator: str
    stat: Stat = "final_year"
    year: int | None = Field(None, ge=1900, le=2100)
    start: dt.date | None = Field(None, alias="from")
    end: dt.date | None = Field(None, alias="to")
    date: dt.date | None = None
    threshold: float | None = None
    direction: Literal["above", "below"] = "above"
    name: str | None = Field(None, min_length=1, max_length=120)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # "metrics: [store_village_coverage]" means the final-year value
        return {"indicator": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _consistent(self) -> Metric:
        if self.indicator not in BY_NAME:
            close = difflib.get_close_matches(self.indicator, list(BY_NAME), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(
                f"unknown indicator '{self.indicator}'{hint} (`countysim indicators` lists all {len(BY_NAME)})"
            )
        window = self.year is not None or self.start is not None or self.end is not None
        if window and self.stat not in _WINDOW_STATS:
            raise ValueError(f"year/from/to apply only to the statistics {', '.join(_WINDOW_STATS)}, not '{self.stat}'")
        if self.year is not None and (self.start is not None or self.end is not None):
            raise ValueError("give either year or from/to, not both")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"'to' ({self.end}) is before 'from' ({self.start})")
        if (self.stat == "at") != (self.date is not None):
            raise ValueError("the statistic 'at' needs a date, and only 'at' takes one")
        if (self.stat == "first_reaching") != (self.threshold is not None):
            raise ValueError("the statistic 'first_reaching' needs a threshold, and only it takes one")
        if self.threshold is not None and not math.isfinite(self.threshold):
            raise ValueError("threshold must be a finite number")
        if self.direction != "above" and self.stat != "first_reaching":
            raise ValueError("direction applies only to 'first_reaching'")
        return self

    @property
    def column(self) -> str:
        """The column name in the runs table."""
        if self.name:
            return self.name
        ind = self.indicator
        if self.stat == "final_year":
            return ind
        if self.stat == "final":
            return f"{ind}.final"
        if self.stat == "change":
            return f"{ind}.change"
        if self.stat == "at":
            return f"{ind}.at_{self.date}"
        if self.stat == "first_reaching":
            verb = "first_reaching" if self.direction == "above" else "first_below"
            return f"{ind}.{verb}_{self.threshold:g}"
        if self.year is not None:
            return f"{ind}.{self.stat}_{self.year}"
        if self.start is not None or self.end is not None:
            return f"{ind}.{self.stat}_{self.start or 'start'}_{self.end or 'end'}"
        return f"{ind}.{self.stat}"

    def describe(self) -> dict[str, Any]:
        """The metric's definition as plain data (for the manifest), without unused fields."""
        d = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        if self.stat != "first_reaching":
            d.pop("direction", None)
        return d

    @property
    def is_date(self) -> bool:
        """Whether the metric is a date (``first_reaching``) rather than a number."""
        return self.stat == "first_reaching"

    def window(self) -> tuple[dt.date | None, dt.date | None]:
        """The date window of a windowed statistic (None ends are open)."""
        if self.year is not None:
            return dt.date(self.year, 1, 1), dt.date(self.year, 12, 31)
        return self.start, self.end

    def check_timeline(self, start: dt.date, end: dt.date) -> str | None:
        """Why this metric cannot be taken from a run over ``start``..``end`` (None if it can).

        Checked for every design point before anything runs, so that a metric asking for
        2026 in a run that ends in 2025 is an input error rather than a sweep of NaNs.
        """
        if self.stat == "at":
            assert self.date is not None
            if not start <= self.date <= end:
                return f"date {self.date} is outside the run's timeline {start}..{end}"
        if self.stat in _WINDOW_STATS:
            lo, hi = self.window()
            if (lo is not None and lo > end) or (hi is not None and hi < start):
                return f"the window {lo or 'start'}..{hi or 'end'} does not overlap the run's timeline {start}..{end}"
        return None


def compute(metric: Metric, timeseries: pd.DataFrame, summary: dict[str, float]) -> float | pd.Timestamp:
    """The metric's value for one run.

    Args:
        metric: The metric.
        timeseries: The run's weekly series (``date`` column of week starts, a column per indicator).
        summary: The run's final-year summary (indicator → value).

    Returns:
        A float, or for ``first_reaching`` a timestamp (``pd.NaT`` when never reached).
    """
    if metric.stat == "final_year":
        return float(summary[metric.indicator])
    values = timeseries[metric.indicator].to_numpy(dtype=float)
    dates = pd.DatetimeIndex(timeseries["date"])
    if metric.stat == "final":
        return float(values[-1])
    if metric.stat == "change":
        return float(values[-1] - values[0])
    if metric.stat == "at":
        # the week containing the date: the last week starting on or before it
        k = int(dates.searchsorted(pd.Timestamp(metric.date), side="right")) - 1
        if k < 0:
            raise ValueError(f"{metric.column}: {metric.date} is before the first simulated week")
        return float(values[k])
    if metric.stat == "first_reaching":
        assert metric.threshold is not None
        hit = values >= metric.threshold if metric.direction == "above" else values <= metric.threshold
        idx = np.flatnonzero(hit)
        return pd.Timestamp(dates[idx[0]]) if len(idx) else pd.NaT
    lo, hi = metric.window()
    mask = np.ones(len(values), dtype=bool)
    if lo is not None:
        mask &= dates >= pd.Timestamp(lo)
    if hi is not None:
        mask &= dates <= pd.Timestamp(hi)
    if not mask.any():
        raise ValueError(f"{metric.column}: no simulated week falls in the window {lo or 'start'}..{hi or 'end'}")
    chosen = values[mask]
    return float({"mean": np.mean, "max": np.max, "min": np.min}[metric.stat](chosen))


def compute_all(metrics: tuple[Metric, ...], timeseries: pd.DataFrame, summary: dict[str, float]) -> dict[str, Any]:
    """Every metric of one run, by column name."""
    return {m.column: compute(m, timeseries, summary) for m in metrics}
