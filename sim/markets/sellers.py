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

from sim.agents.store import TRADITIONAL, StoreKind, weekly_profit
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
        st = model.config.stores
        #: basket ratio of a store of each :class:`StoreKind` (price and range follow the kind only)
        self.kind_ratios = np.array(
            [
                float(model.market.basket_ratio(1.0 + st.markup_traditional, st.assortment_traditional)),
                float(model.market.basket_ratio(1.0 + st.markup_newtype, st.assortment_newtype)),
            ]
        )
        self.ratios: Ratios = self._read_ratios()

    # --- channel attributes ----------------------------------------------------------

    def update_ratios(self) -> None:
        """Read the sellers' basket ratios again."""
        self.ratios = self._read_ratios()

    def _read_ratios(self) -> Ratios:
        return self._village_ratio(), self._township_ratio(), self._county_ratio(), self._online_ratio()

    def _village_ratio(self) -> np.ndarray:
        return self.current_nest()[0]

    def current_nest(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`village_nest` of the open stores as they are (kept until they change)."""
        t = self.model.store_table

        def make() -> tuple[np.ndarray, np.ndarray]:
            rows = t.open_rows()
            vr, split = self.village_nest(t.node[rows], self.kind_ratios[t.kind[rows]])
            vr.flags.writeable = split.flags.writeable = False  # shared by every reader
            return vr, split

        return t.cached("nest", make)

    def village_nest(self, node: np.ndarray, ratio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The village nest of many stores at once (:meth:`Market.nest_ratio` and
        :meth:`Market.within_village_split`, same formulas, grouped by village).

        Args:
            node: Each store's village; stores of a village in their order (opening order).
            ratio: Each store's basket ratio.

        Returns:
            ``(village_ratio, split)``: per settlement the nest's ratio (inf without a
            store), per store its share of its village's store spending.
        """
        n = self.model.county.n
        b = self.model.config.behaviour
        lam = b.store_nest_scale
        k = self.model.market.reference_budget / b.choice_scale_yuan
        z = -k * ratio / lam
        top = np.full(n, -np.inf)
        np.maximum.at(top, node, z)
        w = np.exp(z - top[node])
        total = np.bincount(node, weights=w, minlength=n)
        has = total > 0
        vr = np.full(n, np.inf)
        vr[has] = -lam * (top[has] + np.log(total[has])) / k
        return vr, w / total[node]

    def _township_ratio(self) -> np.ndarray:
        m = self.model
        b = m.config.behaviour
        tr = np.full(m.county.n, np.inf)  # the county town has no separate township channel
        market = m.market.basket_ratio(b.township_market_price_index, b.assortment_township_market)
        center = m.market.basket_ratio(b.township_center_price_index, b.assortment_township_center)
        towns = m.county.townships
        tr[towns] = np.where(m.center_table.at_node[towns] >= 0, center, market)
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
        by_village = np.bincount(hh.node, weights=spend[:, Channel.VILLAGE_STORE], minlength=n)
        by_township = np.bincount(hh.township, weights=spend[:, Channel.TOWNSHIP], minlength=n)
        ledger = dict.fromkeys(LEDGER_KEYS, 0.0)
        ledger["village_stores"] = self._book_stores(by_village)
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

    def _book_stores(self, by_village: np.ndarray) -> float:
        """Every open store's week at once: its share of its village's store spending, its
        costs, the chain fee (the chain_supply programme pays its part for chained stores
        in store order while its pot lasts) and the fees to the chains.

        Returns:
            The stores' total revenue (yuan).
        """
        m = self.model
        s = m.config.stores
        t = m.store_table
        rows = t.open_rows()
        node, kind, chain = t.node[rows], t.kind[rows], t.chain[rows]
        revenue = by_village[node] * self.current_nest()[1]
        chained = chain >= 0
        relief = np.zeros(len(rows))
        rate = m.config.policy.chain_supply_subsidy
        if rate > 0 and chained.any():
            relief[chained] = m.government.pay_up_to_each("chain_supply", rate * s.chain_fee_week, int(chained.sum()))
        profit = weekly_profit(s, revenue, kind, chained, t.digital[rows], relief)
        t.revenue_week[rows] = revenue
        t.service_income_week[rows] = 0.0
        t.profit_week[rows] = profit
        t.cash[rows] += profit
        t.month_profit[rows] += profit
        if m.retailers:
            fees = np.bincount(chain[chained], minlength=len(m.retailers)) * s.chain_fee_week
            for ret, fee in zip(m.retailers, fees.tolist(), strict=True):
                ret.fee_income_week = fee
                ret.cash += fee
        return float(revenue.sum())

    def _book_townships(self, by_township: np.ndarray, ledger: dict[str, float]) -> None:
        """A township's spending: the centre's capture share to its centre, the rest to its
        market; a centre whose township spent nothing books an empty week."""
        m = self.model
        r = m.config.retailers
        c = m.center_table
        got = by_township[c.node] * r.center_capture_share
        c.revenue_week[:] = got
        c.profit_week[:] = got * r.center_gross_margin - r.center_fixed_cost_week
        for ret, profit in zip(
            m.retailers, np.bincount(c.owner, c.profit_week, len(m.retailers)).tolist(), strict=True
        ):
            ret.cash += profit
        ledger["township_centers"] = float(got.sum())
        ledger["township_markets"] = float(by_township.sum()) - ledger["township_centers"]

    # --- what firms expect -------------------------------------------------------------

    def expected_online_spend(self) -> np.ndarray:
        """Online spending per settlement at the planning budget (no season, no noise)."""
        m = self.model
        market = m.market
        vr, tr, cr, orr = self.ratios
        cost = market.costs(market.base_budget, vr, tr, cr, orr, m.logistics.door_share)
        spend = market.shares(cost)[:, Channel.ONLINE] * market.base_budget * m.households.weight
        return np.bincount(m.households.node, weights=spend, minlength=m.county.n)

    def village_store_spend(self, village_ratio: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """Expected weekly spending at the village stores of each of ``nodes`` (distinct
        villages; planning budget, no noise), in one pass over their households.

        Args:
            village_ratio: Per settlement, the village channel's ratio to assume (a
                household sees only its own village's).
            nodes: The villages.
        """
        m = self.model
        if len(nodes) == 0:
            return np.zeros(0)
        rows = np.concatenate([m.market.rows_in(int(v)) for v in nodes])
        _, tr, cr, orr = self.ratios
        budget = m.market.base_budget[rows]
        cost = m.market.costs(budget, village_ratio, tr, cr, orr, m.logistics.door_share, rows)
        share = m.market.shares(cost)[:, Channel.VILLAGE_STORE]
        spend = np.bincount(
            m.households.node[rows], weights=budget * share * m.households.weight[rows], minlength=m.county.n
        )
        return spend[nodes]

    def store_revenues_if(self, rows: np.ndarray, new_kind: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Open stores' expected weekly revenue as things are, and each if its own kind
        became ``new_kind`` (the others as they are), on the current stores and channels.

        One pass over the households of the stores' villages for the present, and one per
        place a store holds among its village's stores (a village's first stores in one
        pass, its second in the next, ...), so every pass changes one store per village.

        Returns:
            ``(now, then)`` per row (``then`` equals ``now`` when ``new_kind`` is None).
        """
        t = self.model.store_table
        open_rows = t.open_rows()
        node, ratio = t.node[open_rows], self.kind_ratios[t.kind[open_rows]]
        at = np.searchsorted(open_rows, rows)
        vr, split = self.village_nest(node, ratio)
        villages = np.unique(node[at])
        spend = np.zeros(self.model.county.n)
        spend[villages] = self.village_store_spend(vr, villages)
        now = spend[node[at]] * split[at]
        if new_kind is None:
            return now, now.copy()
        then = np.empty(len(rows))
        slot = t.slots()[at]
        for k in np.unique(slot):
            pick = np.flatnonzero(slot == k)
            alt = ratio.copy()
            alt[at[pick]] = self.kind_ratios[new_kind[pick]]
            vr_k, split_k = self.village_nest(node, alt)
            nodes_k = node[at[pick]]
            then[pick] = self.village_store_spend(vr_k, nodes_k) * split_k[at[pick]]
        return now, then

    def entrant_revenues(self, nodes: np.ndarray, kind: StoreKind = TRADITIONAL) -> np.ndarray:
        """Expected weekly revenue of a new store of ``kind`` opening in each of ``nodes``
        (distinct villages; each joins its village's nest after the stores there)."""
        t = self.model.store_table
        rows = t.open_rows()
        node = np.concatenate([t.node[rows], nodes])
        ratio = np.concatenate([self.kind_ratios[t.kind[rows]], np.full(len(nodes), self.kind_ratios[kind])])
        vr, split = self.village_nest(node, ratio)
        return self.village_store_spend(vr, nodes) * split[len(rows) :]

    def entrant_revenue(self, node: int, kind: StoreKind = TRADITIONAL) -> float:
        """Expected weekly revenue of a new store opening in a village."""
        return float(self.entrant_revenues(np.array([node]), kind)[0])

    def center_revenues_if(self, nodes: np.ndarray) -> np.ndarray:
        """Expected weekly revenue of a commerce centre opened in each township of ``nodes``
        (distinct), in one pass over their households (a household sees only its own
        township's channel)."""
        m = self.model
        b = m.config.behaviour
        nodes = np.asarray(nodes, dtype=np.int64)
        parts = [m.market.rows_of_township(int(t)) for t in nodes]
        rows = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros(len(nodes))
        vr, tr, cr, orr = self.ratios
        tr = tr.copy()
        tr[nodes] = m.market.basket_ratio(b.township_center_price_index, b.assortment_township_center)
        budget = m.market.base_budget[rows]
        cost = m.market.costs(budget, vr, tr, cr, orr, m.logistics.door_share, rows)
        share = m.market.shares(cost)[:, Channel.TOWNSHIP]
        spend = np.bincount(
            m.households.township[rows], weights=budget * share * m.households.weight[rows], minlength=m.county.n
        )
        return spend[nodes] * m.config.retailers.center_capture_share
