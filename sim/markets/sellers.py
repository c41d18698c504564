"""Sellers of everyday goods as households' channel choice sees them, and what each earns.

Households compare channels through one number per seller, its basket ratio (price and
range against the county town's, :meth:`sim.markets.channels.Market.basket_ratio`): the
village stores of each village (their nest), each township (its market, or a chain's
commerce centre), the county town and online. :class:`Sellers` keeps this week's ratios,
hands every yuan households spent to a seller, and answers the firms' what-if questions
(a store's revenue if it upgraded, a would-be owner's revenue in a village, a centre's
revenue in a township) with the market's own choice at the planning budget (no season,
no noise), so firms decide on what the choice would give.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents.store import NEWTYPE, TRADITIONAL, VillageStore
from sim.markets.kinds import Channel

if TYPE_CHECKING:
    from sim.model import CountyModel

#: The week's basket ratios: per settlement for village stores and townships (inf where
#: there is none), then the county town's and online.
Ratios = tuple[np.ndarray, np.ndarray, float, float]

#: Where the week's everyday spending went (the ledger's keys, in order).
LEDGER_KEYS = (
    "village_stores",
    "township_centers",
    "township_markets",
    "county_outlets",
    "county_independents",
    "online",
    "instant_retail",
)


class Sellers:
    """The county's sellers of everyday goods, as the weekly choice and the firms read them.

    Attributes:
        ratios: This week's basket ratios (:data:`Ratios`), read again by
            :meth:`update_ratios` whenever stores, centres or prices change.
    """

    def __init__(self, model: CountyModel):
        self.model = model
        self.ratios: Ratios = self._read_ratios()

    # --- channel attributes ----------------------------------------------------------

    def update_ratios(self) -> None:
        """Read the sellers' basket ratios again."""
        self.ratios = self._read_ratios()

    def _read_ratios(self) -> Ratios:
        return self._village_ratio(), self._township_ratio(), self._county_ratio(), self._online_ratio()

    def _village_ratio(self) -> np.ndarray:
        vr = np.full(self.model.county.n, np.inf)
        for node, stores in self.model.stores_by_node.items():
            if stores:
                vr[node] = self.model.market.nest_ratio(tuple(s.basket_ratio() for s in stores))
        return vr

    def _township_ratio(self) -> np.ndarray:
        m = self.model
        b = m.config.behaviour
        tr = np.full(m.county.n, np.inf)  # the county town has no separate township channel
        market = m.market.basket_ratio(b.township_market_price_index, b.assortment_township_market)
        center = m.market.basket_ratio(b.township_center_price_index, b.assortment_township_center)
        for t in m.county.townships:
            tr[t] = center if m.center_at(int(t)) is not None else market
        return tr

    def _county_ratio(self) -> float:
        return float(self.model.market.basket_ratio(1.0, 1.0))

    def _online_ratio(self) -> float:
        b = self.model.config.behaviour
        return float(
            self.model.market.basket_ratio(b.online_price_index, b.assortment_online) + b.online_wait_cost_share
        )

    # --- the week's sales ------------------------------------------------------------

    def book_week(self, spend: np.ndarray) -> dict[str, float]:
        """Hand every yuan households spent this week to a seller.

        Args:
            spend: Spending per household and channel (yuan, real households).

        Returns:
            The ledger: where the week's spending went (:data:`LEDGER_KEYS`), for
            conservation checks.
        """
        m = self.model
        hh = m.households
        n = m.county.n
        for ret in m.retailers:
            ret.fee_income_week = 0.0
        by_village = np.bincount(hh.node, weights=spend[:, Channel.VILLAGE_STORE], minlength=n)
        by_township = np.bincount(hh.township, weights=spend[:, Channel.TOWNSHIP], minlength=n)
        ledger = dict.fromkeys(LEDGER_KEYS, 0.0)
        for node, stores in list(m.stores_by_node.items()):
            split = m.market.within_village_split(tuple(s.basket_ratio() for s in stores))
            for store, share in zip(stores, split, strict=True):
                revenue = float(by_village[node] * share)
                store.book_week(revenue)
                ledger["village_stores"] += revenue
        self._book_townships(by_township, ledger)
        county_total = float(spend[:, Channel.COUNTY_TOWN].sum())
        if m.retailers:
            each = county_total * m.config.retailers.county_outlet_share / len(m.retailers)
            for ret in m.retailers:
                ret.book_outlets(each)
            ledger["county_outlets"] = each * len(m.retailers)
        ledger["county_independents"] = county_total - ledger["county_outlets"]
        ledger["online"] = float(spend[:, Channel.ONLINE].sum())
        ledger["instant_retail"] = float(spend[:, Channel.INSTANT_RETAIL].sum())
        return ledger

    def _book_townships(self, by_township: np.ndarray, ledger: dict[str, float]) -> None:
        """A township's spending: the centre's capture share to its centre, the rest to its
        market; a centre whose township spent nothing books an empty week."""
        m = self.model
        capture = m.config.retailers.center_capture_share
        for t in np.flatnonzero(by_township):
            center = m.center_at(int(t))
            if center is not None:
                got = float(by_township[t] * capture)
                center.book_week(got)
                ledger["township_centers"] += got
                ledger["township_markets"] += float(by_township[t]) - got
            else:
                ledger["township_markets"] += float(by_township[t])
        for center in (c for ret in m.retailers for c in ret.centers.values()):
            if by_township[center.node] == 0:
                center.book_week(0.0)

    # --- what firms expect -------------------------------------------------------------

    def expected_online_spend(self) -> np.ndarray:
        """Online spending per settlement at the planning budget (no season, no noise)."""
        m = self.model
        market = m.market
        vr, tr, cr, orr = self.ratios
        cost = market.costs(market.base_budget, vr, tr, cr, orr, m.logistics.door_share)
        spend = market.shares(cost)[:, Channel.ONLINE] * market.base_budget * m.households.weight
        return np.bincount(m.households.node, weights=spend, minlength=m.county.n)

    def _village_store_spend(self, node: int, village_ratio: np.ndarray) -> float:
        """Expected weekly spending at a village's stores (planning budget, no noise)."""
        m = self.model
        rows = m.market.rows_in(node)
        if len(rows) == 0:
            return 0.0
        _, tr, cr, orr = self.ratios
        budget = m.market.base_budget[rows]
        cost = m.market.costs(budget, village_ratio, tr, cr, orr, m.logistics.door_share, rows)
        share = m.market.shares(cost)[:, Channel.VILLAGE_STORE]
        return float((budget * share * m.households.weight[rows]).sum())

    def store_revenue_if(self, store: VillageStore, new_ratio: float) -> tuple[float, float]:
        """A store's expected weekly revenue now, and if its basket ratio became ``new_ratio``."""
        market = self.model.market
        stores = self.model.stores_at(store.node)
        idx = stores.index(store)
        ratios = np.array([s.basket_ratio() for s in stores])
        vr = self.ratios[0].copy()
        out = []
        for r in (ratios, np.where(np.arange(len(ratios)) == idx, new_ratio, ratios)):
            vr[store.node] = market.nest_ratio(r)
            out.append(self._village_store_spend(store.node, vr) * market.within_village_split(r)[idx])
        return out[0], out[1]

    def entrant_revenue(self, node: int, kind: str = TRADITIONAL) -> float:
        """Expected weekly revenue of a new store opening in a village."""
        market = self.model.market
        ratios = np.array([s.basket_ratio() for s in self.model.stores_at(node)] + [self._kind_ratio(kind)])
        vr = self.ratios[0].copy()
        vr[node] = market.nest_ratio(ratios)
        return self._village_store_spend(node, vr) * market.within_village_split(ratios)[-1]

    def _kind_ratio(self, kind: str) -> float:
        """Basket ratio of a new store of ``kind`` (not yet digital or in a chain)."""
        s = self.model.config.stores
        markup = s.markup_newtype if kind == NEWTYPE else s.markup_traditional
        assort = s.assortment_newtype if kind == NEWTYPE else s.assortment_traditional
        return float(self.model.market.basket_ratio(1.0 + markup, assort))

    def center_revenue_if(self, node: int) -> float:
        """Expected weekly revenue of a commerce centre opened in township ``node``."""
        m = self.model
        b = m.config.behaviour
        rows = m.market.rows_of_township(node)
        if len(rows) == 0:
            return 0.0
        vr, tr, cr, orr = self.ratios
        tr = tr.copy()
        tr[node] = m.market.basket_ratio(b.township_center_price_index, b.assortment_township_center)
        budget = m.market.base_budget[rows]
        cost = m.market.costs(budget, vr, tr, cr, orr, m.logistics.door_share, rows)
        share = m.market.shares(cost)[:, Channel.TOWNSHIP]
        return float((budget * share * m.households.weight[rows]).sum()) * m.config.retailers.center_capture_share
