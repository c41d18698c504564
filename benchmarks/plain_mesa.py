"""A plain per-agent Mesa implementation of the household weekly decision, as a reference.

This is how the household decision would be written without vectorisation: one Mesa
agent per household holding its attributes as Python values, and a ``step`` that works
out its channel costs, logit shares, spending, travel and surplus, sells its harvest by
the same farm-channel logit, and draws its adoption of online buying and selling. The
rules are exactly those of ``sim.markets.channels``, ``sim.markets.farm`` and ``sim.markets.adoption`` (the
benchmark's equality test checks the aggregates); only the form differs. It lives in
``benchmarks/`` because the model never uses it.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim.markets.kinds import Channel, FarmChannel
from sim.model import CountyModel


class PlainHousehold(mesa.Agent):
    """One household with its own attributes and a per-agent weekly decision."""

    def __init__(self, model: PlainModel, row: int):
        super().__init__(model)
        src = model.source
        hh, mk = src.households, src.market
        self.row = row
        self.node = int(hh.node[row])
        self.township = int(hh.township[row])
        self.weight = float(hh.weight[row])
        self.base_budget = float(mk.base_budget[row])
        self.trip_cost = [float(x) for x in mk.trip_cost[row]]
        self.trip_km = [float(x) for x in mk.trip_km[row]]
        self.fetch_cost = float(mk.fetch_cost[row])
        self.fetch_km = float(mk.fetch_km[row])
        self.township_trip_cost = float(mk.township_trip_cost[row])
        self.online_buyer = bool(hh.online_buyer[row])
        self.online_seller = bool(hh.online_seller[row])
        self.trained = bool(hh.trained[row])
        self.instant_reach = bool(mk.instant_in_radius[row]) and self.online_buyer
        self.rural = bool(hh.rural[row])
        self.age = float(hh.age_head[row])
        self.farm_base = float(hh.farm_base[row])
        self.farm_mix = [float(x) for x in hh.farm_mix[row]]
        self.spend = [0.0] * 5
        self.surplus = 0.0
        self.km = 0.0
        self.farm_receipts = 0.0

    def shop(self, noise: float) -> None:
        m = self.model
        b = m.source.config.behaviour
        budget = self.base_budget * m.season * noise
        door = m.door[self.node]
        cost = [
            budget * m.village_ratio[self.node] + self.trip_cost[Channel.VILLAGE_STORE],
            budget * m.township_ratio[self.township] + self.trip_cost[Channel.TOWNSHIP],
            budget * m.county_ratio + self.trip_cost[Channel.COUNTY_TOWN],
            budget * m.online_ratio + (1.0 - door) * self.fetch_cost if self.online_buyer else math.inf,
            budget * m.instant_ratio + m.instant_fee if self.instant_reach else math.inf,
        ]
        cost = [c - k for c, k in zip(cost, m.constants, strict=True)]
        z = [-c / b.choice_scale_yuan for c in cost]
        top = max(z)
        e = [math.exp(x - top) for x in z]
        total = sum(e)
        shares = [x / total for x in e]
        self.spend = [s * budget * self.weight for s in shares]
        self.surplus = b.choice_scale_yuan * (top + math.log(total)) + cost[Channel.COUNTY_TOWN]
        km = sum(shares[c] * self.trip_km[c] for c in (Channel.VILLAGE_STORE, Channel.TOWNSHIP, Channel.COUNTY_TOWN))
        self.km = km + shares[Channel.ONLINE] * (1.0 - door) * self.fetch_km

    def sell(self) -> None:
        m = self.model
        f = m.farm
        weekly = f["profile"]
        by_kind = [self.farm_base * mix * w for mix, w in zip(self.farm_mix, weekly, strict=True)]
        value = sum(by_kind)
        perish = sum(v * p for v, p in zip(by_kind, f["perishable"], strict=True)) / value if value > 0 else 0.0
        safe = max(value, 1e-9)
        cfg = f["cfg"]
        net_online = f["city"] * (1.0 - f["transit_loss"] * perish)
        station = (1.0 - m.door[self.node]) * cfg.station_trips_per_week * self.township_trip_cost / safe
        u = [0.0] * 4
        u[FarmChannel.TRADER] = 1.0 - cfg.local_loss * perish
        u[FarmChannel.MARKET] = (
            cfg.market_price_index * (1.0 - cfg.local_loss * perish)
            - cfg.market_trips_per_week * self.township_trip_cost / safe
            + cfg.constant_market
        )
        u[FarmChannel.ANCHOR] = (
            (
                net_online * (1.0 - cfg.anchor_commission)
                - cfg.packaging_cost_share
                - f["parcel_charge"]
                - station
                + cfg.constant_anchor
                + cfg.choice_scale * math.log(f["reach"])
            )
            if f["reach"] > 0
            else -math.inf
        )
        u[FarmChannel.SELF_ONLINE] = (
            (
                net_online * (1.0 - cfg.platform_fee)
                - cfg.packaging_cost_share
                - f["parcel_charge"]
                - station
                + cfg.constant_self_online
            )
            if self.online_seller
            else -math.inf
        )
        top = max(x / cfg.choice_scale for x in u)
        e = [math.exp(x / cfg.choice_scale - top) for x in u]
        total = sum(e)
        sold = [x / total * value * self.weight for x in e]
        local = 1.0 - cfg.local_loss * perish
        gross_net = f["city"] * (1.0 - f["transit_loss"] * perish)
        online = (
            sold[FarmChannel.ANCHOR] * gross_net * (1.0 - cfg.anchor_commission)
            + sold[FarmChannel.SELF_ONLINE] * gross_net * (1.0 - cfg.platform_fee)
            - (sold[FarmChannel.ANCHOR] + sold[FarmChannel.SELF_ONLINE])
            * (cfg.packaging_cost_share + f["parcel_charge"])
        )
        self.farm_receipts = (
            sold[FarmChannel.TRADER] * local + sold[FarmChannel.MARKET] * cfg.market_price_index * local + online
        )

    def adopt(self, u_buy: float, u_sell: float, buy_share: float, sell_share: float) -> tuple[bool, bool]:
        m = self.model
        sc = m.source.config
        ad, pop = sc.adoption, sc.population
        factor = 2.0 / (1.0 + math.exp((self.age - pop.age_head_mean) / pop.online_age_years_per_logit))
        factor *= ad.no_delivery_factor + (1.0 - ad.no_delivery_factor) * m.door[self.node]
        h_buy = 1.0 - math.exp(-(ad.buy_innovation_per_month + ad.buy_imitation_per_month * buy_share) * factor)
        rate = ad.sell_innovation_per_month + ad.sell_imitation_per_month * sell_share
        rate += ad.trained_sell_rate_per_month if self.trained else 0.0
        h_sell = 1.0 - math.exp(-rate * factor)
        new_buy = (not self.online_buyer) and u_buy < h_buy
        new_sell = self.rural and self.online_buyer and (not self.online_seller) and u_sell < h_sell
        self.online_buyer |= new_buy
        self.online_seller |= new_sell
        return new_buy, new_sell


class PlainModel(mesa.Model):
    """Holds plain household agents built from a CountyModel's households and its week's inputs."""

    def __init__(self, source: CountyModel, week: int):
        super().__init__(rng=0)
        self.source = source
        source.sellers.update_ratios()
        vr, tr, cr, orr = source.sellers.ratios
        self.village_ratio = [float(x) for x in vr]
        self.township_ratio = [float(x) for x in tr]
        self.county_ratio = cr
        self.online_ratio = orr
        self.instant_ratio = source.market.instant_ratio
        self.instant_fee = source.market.instant_fee
        self.constants = [float(x) for x in source.market.constants]
        self.door = [float(x) for x in source.logistics.door_share]
        self.season = float(source.season[week])
        fs = source.farm
        cfg = fs.cfg
        lg = source.logistics
        c = source.config.carriers
        self.farm = {
            "cfg": cfg,
            "profile": [float(x) for x in fs.profile[week]],
            "perishable": [float(x) for x in fs.perishable],
            "transit_loss": source.config.logistics.loss_with_cold_chain
            if lg.cold_storage
            else source.config.logistics.loss_without_cold_chain,
            "parcel_charge": (c.revenue_per_parcel + c.upward_margin_per_parcel) / cfg.up_parcel_value,
            "city": cfg.city_price_index * (1.0 + source.anchors.premium()) * fs.demand_factor(),
            "reach": source.anchors.reach(),
        }
        self.households = [PlainHousehold(self, row) for row in range(len(source.households))]

    def decide(self, noise: np.ndarray, u_buy: np.ndarray, u_sell: np.ndarray) -> dict[str, float]:
        """One household decision for every agent, in a Python loop; returns the aggregates."""
        for h in self.households:
            h.shop(float(noise[h.row]))
        for h in self.households:
            if h.rural:
                h.sell()
        # village adopter shares, counted agent by agent
        n = len(self.door)
        total, buyers, sellers = [0.0] * n, [0.0] * n, [0.0] * n
        for h in self.households:
            total[h.node] += h.weight
            buyers[h.node] += h.weight * h.online_buyer
            sellers[h.node] += h.weight * h.online_seller
        new_buy = new_sell = 0
        for h in self.households:
            share_b = buyers[h.node] / total[h.node] if total[h.node] > 0 else 0.0
            share_s = sellers[h.node] / total[h.node] if total[h.node] > 0 else 0.0
            b, s = h.adopt(float(u_buy[h.row]), float(u_sell[h.row]), share_b, share_s)
            new_buy += b
            new_sell += s
        return {
            "spend": float(sum(sum(h.spend) for h in self.households)),
            "online": float(sum(h.spend[Channel.ONLINE] for h in self.households)),
            "instant": float(sum(h.spend[Channel.INSTANT_RETAIL] for h in self.households)),
            "surplus": float(sum(h.surplus for h in self.households)),
            "km": float(sum(h.km for h in self.households)),
            "farm_receipts": float(sum(h.farm_receipts for h in self.households if h.rural)),
            "new_buyers": float(new_buy),
            "new_sellers": float(new_sell),
        }
