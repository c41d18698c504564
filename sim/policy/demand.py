"""Where the budget's money is needed: remote places and each programme's fundable demand.

The ``by_demand`` and ``remote_first`` allocation rules (:mod:`sim.agents.government`) read
these estimates when funds arrive; the catalogue of programmes they refer to is static
(:mod:`sim.policy.catalogue`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.agents.retailer import center_values
from sim.agents.store import NEWTYPE, TRADITIONAL
from sim.agents.store_month import digital_values, expected_fee_relief, upgrade_values, would_invest

if TYPE_CHECKING:
    from sim.model import CountyModel


# --- places ------------------------------------------------------------------------


def remote_places(model: CountyModel) -> np.ndarray:
    """Which settlements count as remote: the farthest ``policy.remote_place_share`` of the
    villages, and of the townships, by travel time to the county town.

    Relative rather than a fixed number of minutes, so every county has remote places
    to favour (an east-plain county's remote villages are nearer than a mountain
    county's, but its budget still faces the same choice).
    """
    c = model.county
    share = model.config.policy.remote_place_share
    remote = np.zeros(c.n, dtype=bool)
    for group in (c.villages, c.townships):
        k = round(share * len(group))
        if k == 0:
            continue
        minutes = c.travel_min[c.county_town, group]
        # stable order: farthest first, ties by settlement index
        order = np.lexsort((group, -minutes))
        remote[group[order[:k]]] = True
    return remote


# --- demand for funds (the by_demand and remote_first rules) --------------------------

#: Average days in a month, to turn a period into months of monthly decisions.
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Period:
    """The days a need is estimated for, in the units the estimates use."""

    first: dt.date
    last: dt.date
    months: float
    years: float

    def due(self, day: dt.date | None) -> bool:
        """Whether a dated project falls within (or before the end of) the period."""
        return day is not None and day <= self.last


def programme_need(model: CountyModel, programme: str, first: dt.date, last: dt.date) -> float:
    """Fundable demand: the subsidy (yuan) the programme expects to be claimed from
    ``first`` to ``last`` at its current rates.

    This is the county's survey of gaps (调研摸底, plan section 5(1)) turned into money:
    facility projects dated within the period at their full subsidy; township stations
    still to standardise; township centres that chains would open with the subsidy (up
    to the chains' yearly capacity); stores whose owners would upgrade or go digital at
    the subsidised price, times the chance that they review their investments in the
    period; running subsidies (co-distribution, chain fees, vans) at their current
    volumes; training and vouchers at their planned amounts. It is an estimate made
    when funds arrive, not a promise: owners' cash and revenues move during the year.
    One function per programme (:data:`NEEDS`).

    Raises:
        KeyError: ``programme`` is not a programme of the catalogue.
    """
    months = max(0.0, ((last - first).days + 1) / DAYS_PER_MONTH)
    return NEEDS[programme](model, Period(first, last, months, months / 12.0))


def _review_chance(m: CountyModel, p: Period) -> float:
    """Chance that a store reviews its investments at least once in the period."""
    return 1.0 - (1.0 - m.config.stores.review_probability) ** p.months


def _store_upgrade(m: CountyModel, p: Period) -> float:
    rate, cost = m.config.policy.store_upgrade_subsidy, m.config.stores.upgrade_cost
    review = _review_chance(m, p)
    t = m.store_table
    rows = t.open_rows()
    rows = rows[t.kind[rows] == TRADITIONAL]
    from_sellers = m.sellers.store_revenues_if(rows, np.full(len(rows), NEWTYPE))
    kind, chained, digital = t.kind[rows], t.chain[rows] >= 0, t.digital[rows]
    value = upgrade_values(m, *from_sellers, kind, chained, digital, expected_fee_relief(m))
    n = int(np.count_nonzero(would_invest(m, rows, value, cost, rate)))
    return n * review * rate * cost


def _sme_digital(m: CountyModel, p: Period) -> float:
    rate, cost = m.config.policy.sme_digital_subsidy, m.config.stores.digital_cost
    review = _review_chance(m, p)
    t = m.store_table
    rows = t.open_rows()
    rows = rows[~t.digital[rows]]
    revenue, _ = m.sellers.store_revenues_if(rows)
    value = digital_values(m, revenue, t.kind[rows], t.chain[rows] >= 0, expected_fee_relief(m))
    n = int(np.count_nonzero(would_invest(m, rows, value, cost, rate)))
    return n * review * rate * cost


def _township_center(m: CountyModel, p: Period) -> float:
    if not m.retailers:
        return 0.0
    r = m.config.retailers
    subsidy = m.config.policy.township_center_subsidy * r.center_build_cost
    towns = m.county.townships
    free = towns[m.center_table.at_node[towns] < 0]
    n = int(np.count_nonzero(center_values(m, free) + subsidy > r.center_build_cost))
    capacity = r.max_new_centers_per_year * len(m.retailers) * max(1.0, p.years)
    return min(n, capacity) * subsidy


def _township_station(m: CountyModel, p: Period) -> float:
    n = sum(1 for t in m.county.townships if not m.logistics.station[int(t)])
    return n * m.config.policy.township_station_subsidy * m.config.logistics.township_station_cost


def _logistics_center(m: CountyModel, p: Period) -> float:
    pol, lc = m.config.policy, m.config.logistics
    if m.logistics.center or not p.due(pol.logistics_center_date):
        return 0.0
    cost = lc.center_build_cost + (lc.sorting_cost if pol.automatic_sorting else 0.0)
    return pol.logistics_center_subsidy * cost


def _cold_storage(m: CountyModel, p: Period) -> float:
    pol = m.config.policy
    if m.logistics.cold_storage or not p.due(pol.cold_storage_date):
        return 0.0
    return pol.cold_storage_subsidy * m.config.logistics.cold_storage_build_cost


def _county_center(m: CountyModel, p: Period) -> float:
    pol = m.config.policy
    if not p.due(pol.county_center_date):
        return 0.0
    added = max(0.0, pol.county_center_target_m2 - m.county_center_m2)
    return pol.county_center_subsidy * m.config.retailers.county_center_cost_per_m2 * added


def _codistribution(m: CountyModel, p: Period) -> float:
    pol = m.config.policy
    cd = pol.codistribution
    centre = m.logistics.center or p.due(pol.logistics_center_date)
    if not (cd.enabled and centre and cd.start <= p.last):
        return 0.0
    members = [c for c in m.logistics.carriers if c.member]
    pooled = sum(c.share for c in members) if members else 1.0  # before anyone joins: all may
    weeks = ((p.last - max(p.first, cd.start)).days + 1) / 7.0
    return cd.parcel_subsidy * m.logistics.expected_parcels_week() * pooled * weeks


def _nev_van(m: CountyModel, p: Period) -> float:
    c = m.config.carriers
    vans = sum(car.route_km_week() * 52.0 / c.van_km_per_year * (1.0 - car.nev_share) for car in m.logistics.carriers)
    return vans * c.fleet_turnover_per_year * p.years * m.config.policy.nev_van_subsidy * c.nev_price_premium


def _chain_supply(m: CountyModel, p: Period) -> float:
    t = m.store_table
    members = int(np.count_nonzero(t.chain[t.open_rows()] >= 0))
    return members * m.config.policy.chain_supply_subsidy * m.config.stores.chain_fee_week * p.months * 52.0 / 12.0


def _ecommerce_training(m: CountyModel, p: Period) -> float:
    pol = m.config.policy
    return pol.training_capacity * p.months * pol.training_cost_per_trainee


def _durable_vouchers(m: CountyModel, p: Period) -> float:
    return m.config.policy.voucher_envelope * p.years


def _livestream_base(m: CountyModel, p: Period) -> float:
    e = m.config.policy.ecommerce
    if m.anchors.base is not None or not p.due(e.livestream_base_date):
        return 0.0
    return e.livestream_base_subsidy * m.config.anchors.livestream_base_cost


def _brand_building(m: CountyModel, p: Period) -> float:
    e = m.config.policy.ecommerce
    return (e.brand_support + e.certification_support) * p.years


def _charging(m: CountyModel, p: Period) -> float:
    d = m.config.policy.durables
    if not p.due(d.charging_date):
        return 0.0
    towns = m.county.townships
    missing = max(0, round(d.charging_target_share * len(towns)) - int(m.durables.charging[towns].sum()))
    return missing * d.charging_cost_per_township


#: Each programme's fundable demand over a period, by programme name.
NEEDS: dict[str, Callable[[CountyModel, Period], float]] = {
    "store_upgrade": _store_upgrade,
    "sme_digital": _sme_digital,
    "township_center": _township_center,
    "township_station": _township_station,
    "logistics_center": _logistics_center,
    "cold_storage": _cold_storage,
    "county_center": _county_center,
    "codistribution": _codistribution,
    "nev_van": _nev_van,
    "chain_supply": _chain_supply,
    "ecommerce_training": _ecommerce_training,
    "durable_vouchers": _durable_vouchers,
    "livestream_base": _livestream_base,
    "brand_building": _brand_building,
    "charging": _charging,
}
