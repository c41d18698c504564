"""The plan's programmes, levers, phases and budget rules, in one place.

The County Commerce Three-Year Action Plan (县域商业三年行动计划, 2023-07-27) is carried out
through programmes financed by the service-industry development fund (服务业发展资金) with
local co-funding. This module is the catalogue the rest of the model reads:

* :data:`PROGRAMMES`: every programme, its Chinese name, the levers that set it, what one
  unit costs the budget, whether it pays for projects in places (and so can favour remote
  places), and the outcomes it is aimed at (for cost-effectiveness);
* :data:`LEVERS`: every field of the ``policy`` scenario section with the programme it
  belongs to and its fiscal cost (a test checks that no lever is missing here);
* :data:`PHASES`: the plan's three phases from its annex (实施步骤);
* programme windows, which may be given as phase names.

It is static and imports nothing from the model, so the scenario schema can read it. The
demand estimates of the allocation rules are in :mod:`sim.policy.demand`, dated events
in :mod:`sim.policy.events`.

Units of the levers, defaults and ranges live in the schema (:mod:`sim.config`); this
module says what they cost and where the money goes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Programme:
    """One programme of the plan that the county budget pays for.

    Attributes:
        name: Code name; the budget pot, the ``subsidy_spent_<name>`` indicator and the
            ``policy.budget_weights`` / ``policy.windows`` keys use it.
        zh: The Chinese term.
        task: The plan's task it carries out (section 3 of the plan).
        levers: Dotted paths of the scenario fields that set it.
        fiscal_cost: What one unit of the programme costs the budget.
        place: ``village`` or ``township`` when it pays for projects in a place (the
            ``remote_first`` rule reserves funds for remote places); None otherwise.
        aims: Indicators the programme is aimed at, for cost-effectiveness attribution.
        date_lever: For a dated, indivisible facility project: the lever holding its date
            (demand-driven allocation funds these first).
    """

    name: str
    zh: str
    task: str
    levers: tuple[str, ...]
    fiscal_cost: str
    place: Literal["village", "township"] | None
    aims: tuple[str, ...]
    date_lever: str | None = None


PROGRAMME_LIST: tuple[Programme, ...] = (
    Programme(
        "store_upgrade",
        "村店改造",
        "3(1)3 standardise village convenience stores (农村便民商店标准化改造)",
        ("policy.store_upgrade_subsidy",),
        "store_upgrade_subsidy × stores.upgrade_cost per store upgraded to new-type",
        "village",
        ("stores_open", "newtype_store_share"),
    ),
    Programme(
        "township_center",
        "乡镇商贸中心",
        "3(1)2 upgrade township commerce centres (升级改造乡镇商贸中心)",
        ("policy.township_center_subsidy",),
        "township_center_subsidy × retailers.center_build_cost per centre a chain opens",
        "township",
        ("township_center_coverage",),
    ),
    Programme(
        "logistics_center",
        "县级物流配送中心",
        "3(2)1 build county logistics distribution centres with sorting lines",
        ("policy.logistics_center_date", "policy.logistics_center_subsidy", "policy.automatic_sorting"),
        "logistics_center_subsidy × (logistics.center_build_cost + logistics.sorting_cost if sorting), once",
        None,
        ("express_village_coverage", "online_share"),
        "policy.logistics_center_date",
    ),
    Programme(
        "codistribution",
        "共同配送",
        "3(2)2 co-distribution, a key support direction in remote central and western areas",
        ("policy.codistribution.enabled", "policy.codistribution.start", "policy.codistribution.parcel_subsidy"),
        "codistribution.parcel_subsidy per pooled parcel, every week it runs",
        None,
        ("express_village_coverage", "online_share"),
    ),
    Programme(
        "nev_van",
        "新能源配送车",
        "3(2)1 new-energy delivery vans",
        ("policy.nev_van_subsidy",),
        "nev_van_subsidy × carriers.nev_price_premium per new-energy van bought",
        None,
        ("express_village_coverage",),
    ),
    Programme(
        "cold_storage",
        "冷链设施",
        "3(6)2 and 3(7)2 cold storage and cold-chain efficiency for farm products",
        ("policy.cold_storage_date", "policy.cold_storage_subsidy"),
        "cold_storage_subsidy × logistics.cold_storage_build_cost, once",
        None,
        ("farm_income",),
        "policy.cold_storage_date",
    ),
    Programme(
        "county_center",
        "县城综合商贸服务中心",
        "3(1)1 strengthen the county town's commerce (county commerce service centre)",
        ("policy.county_center_date", "policy.county_center_target_m2", "policy.county_center_subsidy"),
        "county_center_subsidy × retailers.county_center_cost_per_m2 × m² added, once",
        None,
        ("county_center_floor_area",),
        "policy.county_center_date",
    ),
    Programme(
        "township_station",
        "乡镇快递物流站点",
        "3(2)1 build township express and logistics stations (with pick-up lockers)",
        ("policy.township_station_subsidy",),
        "township_station_subsidy × logistics.township_station_cost per station",
        "township",
        ("township_station_coverage", "express_village_coverage", "online_share"),
    ),
    Programme(
        "chain_supply",
        "供应链下沉",
        "3(3)2 and 3(3)4 chains' supply reaching village stores (unified buying and delivery)",
        ("policy.chain_supply_subsidy",),
        "chain_supply_subsidy × stores.chain_fee_week per chain-supplied store, every week",
        None,
        ("stores_open",),
    ),
    Programme(
        "sme_digital",
        "中小企业数字化",
        "3(3)1 digital transformation of small rural distribution firms",
        ("policy.sme_digital_subsidy",),
        "sme_digital_subsidy × stores.digital_cost per store adopting digital stock and ordering tools",
        "village",
        ("digital_store_share", "stores_open"),
    ),
    Programme(
        "ecommerce_training",
        "电商培训",
        "3(5)3 e-commerce and livestream training (村播学院, 以工代训)",
        ("policy.training_capacity", "policy.training_cost_per_trainee"),
        "training_cost_per_trainee per household trained (up to training_capacity a month)",
        None,
        ("online_share", "farm_income"),
    ),
    Programme(
        "durable_vouchers",
        "耐用品消费券",
        "3(4)1 new-energy vehicles and green appliances to the countryside",
        ("policy.voucher_rate", "policy.voucher_cap", "policy.voucher_envelope"),
        "voucher_rate × price, at most voucher_cap, per durable good bought with a voucher",
        None,
        ("durables_sold", "nev_sold"),
    ),
    Programme(
        "livestream_base",
        "直播电商基地",
        "3(5)1 livestream e-commerce bases (直播电商基地)",
        ("policy.ecommerce.livestream_base_date", "policy.ecommerce.livestream_base_subsidy"),
        "livestream_base_subsidy × anchors.livestream_base_cost, once",
        None,
        ("farm_online_sales", "farm_income"),
        "policy.ecommerce.livestream_base_date",
    ),
    Programme(
        "brand_building",
        "品牌培育",
        "3(5)2 and 3(6)1 regional public brands and certification (区域公用品牌, 三品一标)",
        ("policy.ecommerce.brand_support", "policy.ecommerce.certification_support"),
        "brand_support + certification_support yuan a year, paid monthly",
        None,
        ("brand_reputation", "farm_online_sales"),
    ),
    Programme(
        "charging",
        "充电设施",
        "3(4)1 charging for new-energy vehicles going to the countryside",
        (
            "policy.durables.charging_date",
            "policy.durables.charging_target_share",
            "policy.durables.charging_cost_per_township",
        ),
        "charging_cost_per_township per township equipped, once",
        "township",
        ("charging_township_share", "nev_sold"),
        "policy.durables.charging_date",
    ),
)

#: Programme names in a fixed order (pots, indicators and weights follow it).
PROGRAMMES: tuple[str, ...] = tuple(p.name for p in PROGRAMME_LIST)
BY_PROGRAMME: dict[str, Programme] = {p.name: p for p in PROGRAMME_LIST}
PROGRAMME_ZH: dict[str, str] = {p.name: p.zh for p in PROGRAMME_LIST}

#: Every field of the ``policy`` section: what it belongs to and what it costs the budget.
#: ``tests/test_policy.py`` fails when a policy field is missing here.
LEVERS: dict[str, tuple[str, str]] = {
    **{lever: (p.name, p.fiscal_cost) for p in PROGRAMME_LIST for lever in p.levers},
    "policy.enabled": ("all", "false: no funds arrive and no programme pays or builds anything (the no-plan world)"),
    "policy.annual_budget": ("budget", "central funds received each year (prorated in a partial first year)"),
    "policy.local_cofunding_rate": ("budget", "local match: annual_budget × rate more each year"),
    "policy.allocation": ("budget", "no cost of its own: decides which pot each yuan goes to"),
    "policy.budget_weights": ("budget", "no cost of its own: earmarks between programmes"),
    **{
        f"policy.budget_weights.{p}": ("budget", f"no cost of its own: weight (or share) of new funds for {p}")
        for p in PROGRAMMES
    },
    "policy.remote_place_share": ("budget", "no cost of its own: which places count as remote"),
    "policy.remote_fund_share": ("budget", "no cost of its own: part of place-based funds held for remote places"),
    "policy.unspent_rolls_over": ("budget", "false: funds unspent at a year's end lapse (return to the treasury)"),
    "policy.leakage_share": ("budget", "each yuan paid to a project costs 1 / (1 - share) yuan of funds"),
    "policy.audit_intensity": ("audit", "no cost in the budget: audits recover leaked funds (claw-back)"),
    "policy.flag_threshold": ("audit", "no cost of its own: how large a finding must be to flag the county"),
    "policy.flag_months": ("audit", "no cost of its own: how long an audit finding keeps the county flagged"),
    "policy.flag_funding_cut": ("audit", "central funds withheld in a year that starts while the county is flagged"),
    "policy.leading_county_bonus": ("budget", "extra central funds in a year that starts while the county leads"),
    "policy.windows": ("all", "no cost of its own: outside its window a programme pays nothing"),
    **{f"policy.windows.{p}": (p, "no cost of its own: dates when the programme pays") for p in PROGRAMMES},
    **{f"policy.windows.{p}.{k}": (p, "no cost of its own") for p in PROGRAMMES for k in ("start", "end")},
    "policy.events": ("budget", "one-off grants add funds; one-off audits may claw leaked funds back"),
    "policy.events.date": ("budget", "no cost of its own"),
    "policy.events.kind": ("budget", "grant: amount more funds; audit: a certain audit"),
    "policy.events.amount": ("budget", "the grant in yuan"),
    "policy.events.programme": ("budget", "no cost of its own: the pot a grant goes to"),
    "policy.events.note": ("budget", "no cost"),
    "policy.codistribution": ("codistribution", "see its fields"),
    "policy.codistribution.members": ("codistribution", "no cost of its own: who pools parcels"),
    "policy.parcel_point_fee": ("none", "no fiscal cost: carriers pay stores that take parcels"),
    "policy.ecommerce": ("livestream_base", "see its fields"),
    "policy.durables": ("charging", "see its fields"),
}


def lever_value(config: object, path: str) -> object:
    """The value of a lever given by its dotted path (``policy.ecommerce.livestream_base_date``)."""
    node = config
    for part in path.split("."):
        node = getattr(node, part)
    return node


# --- phases ------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """One phase of the plan (annex, 县域商业三年行动实施步骤)."""

    name: str
    zh: str
    start: dt.date
    end: dt.date


#: The plan's annex: 部署启动阶段 2023-07…12, 全面推广阶段 2024-01…12, 总结评估阶段 2025-01…10.
PHASES: tuple[Phase, ...] = (
    Phase("launch", "部署启动阶段", dt.date(2023, 7, 1), dt.date(2023, 12, 31)),
    Phase("rollout", "全面推广阶段", dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    Phase("evaluation", "总结评估阶段", dt.date(2025, 1, 1), dt.date(2025, 10, 31)),
)
PHASE_NAMES: tuple[str, ...] = tuple(p.name for p in PHASES)
PhaseName = Literal["launch", "rollout", "evaluation"]


def phase_index(day: dt.date) -> int:
    """0 before the plan, 1 launch, 2 roll-out, 3 evaluation, 4 after the evaluation phase."""
    for k, ph in enumerate(PHASES, start=1):
        if ph.start <= day <= ph.end:
            return k
    return 0 if day < PHASES[0].start else len(PHASES) + 1


def window_start(value: dt.date | str | None) -> dt.date | None:
    """A window's start as a date: a phase name means the phase's first day."""
    if isinstance(value, str):
        return next(p.start for p in PHASES if p.name == value)
    return value


def window_end(value: dt.date | str | None) -> dt.date | None:
    """A window's end as a date: a phase name means the phase's last day."""
    if isinstance(value, str):
        return next(p.end for p in PHASES if p.name == value)
    return value
