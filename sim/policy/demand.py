"""Where the budget's money is needed: remote places and each programme's fundable demand.

The ``by_demand`` and ``remote_first`` allocation rules (:mod:`sim.agents.government`) read
these estimates when funds arrive; the catalogue of programmes they refer to is static
(:mod:`sim.policy.catalogue`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from sim.agents.retailer import center_value
from sim.agents.store import NEWTYPE

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
    """
    m = model
    pol = m.config.policy
    cfg = m.config
    months = max(0.0, ((last - first).days + 1) / DAYS_PER_MONTH)
    years = months / 12.0
    stores = m.open_stores()

    def due(day: dt.date | None) -> bool:
        return day is not None and day <= last

    if programme == "store_upgrade":
        rate, cost = pol.store_upgrade_subsidy, cfg.stores.upgrade_cost
        review = 1.0 - (1.0 - cfg.stores.review_probability) ** months
        n = sum(1 for s in stores if s.kind != NEWTYPE and s.would_invest(s.upgrade_value(), cost, rate))
        return n * review * rate * cost
    if programme == "sme_digital":
        rate, cost = pol.sme_digital_subsidy, cfg.stores.digital_cost
        review = 1.0 - (1.0 - cfg.stores.review_probability) ** months
        n = sum(1 for s in stores if not s.digital and s.would_invest(s.digital_value(), cost, rate))
        return n * review * rate * cost
    if programme == "township_center":
        if not m.retailers:
            return 0.0
        r = cfg.retailers
        subsidy = pol.township_center_subsidy * r.center_build_cost
        free = [int(t) for t in m.county.townships if m.center_at(int(t)) is None]
        n = sum(1 for t in free if center_value(m, t) + subsidy > r.center_build_cost)
        capacity = r.max_new_centers_per_year * len(m.retailers) * max(1.0, years)
        return min(n, capacity) * subsidy
    if programme == "township_station":
        n = sum(1 for t in m.county.townships if not m.logistics.station[int(t)])
        return n * pol.township_station_subsidy * cfg.logistics.township_station_cost
    if programme == "logistics_center":
        if m.logistics.center or not due(pol.logistics_center_date):
            return 0.0
        cost = cfg.logistics.center_build_cost + (cfg.logistics.sorting_cost if pol.automatic_sorting else 0.0)
        return pol.logistics_center_subsidy * cost
    if programme == "cold_storage":
        if m.logistics.cold_storage or not due(pol.cold_storage_date):
            return 0.0
        return pol.cold_storage_subsidy * cfg.logistics.cold_storage_build_cost
    if programme == "county_center":
        if not due(pol.county_center_date):
            return 0.0
        added = max(0.0, pol.county_center_target_m2 - m.county_center_m2)
        return pol.county_center_subsidy * cfg.retailers.county_center_cost_per_m2 * added
    if programme == "codistribution":
        cd = pol.codistribution
        centre = m.logistics.center or due(pol.logistics_center_date)
        if not (cd.enabled and centre and cd.start <= last):
            return 0.0
        members = [c for c in m.logistics.carriers if c.member]
        pooled = sum(c.share for c in members) if members else 1.0  # before anyone joins: all may
        weeks = ((last - max(first, cd.start)).days + 1) / 7.0
        return cd.parcel_subsidy * m.logistics.expected_parcels_week() * pooled * weeks
    if programme == "nev_van":
        c = cfg.carriers
        vans = sum(
            car.route_km_week() * 52.0 / c.van_km_per_year * (1.0 - car.nev_share) for car in m.logistics.carriers
        )
        return vans * c.fleet_turnover_per_year * years * pol.nev_van_subsidy * c.nev_price_premium
    if programme == "chain_supply":
        members = sum(1 for s in stores if s.chain is not None)
        return members * pol.chain_supply_subsidy * cfg.stores.chain_fee_week * months * 52.0 / 12.0
    if programme == "ecommerce_training":
        return pol.training_capacity * months * pol.training_cost_per_trainee
    if programme == "durable_vouchers":
        return pol.voucher_envelope * years
    if programme == "livestream_base":
        if m.anchors.base is not None or not due(pol.ecommerce.livestream_base_date):
            return 0.0
        return pol.ecommerce.livestream_base_subsidy * cfg.anchors.livestream_base_cost
    if programme == "brand_building":
        return (pol.ecommerce.brand_support + pol.ecommerce.certification_support) * years
    if programme == "charging":
        d = pol.durables
        if not due(d.charging_date):
            return 0.0
        towns = m.county.townships
        missing = max(0, round(d.charging_target_share * len(towns)) - int(m.durables.charging[towns].sum()))
        return missing * d.charging_cost_per_township
    raise KeyError(programme)
