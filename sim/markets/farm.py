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

from typing import TYPE_CHECKING

import numpy as np

from sim.config import FARM_KINDS
from sim.markets.kinds import FarmChannel
from sim.markets.logit import exp_weights

if TYPE_CHECKING:
    from sim.model import CountyModel


def harvest_profile(dates: list, months: list[int]) -> np.ndarray:
    """Share of a year's output of a kind harvested in each simulated week.

    A kind harvested in N months spreads its output evenly over those months' weeks
    (N × 52/12 weeks a year), so a full year sums to one.
    """
    weeks_per_year = len(months) * 52.0 / 12.0
    return np.array([1.0 / weeks_per_year if d.month in months else 0.0 for d in dates])


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
        m = self.model
        cfg = self.cfg
        hh = m.households
        rows = self.rows
        lg = m.logistics
        anchors = m.anchors
        weekly = self.profile[i]  # (kinds,)
        value = self._mix_value @ weekly  # farm-gate value harvested this week
        perishable_value = self._mix_value @ (weekly * self.perishable)
        perish = np.divide(perishable_value, value, out=np.zeros_like(value), where=value > 0)
        safe_value = np.maximum(value, 1e-9)
        node = self._node
        trip = self._trip

        transit_loss = (
            m.config.logistics.loss_with_cold_chain if lg.cold_storage else m.config.logistics.loss_without_cold_chain
        )
        c = m.config.carriers
        parcel_charge = (c.revenue_per_parcel + c.upward_margin_per_parcel) / cfg.up_parcel_value
        city = cfg.city_price_index * (1.0 + anchors.premium()) * self.demand_factor()
        net_online = city * (1.0 - transit_loss * perish)
        station = (1.0 - door_share)[node] * cfg.station_trips_per_week * trip / safe_value

        # channel-major: a contiguous row per channel, so the logit's reductions are element-wise
        u = np.empty((len(FarmChannel), len(self._node)))
        u[FarmChannel.TRADER] = 1.0 - cfg.local_loss * perish
        u[FarmChannel.MARKET] = (
            cfg.market_price_index * (1.0 - cfg.local_loss * perish)
            - cfg.market_trips_per_week * trip / safe_value
            + cfg.constant_market
        )
        reach = anchors.reach()
        if reach > 0:
            u[FarmChannel.ANCHOR] = (
                net_online * (1.0 - cfg.anchor_commission)
                - cfg.packaging_cost_share
                - parcel_charge
                - station
                + cfg.constant_anchor
                + cfg.choice_scale * np.log(reach)
            )
        else:
            u[FarmChannel.ANCHOR] = -np.inf
        u[FarmChannel.SELF_ONLINE] = np.where(
            hh.online_seller[rows],
            net_online * (1.0 - cfg.platform_fee)
            - cfg.packaging_cost_share
            - parcel_charge
            - station
            + cfg.constant_self_online,
            -np.inf,
        )
        u /= cfg.choice_scale
        u -= np.maximum.reduce(u, axis=0)
        exp_weights(u)
        u /= np.add.reduce(u, axis=0)  # the shares

        w = self._weight
        sold = u * (value * w)  # farm-gate value by channel (rows), real households
        local = 1.0 - cfg.local_loss * perish
        online_gate = sold[FarmChannel.ANCHOR] + sold[FarmChannel.SELF_ONLINE]
        gross = online_gate * city  # value shipped at city prices
        lost = gross * transit_loss * perish
        paid = gross - lost  # what city buyers pay for what arrives
        commission = (sold[FarmChannel.ANCHOR] * city * (1.0 - transit_loss * perish)) * cfg.anchor_commission
        platform = (sold[FarmChannel.SELF_ONLINE] * city * (1.0 - transit_loss * perish)) * cfg.platform_fee
        packaging = online_gate * cfg.packaging_cost_share
        parcels = online_gate / cfg.up_parcel_value
        charges = parcels * cfg.up_parcel_value * parcel_charge
        online_receipts = paid - commission - platform - packaging - charges
        local_receipts = sold[FarmChannel.TRADER] * local + sold[FarmChannel.MARKET] * cfg.market_price_index * local
        receipts = local_receipts + online_receipts  # real-household totals per row
        per_household = receipts / w

        # households budget on smoothed farm income
        a = 1.0 / cfg.income_smoothing_weeks
        hh.farm_revenue_avg[rows] = (1.0 - a) * hh.farm_revenue_avg[rows] + a * per_household
        n = m.county.n
        parcels_node = np.bincount(node, weights=parcels, minlength=n)
        k = cfg.parcel_expectation_smoothing
        self.expected_parcels = (1.0 - k) * self.expected_parcels + k * parcels_node
        k = cfg.city_volume_smoothing
        self.last_online_value = (1.0 - k) * self.last_online_value + k * float(paid.sum())
        anchor_paid = sold[FarmChannel.ANCHOR] * city * (1.0 - transit_loss * perish)
        anchors.book_week(
            commission=float(commission.sum()), volume=float(anchor_paid.sum()), reference=self.reference_volume
        )
        self.week = {
            "value": float((value * w).sum()),
            "by_channel": sold.sum(axis=1),
            "receipts": float(receipts.sum()),
            "per_household": per_household,
            "city_paid": float(paid.sum()),
            "lost": float(lost.sum()),
            "commission": float(commission.sum()),
            "platform": float(platform.sum()),
            "packaging": float(packaging.sum()),
            "parcel_charges": float(charges.sum()),
            "household_online_receipts": float(online_receipts.sum()),
            "anchor_gate_value": float(sold[FarmChannel.ANCHOR].sum()),
            "parcels_by_node": parcels_node,
        }
        return self.week
