"""Every reported indicator, defined once: name, Chinese term, unit, meaning, how to
summarise it over the final year, and how to read it off the model.

The weekly collector, the run summary, the figures, the tier criteria, the 2025 targets
and the experiment metrics all take indicators from :data:`INDICATORS`, so a name means
the same thing everywhere. The indicators come in two groups collected one after the
other each week: :data:`BASE_INDICATORS` read the county's state, and
:data:`EVALUATION_INDICATORS` (tier, leading county, each criterion's level) read the
tier review of :mod:`sim.policy.evaluation`, which rates the base values. Household indicators
are over rural households (those living in administrative villages), the plan's target
population, weighted by the real households each agent stands for.

This module is the definitions table; the :class:`Indicator` type and the helper
functions that read the model live in :mod:`sim.policy.readings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.markets.kinds import Channel, FarmChannel
from sim.policy import readings
from sim.policy.catalogue import PROGRAMME_ZH, phase_index
from sim.policy.readings import Indicator

if TYPE_CHECKING:
    from sim.model import CountyModel


BASE_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "store_village_coverage",
        "村级商业网点覆盖率",
        "share of villages",
        "Share of administrative villages with at least one open store.",
        "last",
        readings.villages_with_store,
    ),
    Indicator(
        "newtype_store_share",
        "新型便民商店占比",
        "share of stores",
        "Share of open village stores at the standardised new-type level.",
        "last",
        readings.newtype_share,
    ),
    Indicator(
        "township_center_coverage",
        "乡镇商贸中心覆盖率",
        "share of townships",
        "Share of townships with a commerce centre.",
        "last",
        readings.center_coverage,
    ),
    Indicator(
        "express_village_coverage",
        "快递进村覆盖率",
        "share of villages",
        "Share of administrative villages where at least one carrier (or the consortium) delivers to the village "
        "at least weekly.",
        "last",
        lambda m: float((m.logistics.door_share[m.county.villages] > 0).mean()) if len(m.county.villages) else 0.0,
    ),
    Indicator(
        "village_door_parcel_share",
        "进村包裹占比",
        "share of parcels",
        "Share of parcels bound for villages that are delivered into the village rather than left at the "
        "township station.",
        "mean",
        lambda m: m.logistics.week["village_door_parcel_share"],
    ),
    Indicator(
        "service_point_share",
        "一点多能站点占比",
        "share of stores",
        "Share of open village stores that act as parcel service points.",
        "last",
        readings.service_point_share,
    ),
    Indicator(
        "codistribution_parcel_share",
        "共同配送包裹占比",
        "share of parcels",
        "Share of the county's parcels carried through the co-distribution consortium.",
        "mean",
        lambda m: m.logistics.week["pooled"] / max(m.logistics.week["down"] + m.logistics.week["up"], 1e-12),
    ),
    Indicator(
        "cost_per_parcel",
        "单件物流成本",
        "yuan/parcel",
        "Real cost of moving a parcel in the county (handling, line-haul, village routes, service-point fees), "
        "excluding transfers such as subsidies and operator fees.",
        "mean",
        lambda m: m.logistics.week["cost"] / max(m.logistics.week["down"] + m.logistics.week["up"], 1e-12),
    ),
    Indicator(
        "delivery_days",
        "平均投递天数",
        "days",
        "Mean days from the county depot until a downward parcel reaches its household (waiting at the "
        "station included).",
        "mean",
        lambda m: m.logistics.week["delivery_days"],
    ),
    Indicator(
        "parcels_down",
        "下行包裹量",
        "parcels/week",
        "Downward parcels (online purchases) entering the county network this week.",
        "mean",
        lambda m: m.logistics.week["down"],
    ),
    Indicator(
        "parcels_up",
        "上行包裹量",
        "parcels/week",
        "Upward parcels (farm products) leaving the villages this week.",
        "mean",
        lambda m: m.logistics.week["up"],
    ),
    Indicator(
        "parcels_waiting",
        "待取包裹量",
        "parcels",
        "Parcels waiting at township stations for their households at the end of the week.",
        "last",
        lambda m: float(m.logistics.waiting.sum()),
    ),
    Indicator(
        "cold_chain_loss_rate",
        "冷链损耗率",
        "share of value",
        "Share of the value of perishable upward parcels lost in distribution.",
        "mean",
        lambda m: m.logistics.week["cold_chain_loss_rate"],
    ),
    Indicator(
        "carrier_profit",
        "快递企业利润",
        "yuan/week",
        "Profit of all carriers together in the county this week.",
        "mean",
        lambda m: float(sum(c.books.get("profit", 0.0) for c in m.logistics.carriers)),
    ),
    Indicator(
        "nev_van_share",
        "新能源配送车占比",
        "share of vans",
        "Share of carriers' delivery vans that are new-energy (weighted by market share).",
        "last",
        lambda m: float(sum(c.share * c.nev_share for c in m.logistics.carriers)),
    ),
    Indicator(
        "logistics_center",
        "县级物流配送中心",
        "0/1",
        "Whether the county logistics distribution centre operates.",
        "last",
        lambda m: float(m.logistics.center),
    ),
    Indicator(
        "cold_storage",
        "冷库",
        "0/1",
        "Whether the county has cold storage for farm products.",
        "last",
        lambda m: float(m.logistics.cold_storage),
    ),
    Indicator(
        "household_spending",
        "农村居民日常消费支出",
        "yuan/household/week",
        "Everyday-goods spending of a rural household in the week.",
        "mean",
        lambda m: readings.rural_mean(m, m.market.last_budget),
    ),
    Indicator(
        "online_share",
        "网购占比",
        "share of spending",
        "Share of rural households' everyday spending bought online.",
        "mean",
        readings.channel_share(Channel.ONLINE),
    ),
    Indicator(
        "village_store_share",
        "村店消费占比",
        "share of spending",
        "Share of rural everyday spending at village stores.",
        "mean",
        readings.channel_share(Channel.VILLAGE_STORE),
    ),
    Indicator(
        "township_share",
        "乡镇消费占比",
        "share of spending",
        "Share of rural everyday spending in townships (markets and commerce centres).",
        "mean",
        readings.channel_share(Channel.TOWNSHIP),
    ),
    Indicator(
        "county_town_share",
        "县城消费占比",
        "share of spending",
        "Share of rural everyday spending in the county town.",
        "mean",
        readings.channel_share(Channel.COUNTY_TOWN),
    ),
    Indicator(
        "instant_retail_share",
        "即时零售占比",
        "share of spending",
        "Share of rural everyday spending through instant retail from the county town.",
        "mean",
        readings.channel_share(Channel.INSTANT_RETAIL),
    ),
    Indicator(
        "travel_km_per_household",
        "户均购物出行里程",
        "km/household/week",
        "Distance a rural household travels in the week to shop and to fetch parcels.",
        "mean",
        lambda m: readings.rural_mean(m, m.week["travel_km"]),
    ),
    Indicator(
        "consumer_surplus",
        "消费者剩余",
        "yuan/household/week",
        "Value to a rural household of its shopping options over buying everything in the county town (logit log-sum).",
        "mean",
        lambda m: readings.rural_mean(m, m.week["surplus"]),
    ),
    Indicator(
        "farm_online_sales",
        "农产品网络零售额",
        "yuan/week",
        "What city buyers paid this week for the county's farm products sold online (through anchors or by "
        "households themselves); comparable with 农产品网络零售额.",
        "sum",
        lambda m: m.farm.week["city_paid"],
    ),
    Indicator(
        "farm_income",
        "农户经营净收入",
        "yuan/household/week",
        "Farm receipts of a rural household this week, net of commissions, fees, packaging and parcel charges.",
        "mean",
        lambda m: readings.rural_mean(m, readings.farm_receipts(m)),
    ),
    *(
        Indicator(
            f"farm_{k.label}_share",
            zh,
            "share of farm sales",
            f"Share of rural farm output (farm-gate value) sold {how} this week.",
            "mean",
            readings.farm_channel_share(k),
        )
        for k, zh, how in (
            (FarmChannel.TRADER, "农产品经纪人销售占比", "to village traders"),
            (FarmChannel.MARKET, "集贸市场销售占比", "at township and county markets"),
            (FarmChannel.ANCHOR, "电商主体销售占比", "through anchors (livestream base, service centre)"),
            (FarmChannel.SELF_ONLINE, "农户自主网销占比", "online by households themselves"),
        )
    ),
    Indicator(
        "online_buyer_share",
        "网购农户占比",
        "share of households",
        "Share of rural households buying online.",
        "last",
        readings.rural_flag_share("online_buyer"),
    ),
    Indicator(
        "online_seller_share",
        "网销农户占比",
        "share of households",
        "Share of rural households selling farm products online themselves.",
        "last",
        readings.rural_flag_share("online_seller"),
    ),
    Indicator(
        "trained_households",
        "电商培训户数",
        "households (cumulative)",
        "Rural households trained by the e-commerce service centre since the start.",
        "last",
        lambda m: m.anchors.trained_total,
    ),
    Indicator(
        "brand_reputation",
        "区域公用品牌声誉",
        "index 0-1",
        "Reputation of the county's regional public brand of farm products.",
        "last",
        lambda m: m.anchors.reputation,
    ),
    Indicator(
        "livestream_base",
        "直播电商基地",
        "0/1",
        "Whether a livestream e-commerce base operates.",
        "last",
        lambda m: float(m.anchors.base is not None),
    ),
    Indicator(
        "durables_sold",
        "大宗消费品销量",
        "count/week",
        "Major appliances and vehicles bought by rural households this week.",
        "sum",
        lambda m: m.durables.week["appliances"] + m.durables.week["vehicles"],
    ),
    Indicator(
        "nev_sold",
        "新能源汽车下乡销量",
        "count/week",
        "New-energy vehicles bought by rural households this week.",
        "sum",
        lambda m: m.durables.week["nev"],
    ),
    Indicator(
        "charging_township_share",
        "乡镇充电设施覆盖率",
        "share of townships",
        "Share of townships with public charging.",
        "last",
        lambda m: float(m.durables.charging[m.county.townships].mean()) if len(m.county.townships) else 0.0,
    ),
    Indicator(
        "stores_open",
        "村级商店数",
        "count",
        "Open village stores.",
        "last",
        lambda m: float(len(m.store_table.open_rows())),
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
        "newtype_village_coverage",
        "新型便民商店村覆盖率",
        "share of villages",
        "Share of administrative villages with at least one open new-type store.",
        "last",
        readings.villages_with_newtype,
    ),
    Indicator(
        "digital_store_share",
        "数字化门店占比",
        "share of stores",
        "Share of open village stores using digital stock and ordering tools.",
        "last",
        lambda m: readings.open_store_share(m, "digital"),
    ),
    Indicator(
        "chain_retailers",
        "连锁商贸企业数",
        "count",
        "Chain retailers (county leading distribution firms with a chain supermarket) in the county.",
        "last",
        lambda m: float(len(m.retailers)),
    ),
    Indicator(
        "county_center_floor_area",
        "县城综合商贸服务中心面积",
        "m²",
        "Floor area of the county town's largest commerce service centre.",
        "last",
        lambda m: float(m.county_center_m2),
    ),
    Indicator(
        "township_station_coverage",
        "乡镇快递物流站点覆盖率",
        "share of townships",
        "Share of townships with a standardised express and logistics station (pick-up lockers).",
        "last",
        lambda m: float(m.logistics.station[m.county.townships].mean()) if len(m.county.townships) else 0.0,
    ),
    Indicator(
        "plan_phase",
        "行动阶段",
        "0-4",
        "Phase of the plan this week: 0 before it, 1 launch (2023-07..12), 2 roll-out (2024), "
        "3 evaluation (2025-01..10), 4 after.",
        "last",
        lambda m: float(phase_index(m.today)),
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
        "funds_available",
        "可用资金",
        "yuan",
        "Programme funds not yet spent, leaked or lapsed (what the pots hold, rolled-over funds included).",
        "last",
        lambda m: m.government.funds_available,
    ),
    Indicator(
        "funds_received",
        "到位资金",
        "yuan (cumulative)",
        "Central funds and local co-funding received since the start (grants included).",
        "last",
        lambda m: m.government.received,
    ),
    Indicator(
        "funds_leaked",
        "资金流失",
        "yuan (cumulative)",
        "Funds paid out that did not reach their purpose and have not been clawed back.",
        "last",
        lambda m: sum(m.government.leaked.values()),
    ),
    Indicator(
        "funds_clawed_back",
        "收回资金",
        "yuan (cumulative)",
        "Leaked funds found by audits and recovered (returned to the province).",
        "last",
        lambda m: sum(m.government.clawed_back.values()),
    ),
    Indicator(
        "funds_lapsed",
        "结余收回",
        "yuan (cumulative)",
        "Funds unspent at a year's end that lapsed (only when unspent funds do not roll over).",
        "last",
        lambda m: sum(m.government.lapsed.values()),
    ),
    Indicator(
        "county_flagged",
        "审计通报",
        "0/1",
        "Whether an audit finding flags the county this week.",
        "last",
        lambda m: float(m.government.flagged),
    ),
)


#: Subsidy paid by each programme, one indicator per programme of the government.
BASE_INDICATORS += tuple(
    Indicator(
        f"subsidy_spent_{p}",
        f"{zh}补贴支出",
        "yuan (cumulative)",
        f"Subsidy paid by the {p.replace('_', ' ')} programme since the start (what reached its purpose).",
        "last",
        readings.subsidy_spent(p),
    )
    for p, zh in PROGRAMME_ZH.items()
)

#: Indicators that tier criteria commonly test; each gets a weekly ``criterion_<name>``
#: indicator. A criteria file may also test other base indicators: they are rated and
#: reported at each review but have no weekly column.
CRITERION_INDICATORS: tuple[str, ...] = (
    "county_center_floor_area",
    "chain_retailers",
    "township_center_coverage",
    "store_village_coverage",
    "newtype_village_coverage",
    "logistics_center",
    "township_station_coverage",
    "express_village_coverage",
    "codistribution_parcel_share",
    "cold_storage",
    "digital_store_share",
)

_BASE_BY_NAME = {i.name: i for i in BASE_INDICATORS}


#: Indicators read off the tier review; collected after the base indicators each week.
EVALUATION_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "county_tier",
        "县域商业建设等级",
        "tier 0-3",
        "Official tier from the last review (the first week's survey before the first November review): "
        "0 none, 1 basic 基本型, 2 enhanced 增强型, 3 advanced 提升型.",
        "last",
        lambda m: float(m.evaluator.tier or 0),
    ),
    Indicator(
        "leading_county",
        "领跑县",
        "0/1",
        "Whether the county is a leading county (recommended at a November review, removed when it slides).",
        "last",
        lambda m: float(m.evaluator.leading),
    ),
    *(
        Indicator(
            f"criterion_{name}_level",
            f"{_BASE_BY_NAME[name].zh}达标等级",
            "tier 0-3",
            f"Highest tier whose thresholds on {name} the county meets this week (pass at tier k when the value is at "
            "least k; 3 when the criteria set no threshold on it).",
            "last",
            readings.criterion_level(name),
        )
        for name in CRITERION_INDICATORS
    ),
)

INDICATORS: tuple[Indicator, ...] = BASE_INDICATORS + EVALUATION_INDICATORS
BASE_NAMES: frozenset[str] = frozenset(_BASE_BY_NAME)
BY_NAME: dict[str, Indicator] = {i.name: i for i in INDICATORS}


def collect(model: CountyModel, indicators: tuple[Indicator, ...] = INDICATORS) -> dict[str, float]:
    """The indicators' values after the current step (all of them by default)."""
    return {i.name: i.compute(model) for i in indicators}


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
