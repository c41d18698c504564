"""Every reported indicator, defined once: name, Chinese term, unit, meaning, how to
summarise it over the final year, and how to read it off the model.

The weekly collector, the run summary, the figures and (later) the targets and the
experiment metrics all take indicators from :data:`INDICATORS`, so a name means the same
thing everywhere. Household indicators are over rural households (those living in
administrative villages), the plan's target population, weighted by the real households
each agent stands for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from sim.model import CountyModel


@dataclass(frozen=True)
class Indicator:
    """One reported quantity.

    Attributes:
        name: Column name in every output.
        zh: The Chinese term.
        unit: Unit of measure.
        meaning: One line saying what it measures.
        summary: How the final-year summary is taken: ``last`` (a stock at the end),
            ``mean`` (a weekly rate averaged over the last 52 weeks) or ``sum`` (a weekly
            count added up over the last 52 weeks).
        compute: Reads the value off the model after a step.
    """

    name: str
    zh: str
    unit: str
    meaning: str
    summary: Literal["last", "mean", "sum"]
    compute: Callable[[CountyModel], float]

    @property
    def summary_unit(self) -> str:
        """Unit of the final-year summary (a weekly count added over a year is per year)."""
        return self.unit.replace("/week", "/year") if self.summary == "sum" else self.unit


def _rural_mean(model: CountyModel, values: np.ndarray) -> float:
    hh = model.households
    w = hh.weight * hh.rural
    total = w.sum()
    return float((values * w).sum() / total) if total > 0 else 0.0


def _villages_with_store(model: CountyModel) -> float:
    v = model.county.villages
    return float(np.mean(model.stores_per_node()[v] > 0)) if len(v) else 0.0


def _newtype_share(model: CountyModel) -> float:
    stores = model.open_stores()
    return float(np.mean([s.kind == "newtype" for s in stores])) if stores else 0.0


def _center_coverage(model: CountyModel) -> float:
    t = model.county.townships
    return float(np.mean([model.center_at(int(n)) is not None for n in t])) if len(t) else 0.0


def _online_share(model: CountyModel) -> float:
    spend = model.week["channel_spend_rural"]
    total = spend.sum()
    return float(spend[3] / total) if total > 0 else 0.0


def _channel_share(i: int) -> Callable[[CountyModel], float]:
    def f(model: CountyModel) -> float:
        spend = model.week["channel_spend_rural"]
        total = spend.sum()
        return float(spend[i] / total) if total > 0 else 0.0

    return f


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "store_village_coverage",
        "村级商业网点覆盖率",
        "share of villages",
        "Share of administrative villages with at least one open store.",
        "last",
        _villages_with_store,
    ),
    Indicator(
        "newtype_store_share",
        "新型便民商店占比",
        "share of stores",
        "Share of open village stores at the standardised new-type level.",
        "last",
        _newtype_share,
    ),
    Indicator(
        "township_center_coverage",
        "乡镇商贸中心覆盖率",
        "share of townships",
        "Share of townships with a commerce centre.",
        "last",
        _center_coverage,
    ),
    Indicator(
        "express_village_coverage",
        "快递进村覆盖率",
        "share of villages",
        "Share of administrative villages with express delivery to the village.",
        "last",
        lambda m: float(m.express[m.county.villages].mean()) if len(m.county.villages) else 0.0,
    ),
    Indicator(
        "household_spending",
        "农村居民日常消费支出",
        "yuan/household/week",
        "Everyday-goods spending of a rural household in the week.",
        "mean",
        lambda m: _rural_mean(m, m.market.last_budget),
    ),
    Indicator(
        "online_share",
        "网购占比",
        "share of spending",
        "Share of rural households' everyday spending bought online.",
        "mean",
        _online_share,
    ),
    Indicator(
        "village_store_share",
        "村店消费占比",
        "share of spending",
        "Share of rural everyday spending at village stores.",
        "mean",
        _channel_share(0),
    ),
    Indicator(
        "township_share",
        "乡镇消费占比",
        "share of spending",
        "Share of rural everyday spending in townships (markets and commerce centres).",
        "mean",
        _channel_share(1),
    ),
    Indicator(
        "county_town_share",
        "县城消费占比",
        "share of spending",
        "Share of rural everyday spending in the county town.",
        "mean",
        _channel_share(2),
    ),
    Indicator(
        "travel_km_per_household",
        "户均购物出行里程",
        "km/household/week",
        "Distance a rural household travels in the week to shop and to fetch parcels.",
        "mean",
        lambda m: _rural_mean(m, m.week["travel_km"]),
    ),
    Indicator(
        "consumer_surplus",
        "消费者剩余",
        "yuan/household/week",
        "Value to a rural household of its shopping options over buying everything in the county town (logit log-sum).",
        "mean",
        lambda m: _rural_mean(m, m.week["surplus"]),
    ),
    Indicator(
        "stores_open", "村级商店数", "count", "Open village stores.", "last", lambda m: float(len(m.open_stores()))
    ),
    Indicator(
        "store_exits",
        "商店退出数",
        "count/week",
        "Village stores that closed this week.",
        "sum",
        lambda m: float(m.week["exits"]),
    ),
    Indicator(
        "store_entries",
        "商店新开数",
        "count/week",
        "Village stores that opened this week.",
        "sum",
        lambda m: float(m.week["entries"]),
    ),
    Indicator(
        "store_upgrades",
        "商店改造数",
        "count/week",
        "Village stores upgraded to new-type this week.",
        "sum",
        lambda m: float(m.week["upgrades"]),
    ),
    Indicator(
        "subsidy_spent",
        "补贴支出",
        "yuan (cumulative)",
        "Subsidy paid by all programmes since the start.",
        "last",
        lambda m: m.government.total_spent,
    ),
    Indicator(
        "subsidy_spent_store_upgrade",
        "村店改造补贴支出",
        "yuan (cumulative)",
        "Subsidy paid for village store upgrades since the start.",
        "last",
        lambda m: m.government.spent["store_upgrade"],
    ),
    Indicator(
        "subsidy_spent_township_center",
        "乡镇商贸中心补贴支出",
        "yuan (cumulative)",
        "Subsidy paid for township commerce centres since the start.",
        "last",
        lambda m: m.government.spent["township_center"],
    ),
    Indicator(
        "funds_available",
        "可用资金",
        "yuan",
        "Programme funds not yet spent.",
        "last",
        lambda m: m.government.funds_available,
    ),
)

BY_NAME: dict[str, Indicator] = {i.name: i for i in INDICATORS}


def collect(model: CountyModel) -> dict[str, float]:
    """All indicators' values after the current step."""
    return {i.name: i.compute(model) for i in INDICATORS}


def summarise(series: dict[str, np.ndarray], weeks_in_final_year: int = 52) -> dict[str, float]:
    """Final-year values of every indicator from its weekly series.

    Args:
        series: Indicator name → weekly values (a run's time series).
        weeks_in_final_year: How many final weeks make the "final year" (fewer if the
            run is shorter).
    """
    out = {}
    for ind in INDICATORS:
        values = np.asarray(series[ind.name], dtype=float)
        tail = values[-weeks_in_final_year:]
        if ind.summary == "last":
            out[ind.name] = float(values[-1])
        elif ind.summary == "mean":
            out[ind.name] = float(tail.mean())
        else:
            out[ind.name] = float(tail.sum())
    return out


def describe() -> list[dict[str, str]]:
    """The indicator catalogue (for docs, the CLI and reports)."""
    return [
        {"name": i.name, "zh": i.zh, "unit": i.unit, "meaning": i.meaning, "summary": i.summary} for i in INDICATORS
    ]
