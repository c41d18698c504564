"""Farm output and where farm households sell it (农产品上行), for all households at once.

Each rural household's farm output, valued at the village trader's farm-gate price, is
its starting farm income (so selling everything to traders reproduces the county's farm
income). Output comes in the harvest months of each kind. Each week a household splits
what it harvested among four channels by a logit on the net price per yuan of output:

    trader       1 - local loss of perishables
    market       market price × (1 - local loss) - trip cost / week's output + constant
    anchor       city price × brand premium × demand response × (1 - transit loss)
                 × (1 - commission) - packaging - parcel charge - station trips + constant
                 (+ scale × ln(reach): without a livestream base the service centre
                 reaches fewer buyers)
    self_online  as anchor with the platform's fee instead of the commission, only for
                 households able to sell online (trained or adopted)

The city side is an external demand whose price falls with the county's weekly online
volume, with constant elasticity. Every yuan the city pays is accounted for: household
receipts + anchor commissions and platform fees + parcel charges + packaging = city
payments, and the goods lost in transit are not paid for (a test checks the identity).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.config import FARM_KINDS
from sim.markets.kinds import FarmChannel
from sim.markets.logit import exp_weights
from sim.markets.memo import Remembered

if TYPE_CHECKING:
    from sim.model import CountyModel


def harvest_profile(dates: list, months: list[int]) -> np.ndarray:
    """Share of a year's output of a kind harvested in each simulated week.

    A kind harvested in N months spreads its output evenly over those months' weeks
    (N × 52/12 weeks a year), so a full year sums to one.
    """
    weeks_per_year = len(months) * 52.0 / 12.0
    return np.array([1.0 / weeks_per_year if d.month in months else 0.0 for d in dates])


class _Harvest(NamedTuple):
    """A week's harvest per rural household: its perishable share, the farm-gate value
    floored above zero for per-yuan trip costs, and the terms that follow from the harvest
    alone (kept with it, since the harvest is the same every week of a month)."""

    perish: np.ndarray
    safe_value: np.ndarray
    #: share of the value left after local losses of perishables (the trader's net price)
    local: np.ndarray
    #: the trader and market rows of the logit, divided by the choice scale
    scaled_local_rows: np.ndarray
    #: farm-gate value times the row's real households
    weighted_value: np.ndarray
    #: the week's share of each kind's annual output, which the harvest follows from
    weekly: np.ndarray


class _OnlineTerms(NamedTuple):
    """What selling online is worth this week (see :meth:`FarmSales._online_terms`)."""

    transit_loss: float
    parcel_charge: float
    city: float
    #: share of the value that arrives after transit losses
    keep: np.ndarray
    net_online: np.ndarray
    station: np.ndarray


class _Flows(NamedTuple):
    """A week's money and goods: by rural household row (real-household totals) where later
    steps read the rows, county totals (yuan) where they read only the total."""

    sold: np.ndarray
    parcels: np.ndarray
    per_household: np.ndarray
    lost: float
    paid: float
    commission: float
    platform: float
    packaging: float
    charges: float
    online_receipts: float
    receipts: float
    anchor_paid: float


class FarmSales:
    """Weekly farm sales of the county's households, and the city demand they meet."""

    def __init__(self, model: CountyModel):
        self.model = model
        self.cfg = model.config.farm
        hh = model.households
        rows = np.flatnonzero(hh.rural)
        #: rural rows; a slice when they are one block (as the generator lays them out),
        #: since a slice reads and writes columns without gathering
        self.rows: np.ndarray | slice = rows
        if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
            self.rows = slice(int(rows[0]), int(rows[-1]) + 1)
        # fixed per rural household: output value by kind at farm-gate prices, place, weight
        self._mix_value = np.ascontiguousarray(hh.farm_base[self.rows][:, None] * hh.farm_mix[self.rows])
        self._node = hh.node[self.rows]
        self._weight = hh.weight[self.rows]
        self._trip = model.market.township_trip_cost[self.rows]
        kinds = [getattr(self.cfg, k) for k in FARM_KINDS]
        #: (weeks, kinds) share of each kind's annual output sold in each week
        self.profile = np.stack([harvest_profile(model.dates, k.harvest_months) for k in kinds], axis=1)
        self.perishable = np.array([k.perishable for k in kinds], dtype=float)
        rural_hh = float(hh.weight[self.rows].sum())
        self.reference_volume = self.cfg.city_market_yuan_per_household_week * max(rural_hh, 1.0)
        self.last_online_value = 0.0
        self._harvests = Remembered(self._make_harvest)
        #: per rural household: the share of the value that survives transit
        self._keep = Remembered(lambda weekly, loss: 1.0 - loss * self._harvests.get(weekly).perish)
        #: per rural household and yuan of output: the trips to the township station
        self._station = Remembered(self._make_station)
        #: 0 for households that sell online themselves, -inf for the others (see _channel_shares)
        self._seller_barrier = Remembered(lambda seller: np.where(seller, 0.0, -np.inf))
        #: expected weekly upward farm parcels per settlement (smoothed), for carriers' plans
        self.expected_parcels = np.zeros(model.county.n)
        self.week: dict[str, object] = {}

    def demand_factor(self) -> float:
        """City price response to the recent online volume (constant elasticity).

        The volume is smoothed (``farm.city_volume_smoothing``): prices set on last week's
        volume alone make a cobweb that flips between glut and drought every week.
        """
        return (1.0 + self.last_online_value / self.reference_volume) ** (-1.0 / self.cfg.city_demand_elasticity)

    def sell_week(self, i: int, door_share: np.ndarray) -> dict[str, object]:
        """This week's farm sales by channel; books receipts and returns the flows.

        Args:
            i: Week index.
            door_share: Share of parcels picked up in each settlement (the rest must be
                taken to the township station).
        """
        harvest = self._harvest(i)
        terms = self._online_terms(harvest, door_share)
        shares = self._channel_shares(harvest, terms)
        flows = self._flows(shares, harvest, terms)
        parcels_node = self._carry_forward(flows)
        self.week = {
            "value": float(harvest.weighted_value.sum()),
            "by_channel": flows.sold.sum(axis=1),
            "receipts": flows.receipts,
            "per_household": flows.per_household,
            "city_paid": flows.paid,
            "lost": flows.lost,
            "commission": flows.commission,
            "platform": flows.platform,
            "packaging": flows.packaging,
            "parcel_charges": flows.charges,
            "household_online_receipts": flows.online_receipts,
            "anchor_gate_value": float(flows.sold[FarmChannel.ANCHOR].sum()),
            "parcels_by_node": parcels_node,
        }
        return self.week

    def _harvest(self, i: int) -> _Harvest:
        """Farm-gate value each rural household harvests in week ``i``, and its perishable share.

        The harvest depends only on the week's profile, which is the same for every week
        of a month, so it is worked out once per profile (see :meth:`_make_harvest`).
        """
        return self._harvests.get(self.profile[i])

    def _make_harvest(self, weekly: np.ndarray) -> _Harvest:
        """The harvest of a week with the given share of each kind's annual output."""
        cfg = self.cfg
        value = self._mix_value @ weekly  # farm-gate value harvested this week
        perishable_value = self._mix_value @ (weekly * self.perishable)
        perish = np.divide(perishable_value, value, out=np.zeros_like(value), where=value > 0)
        safe_value = np.maximum(value, 1e-9)
        local = 1.0 - cfg.local_loss * perish
        rows = np.empty((2, len(value)))
        rows[0] = local
        rows[1] = (
            cfg.market_price_index * (1.0 - cfg.local_loss * perish)
            - cfg.market_trips_per_week * self._trip / safe_value
            + cfg.constant_market
        )
        rows /= cfg.choice_scale
        return _Harvest(perish, safe_value, local, rows, value * self._weight, weekly)

    def _make_station(self, door_share: np.ndarray, weekly: np.ndarray) -> np.ndarray:
        """Per yuan of the week's output, the cost of taking parcels to the township station
        (for the share of parcels not picked up in the village)."""
        away = (1.0 - door_share)[self._node]
        return away * self.cfg.station_trips_per_week * self._trip / self._harvests.get(weekly).safe_value

    def _online_terms(self, harvest: _Harvest, door_share: np.ndarray) -> _OnlineTerms:
        """What selling online is worth per yuan of output: the city price (brand premium,
        demand response), transit losses, parcel charges and trips to the station."""
        m = self.model
        cfg = self.cfg
        transit_loss = (
            m.config.logistics.loss_with_cold_chain
            if m.logistics.cold_storage
            else m.config.logistics.loss_without_cold_chain
        )
        c = m.config.carriers
        parcel_charge = (c.revenue_per_parcel + c.upward_margin_per_parcel) / cfg.up_parcel_value
        city = cfg.city_price_index * (1.0 + m.anchors.premium()) * self.demand_factor()
        keep = self._keep.get(harvest.weekly, transit_loss)
        net_online = city * keep
        station = self._station.get(door_share, harvest.weekly)
        return _OnlineTerms(transit_loss, parcel_charge, city, keep, net_online, station)

    def _channel_shares(self, harvest: _Harvest, terms: _OnlineTerms) -> np.ndarray:
        """Logit shares of the four channels, channel-major (a contiguous row per channel, so
        the logit's reductions are element-wise)."""
        cfg = self.cfg
        u = np.empty((len(FarmChannel), len(self._node)))
        u[: FarmChannel.MARKET + 1] = harvest.scaled_local_rows  # the trader and market rows
        reach = self.model.anchors.reach()
        anchor = u[FarmChannel.ANCHOR]
        # the online rows are worked out in place, term by term in the order of the formula
        if reach > 0:
            self._online_row(anchor, terms, 1.0 - cfg.anchor_commission)
            anchor += cfg.constant_anchor
            anchor += cfg.choice_scale * np.log(reach)
            anchor /= cfg.choice_scale
        else:
            anchor[:] = -np.inf
        own = u[FarmChannel.SELF_ONLINE]
        self._online_row(own, terms, 1.0 - cfg.platform_fee)
        own += cfg.constant_self_online
        # households that cannot sell online get -inf added (the same as setting it: the
        # rest of the row is finite)
        own += self._seller_barrier.get(self.model.households.online_seller[self.rows])
        own /= cfg.choice_scale
        u -= np.maximum.reduce(u, axis=0)
        exp_weights(u)
        u /= np.add.reduce(u, axis=0)  # the shares
        return u

    def _online_row(self, row: np.ndarray, terms: _OnlineTerms, kept: float) -> None:
        """Write an online channel's net price per yuan of output before its constant:
        net online price × ``kept`` (after commission or fee), less packaging, the parcel
        charge and the station trips."""
        np.multiply(terms.net_online, kept, out=row)
        row -= self.cfg.packaging_cost_share
        row -= terms.parcel_charge
        row -= terms.station

    def _flows(self, shares: np.ndarray, harvest: _Harvest, terms: _OnlineTerms) -> _Flows:
        """Where every yuan goes: what is sold by channel, what city buyers pay for what
        arrives, and what households keep after commissions, fees, packaging and parcels.

        Each term is the same row-wise formula as always (same operations, same order) and
        is totalled as soon as it is complete, so a handful of arrays are reused instead of
        a dozen being alive at once (a median county's week peaks ~5 MB lower).
        """
        cfg = self.cfg
        perish, city, keep = harvest.perish, terms.city, terms.keep
        sold = np.multiply(shares, harvest.weighted_value, out=shares)  # farm-gate value by channel
        online_gate = sold[FarmChannel.ANCHOR] + sold[FarmChannel.SELF_ONLINE]
        paid = online_gate * city  # value shipped at city prices ...
        term = paid * terms.transit_loss
        term *= perish
        lost = float(term.sum())
        paid -= term  # ... less what is lost on the way: what city buyers pay for what arrives
        total_paid = float(paid.sum())
        np.multiply(sold[FarmChannel.ANCHOR], city, out=term)
        term *= keep
        anchor_paid = float(term.sum())
        commission = term * cfg.anchor_commission
        total_commission = float(commission.sum())
        receipts_online = np.subtract(paid, commission, out=paid)
        np.multiply(sold[FarmChannel.SELF_ONLINE], city, out=term)
        term *= keep
        term *= cfg.platform_fee
        platform = float(term.sum())
        receipts_online -= term
        np.multiply(online_gate, cfg.packaging_cost_share, out=term)
        packaging = float(term.sum())
        receipts_online -= term
        parcels = online_gate / cfg.up_parcel_value
        np.multiply(parcels, cfg.up_parcel_value, out=term)
        term *= terms.parcel_charge
        charges = float(term.sum())
        receipts_online -= term
        receipts = np.multiply(sold[FarmChannel.TRADER], harvest.local, out=commission)
        np.multiply(sold[FarmChannel.MARKET], cfg.market_price_index, out=term)
        term *= harvest.local
        receipts += term  # local receipts
        receipts += receipts_online  # real-household totals per row
        return _Flows(
            sold=sold,
            parcels=parcels,
            per_household=receipts / self._weight,
            lost=lost,
            paid=total_paid,
            commission=total_commission,
            platform=platform,
            packaging=packaging,
            charges=charges,
            online_receipts=float(receipts_online.sum()),
            receipts=float(receipts.sum()),
            anchor_paid=anchor_paid,
        )

    def _carry_forward(self, flows: _Flows) -> np.ndarray:
        """What later weeks read: smoothed farm income for budgets, expected upward parcels
        for carriers' plans, the online volume for the city price, and the anchors' books.

        Returns:
            This week's upward farm parcels by settlement.
        """
        cfg = self.cfg
        hh = self.model.households
        rows = self.rows
        # households budget on smoothed farm income
        a = 1.0 / cfg.income_smoothing_weeks
        smoothed = hh.farm_revenue_avg[rows]  # (1 - a) * smoothed + a * this week's, in place when a view
        smoothed *= 1.0 - a
        smoothed += a * flows.per_household
        hh.farm_revenue_avg[rows] = smoothed
        parcels_node = np.bincount(self._node, weights=flows.parcels, minlength=self.model.county.n)
        k = cfg.parcel_expectation_smoothing
        self.expected_parcels = (1.0 - k) * self.expected_parcels + k * parcels_node
        k = cfg.city_volume_smoothing
        self.last_online_value = (1.0 - k) * self.last_online_value + k * flows.paid
        self.model.anchors.book_week(
            commission=flows.commission,
            volume=flows.anchor_paid,
            reference=self.reference_volume,
        )
        return parcels_node
