"""Tier criteria (基本型 / 增强型 / 提升型), the November reviews, leading counties, and the
plan's 2025 scoreboard.

The criteria live in a YAML file (``configs/criteria/``) that the scenario selects with
``evaluation.criteria``; the file's schema and loader are in :mod:`sim.config.criteria`,
because the file is input, checked with the scenario before anything runs. Every
threshold is marked ``sourced`` (with its source) or ``assumed`` (with the reason),
because the national Guide's text is not public and a researcher must be able to see,
and swap, what is assumed.

Rating rule: a county is at tier k (1 basic, 2 enhanced, 3 advanced) when it meets every
criterion of tiers 1..k; 0 when it fails a basic criterion. The county is surveyed on its
first week (the plan's 调研摸底, due by August 2023) and reviewed once a year on the
criteria file's review day, by default 25 November: the plan (section 5(3)) has provinces
recommend counties at the advanced tier as leading counties (领跑县) "before the end of
November each year", and the first batch was announced on 2023-11-25. A county rated at
``leading.min_tier`` or above, and not flagged by an audit, becomes a leading county; a
leading county that slides below it, or is flagged, is removed at the review (the exit
mechanism, 退出机制).

Everything here reads indicator values by name (:mod:`sim.policy.indicators`), so the rating of
a county is a pure function of its indicators and the criteria file; the hand-built cases
in ``tests/test_evaluation.py`` use that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from sim.config import Criteria, LoadedCriteria
from sim.policy.catalogue import BY_PROGRAMME, PROGRAMMES
from sim.policy.events import schedule_on
from sim.policy.indicators import BY_NAME
from sim.policy.tiers import TIER_LABELS, TIER_ZH, TIERS

if TYPE_CHECKING:
    from sim.model import CountyModel

#: Weeks averaged for the start and end level of a weekly rate (``mean`` indicators) in
#: cost-effectiveness: a month smooths week-to-week spending noise without reaching into
#: the Spring Festival weeks of a run that starts in July and ends in December.
LEVEL_WEEKS = 4


# --- rating ------------------------------------------------------------------------------


def rate(criteria: Criteria, values: dict[str, float]) -> int:
    """The county's tier: the highest k whose criteria, and those of every tier below, all pass."""
    tier = 0
    for k, name in enumerate(TIERS, start=1):
        if not all(c.passes(values[c.indicator]) for c in getattr(criteria.tiers, name)):
            break
        tier = k
    return tier


def levels(criteria: Criteria, values: dict[str, float]) -> dict[str, int]:
    """For each indicator the criteria name: the highest tier whose thresholds on it (and
    on it at every lower tier) pass. A tier with no threshold on the indicator does not
    hold it back, so the county's tier is the smallest level whenever each tier has criteria."""
    out: dict[str, int] = {}
    for name in {c.indicator for _, c in criteria.criteria()}:
        level = 0
        for k, tier in enumerate(TIERS, start=1):
            if not all(c.passes(values[name]) for c in getattr(criteria.tiers, tier) if c.indicator == name):
                break
            level = k
        out[name] = level
    return out


def results(criteria: Criteria, values: dict[str, float]) -> list[dict[str, Any]]:
    """Every criterion with the county's value and pass/fail."""
    return [
        {
            "tier": TIERS[k - 1],
            "indicator": c.indicator,
            "op": c.op,
            "threshold": c.threshold,
            "value": float(values[c.indicator]),
            "pass": bool(c.passes(values[c.indicator])),
            "status": c.status,
        }
        for k, c in criteria.criteria()
    ]


class Evaluator:
    """The yearly tier review of one county and its leading-county status.

    Attributes:
        tier: Official tier from the last survey or review (None before the survey).
        leading: Whether the county is a leading county now.
        levels_now: Per indicator the criteria name, its level this week (see :func:`levels`).
        reviews: One record per survey and review: date, tier, criteria results, leading status.
    """

    def __init__(self, model: CountyModel, loaded: LoadedCriteria):
        self.model = model
        self.loaded = loaded
        self.criteria = loaded.criteria
        self.tier: int | None = None
        self.leading = False
        self.latest: dict[str, float] | None = None
        self.levels_now: dict[str, int] = {}
        self.reviews: list[dict[str, Any]] = []

    def schedule(self) -> None:
        """Put a review on the calendar for every review day after the run's first week."""
        r = self.criteria.review
        m = self.model
        for year in range(m.dates[0].year, m.dates[-1].year + 1):
            day = dt.date(year, r.month, r.day)
            if m.dates[0] < day <= m.dates[-1] + dt.timedelta(days=6):
                schedule_on(m, day, self.review)

    def observe(self, values: dict[str, float]) -> None:
        """Take this week's indicator values; the first week's are the survey's."""
        self.latest = values
        self.levels_now = levels(self.criteria, values)
        if self.tier is None:
            self._rate("survey")

    def review(self) -> None:
        """The November review (a Mesa event between two weeks, on last week's values)."""
        self._rate("review")

    def _rate(self, kind: Literal["survey", "review"]) -> None:
        m = self.model
        values = self.latest
        assert values is not None, "a review needs a week of indicator values"
        tier = rate(self.criteria, values)
        lead = self.criteria.leading
        flagged = m.government.flagged
        candidate = tier >= lead.min_tier
        change = None
        if kind == "review" and m.today.year >= lead.first_year:
            if self.leading and (not candidate or flagged):
                self.leading = False
                change = "removed: flagged by an audit" if flagged else "removed: slid below the leading standard"
            elif not self.leading and candidate and not flagged:
                self.leading = True
                change = "recommended"
        self.tier = tier
        m.record_event(
            "evaluations",
            stage=kind,
            tier=tier,
            tier_name=TIER_LABELS[tier],
            candidate=candidate,
            flagged=flagged,
            leading=self.leading,
            change=change,
            criteria=results(self.criteria, values),
        )

    def summary(self) -> dict[str, Any]:
        """The evaluation block of a run's results."""
        reviews = self.model.events.get("evaluations", [])
        return {
            "criteria": {
                "name": self.criteria.name,
                "path": str(self.loaded.path),
                "sha256": self.loaded.sha256,
            },
            "tier": self.tier,
            "tier_name": TIER_LABELS[self.tier or 0],
            "tier_zh": TIER_ZH[self.tier or 0],
            "leading_county": self.leading,
            "reviews": [
                {k: r[k] for k in ("date", "stage", "tier", "tier_name", "candidate", "flagged", "leading", "change")}
                for r in reviews
            ],
            "last_review_criteria": reviews[-1]["criteria"] if reviews else [],
        }


# --- the 2025 targets and cost-effectiveness ------------------------------------------------


def targets_2025(timeseries: pd.DataFrame, criteria: Criteria) -> list[dict[str, Any]]:
    """Each 2025 target: the value reached by the target date (or the run's last week if
    it ends earlier), whether it is met then, and the first week it held.

    ``increase`` targets compare with the run's own first week.
    """
    t = criteria.targets_2025
    dates = pd.to_datetime(timeseries["date"])
    upto = dates <= pd.Timestamp(t.by)
    if not upto.any():
        return []
    at = int(np.flatnonzero(upto.to_numpy())[-1])
    out = []
    for target in t.items:
        series = timeseries[target.indicator].to_numpy(dtype=float)
        start = float(series[0])
        ok = target.holds(series, start) & upto.to_numpy()
        first = int(np.argmax(ok)) if ok.any() else None
        out.append(
            {
                "name": target.name,
                "goal": target.goal,
                "indicator": target.indicator,
                "op": target.op,
                "threshold": target.threshold if target.op != "increase" else start,
                "start_value": start,
                "value": float(series[at]),
                "met": bool(ok[at]),
                "first_met": dates.iloc[first].date().isoformat() if first is not None else None,
                "evaluated_at": dates.iloc[at].date().isoformat(),
                "by": t.by.isoformat(),
                "status": target.status,
                "source": target.source or target.reason,
            }
        )
    return out


@dataclass(frozen=True)
class Outcome:
    """A result the plan pays for, as a county total, for cost-effectiveness."""

    name: str
    unit: str
    indicator: str
    #: County total from the indicator's value (number of villages, ...).
    scale: str


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("village_with_express_delivery", "village", "express_village_coverage", "villages"),
    Outcome("village_store", "store", "stores_open", "one"),
    Outcome("newtype_store", "store", "newtype_store_share", "stores_open"),
    Outcome("online_share_point", "percentage point of rural everyday spending", "online_share", "percent"),
    Outcome("farm_income", "yuan/year", "farm_income", "yuan_per_year"),
)


@dataclass
class RunFacts:
    """County facts a result needs to turn indicators into county totals."""

    villages: int
    townships: int
    rural_households: float
    extra: dict[str, Any] = field(default_factory=dict)


def _level(series: np.ndarray, summary: str, end: bool) -> float:
    if summary == "last" or len(series) == 0:
        return float(series[-1] if end else series[0])
    part = series[-LEVEL_WEEKS:] if end else series[:LEVEL_WEEKS]
    return float(np.mean(part))


def _total(outcome: Outcome, ts: pd.DataFrame, facts: RunFacts, end: bool) -> float | None:
    ind = BY_NAME.get(outcome.indicator)
    if ind is None or outcome.indicator not in ts:
        return None
    value = _level(ts[outcome.indicator].to_numpy(dtype=float), ind.summary, end)
    if outcome.scale == "villages":
        return value * facts.villages
    if outcome.scale == "stores_open":
        return value * _level(ts["stores_open"].to_numpy(dtype=float), "last", end)
    if outcome.scale == "percent":
        return value * 100.0
    if outcome.scale == "yuan_per_year":
        per_year = {"/year": 1.0, "/week": 52.0}
        factor = next((f for suffix, f in per_year.items() if ind.unit.endswith(suffix)), None)
        if factor is None or not ind.unit.startswith("yuan"):
            return None
        households = facts.rural_households if "/household/" in ind.unit else 1.0
        return value * factor * households
    return value


def cost_effectiveness(
    timeseries: pd.DataFrame,
    ledger: dict[str, Any],
    facts: RunFacts,
    counterfactual: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Fiscal cost per programme and per unit of each outcome the plan pays for.

    The fiscal cost of a programme is what it paid out and did not recover: subsidy that
    reached its purpose plus leaked funds not clawed back. Each outcome's change is
    measured against the run's own first weeks (a before-after comparison, which also
    counts what would have happened without the plan), or, when ``counterfactual`` is
    given, against the same scenario and seed with ``policy.enabled: false`` at the end
    (the change the plan caused). A change that is not positive gets no ratio.

    Args:
        timeseries: The run's weekly indicators.
        ledger: The government's ledger at the end (:meth:`Government.ledger`).
        facts: Numbers of villages and rural households of the county.
        counterfactual: The no-plan run's weekly indicators, if one was run.
    """
    by = ledger["by_programme"]
    cost = {p: by[p]["spent"] + by[p]["leaked"] for p in PROGRAMMES}
    total_cost = sum(cost.values())
    outcomes = {oc.name: _outcome_cost(oc, timeseries, facts, counterfactual, cost, total_cost) for oc in OUTCOMES}
    return {
        "baseline": (
            "counterfactual: the same scenario and seed with policy.enabled false, compared at the end"
            if counterfactual is not None
            else f"the run's own start (first week for stocks, mean of the first {LEVEL_WEEKS} weeks for weekly "
            f"rates) against its end (last week, or mean of the last {LEVEL_WEEKS} weeks): a before-after "
            "comparison that also counts what would have happened without the plan"
        ),
        "fiscal_cost_definition": "subsidy that reached its purpose plus leaked funds not clawed back (yuan)",
        "fiscal_cost_by_programme": cost,
        "subsidy_spent_by_programme": {p: by[p]["spent"] for p in PROGRAMMES},
        "fiscal_cost_total": total_cost,
        "outcomes": outcomes,
    }


def _outcome_cost(
    oc: Outcome,
    timeseries: pd.DataFrame,
    facts: RunFacts,
    counterfactual: pd.DataFrame | None,
    cost: dict[str, float],
    total_cost: float,
) -> dict[str, Any]:
    """One outcome's change against the baseline and the yuan per unit of it, for all
    programmes and for the programmes that aim at it."""
    end = _total(oc, timeseries, facts, end=True)
    if counterfactual is not None:
        base = _total(oc, counterfactual, facts, end=True)
    else:
        base = _total(oc, timeseries, facts, end=False)
    aimed = [p for p in PROGRAMMES if oc.indicator in BY_PROGRAMME[p].aims]
    aimed_cost = sum(cost[p] for p in aimed)
    if end is None or base is None:
        return {
            "unit": oc.unit,
            "indicator": oc.indicator,
            "note": f"indicator '{oc.indicator}' is not available in this model version",
        }
    change = end - base
    good = change > 0
    return {
        "unit": oc.unit,
        "indicator": oc.indicator,
        "baseline": base,
        "end": end,
        "change": change,
        "yuan_per_unit_all_programmes": total_cost / change if good else None,
        "aimed_programmes": aimed,
        "cost_aimed_programmes": aimed_cost,
        "yuan_per_unit_aimed_programmes": aimed_cost / change if good and aimed else None,
        **({} if good else {"note": "no improvement over the baseline: no ratio"}),
    }
