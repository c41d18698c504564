"""Where households buy: the weekly channel choice, for all households at once.

Each household splits its everyday budget among four channels — its village store(s),
its township (market or commerce centre), the county town, and online — by a
multinomial logit on a generalised weekly cost in yuan:

    cost_c = budget * (price_c - 1)                 # dearer shelves
           - budget * assortment_value * assort_c   # a wider range is worth something
           + trips_c * trip_cost_c                  # fuel/fare and time, valued by income
           - constant_c                             # convenience, habit, trust (calibrated)

    share_c = exp(-cost_c / scale) / sum_k exp(-cost_k / scale)

Where parcels are not delivered to the village, the trips to fetch them at the township
station are added to the online cost in proportion to the share of parcels left there.
Households within the instant-retail radius of the county town (即时零售) have a fifth
channel: county-town shelves delivered within the hour, for a delivery fee. Several stores in one village form a nest: the village
channel's price/assortment term is their log-sum with a nest scale below one (stores in
one village are close substitutes), and the channel's spending is split among them by the
logit within the nest. The consumer surplus is the log-sum over channels
(Small and Rosen 1981) measured against buying everything in the county town.

All of this is array arithmetic on the household table; there is no per-household loop.
"""

from __future__ import annotations

import numpy as np

from sim.agents.household import HouseholdTable
from sim.config import Scenario
from sim.geography import CountyMap
from sim.markets.kinds import Channel
from sim.markets.logit import exp_weights
from sim.markets.memo import Remembered


class Market:
    """The everyday-goods market of one county.

    Trip costs depend only on geography and household attributes, so they are computed
    once; each week only prices, assortments, store presence and door delivery change.
    """

    def __init__(self, scenario: Scenario, county: CountyMap, households: HouseholdTable):
        self.b = scenario.behaviour
        self.hh = households
        n = len(households)
        # base weekly everyday budget (no season, no noise): what firms plan on
        self.base_budget = np.empty(n)
        self.update_budgets()
        self._set_trip_costs(county)
        self._set_constants(scenario, county)
        self._index_rows(county)
        #: reference budget that turns a store's price/assortment into a yuan cost for nesting
        rural = households.rural
        w = households.weight
        self.reference_budget = float(
            np.average(self.base_budget[rural], weights=w[rural])
            if rural.any()
            else np.average(self.base_budget, weights=w)
        )
        self._nest_memo: dict[tuple[float, ...], tuple[float, np.ndarray]] = {}
        node, town = households.node, households.township
        # per-household terms of the weekly costs kept until their inputs change (see _costs_all)
        self._village_gather = Remembered(lambda ratio: ratio[node])
        self._township_gather = Remembered(lambda ratio: ratio[town])
        self._door_gather = Remembered(lambda door_share: (1.0 - door_share)[node])
        self._online_terms = Remembered(self._make_online_terms)
        #: the last week's budgets (the base budgets before the first week)
        self.last_budget = self.base_budget.copy()

    def _set_trip_costs(self, county: CountyMap) -> None:
        """Weekly trip cost (yuan, time valued by income) and km of buying in the village,
        township and county town, and of fetching parcels at the township station."""
        b = self.b
        households = self.hh
        n = len(households)
        # value of an hour: a share of the household's hourly income
        vot = b.value_of_time_share * households.income / b.work_hours_per_year
        slow = np.where(households.vehicle, 1.0, b.no_vehicle_time_factor)
        walk_cost = (b.village_walk_km / b.walk_speed_kmh) * vot
        twn_cost, twn_km = self._round_trip(county, households.township, vot, slow)
        #: cost (yuan) of one round trip to the township, used also for selling and shipping
        self.township_trip_cost = twn_cost
        cty_cost, cty_km = self._round_trip(county, np.zeros(n, dtype=np.int64), vot, slow)
        # per-week trip cost and km of spending all of the budget in each channel one travels
        # to (the first three Channel values); stored channel-major (a contiguous row per
        # channel), read as (households, channel)
        self.trip_cost = np.stack(
            [b.trips_village * walk_cost, b.trips_township * twn_cost, b.trips_county * cty_cost], axis=0
        ).T
        self.trip_km = np.stack(
            [np.full(n, b.trips_village * b.village_walk_km), b.trips_township * twn_km, b.trips_county * cty_km],
            axis=0,
        ).T
        self.fetch_cost = b.parcel_fetch_trips * twn_cost
        self.fetch_km = b.parcel_fetch_trips * twn_km

    def _round_trip(
        self, county: CountyMap, dest: np.ndarray, vot: np.ndarray, slow: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cost (money and time) and km of each household's round trip to ``dest``."""
        b = self.b
        node = self.hh.node
        km = county.travel_km[node, dest]
        minutes = county.travel_min[node, dest]
        local = km <= 0.0  # already there: a walk within the settlement
        rt_km = np.where(local, b.village_walk_km, 2.0 * km)
        hours = np.where(local, b.village_walk_km / b.walk_speed_kmh, 2.0 * minutes / 60.0 * slow)
        money = np.where(local, 0.0, rt_km * b.travel_cost_per_km)
        return money + hours * vot, rt_km

    def _set_constants(self, scenario: Scenario, county: CountyMap) -> None:
        """Each channel's constant, and who can use instant retail at what price and fee."""
        b = self.b
        ir = scenario.instant_retail
        self.constants = np.array(
            [b.constant_village_store, b.constant_township, b.constant_county_town, b.constant_online, ir.constant]
        )
        #: who lives within instant retail's radius of the county town (they use it once they buy online)
        self.instant_in_radius = ir.enabled & (county.travel_km[self.hh.node, county.county_town] <= ir.radius_km)
        self.instant_ratio = float(self.basket_ratio(ir.price_index, ir.assortment))
        self.instant_fee = ir.delivery_fee_week

    def _index_rows(self, county: CountyMap) -> None:
        """Household rows grouped by settlement and by township, for store-level counterfactuals."""
        node, town = self.hh.node, self.hh.township
        order = np.argsort(node, kind="stable")
        bounds = np.searchsorted(node[order], np.arange(county.n + 1))
        self._rows_by_node = [order[bounds[i] : bounds[i + 1]] for i in range(county.n)]
        self._rows_by_township: dict[int, np.ndarray] = {}
        for t in np.unique(town):
            self._rows_by_township[int(t)] = np.flatnonzero(town == t)

    def update_budgets(self) -> None:
        """Everyday budgets follow income (farm income changes with sales channels)."""
        b = self.b
        self.base_budget[:] = self.hh.income * b.consumption_propensity * b.everyday_goods_share / 52.0

    # --- price and assortment terms -------------------------------------------------

    def basket_ratio(self, price_index: np.ndarray | float, assortment: np.ndarray | float) -> np.ndarray:
        """Cost per yuan of basket of a seller's price and range, relative to the county town."""
        return np.asarray(price_index) - 1.0 - self.b.assortment_value_share * np.asarray(assortment)

    def nest_ratio(self, store_ratios: np.ndarray | tuple[float, ...]) -> float:
        """Village channel ratio of several stores: their log-sum (inf when there is none).

        A village's stores come in a handful of kinds, so the same few ratio tuples recur
        every week in every village: the result is remembered per tuple (the reference
        budget and the nest scale are fixed for a run).
        """
        return self._nest(store_ratios)[0]

    def within_village_split(self, store_ratios: np.ndarray | tuple[float, ...]) -> np.ndarray:
        """How a village's store spending divides among its stores (remembered like ``nest_ratio``)."""
        return self._nest(store_ratios)[1]

    def _nest(self, store_ratios: np.ndarray | tuple[float, ...]) -> tuple[float, np.ndarray]:
        """The nest's ratio and split for these store ratios, from the memo or worked out."""
        key = tuple(map(float, store_ratios))
        hit = self._nest_memo.get(key)
        if hit is not None:
            return hit
        if not key:
            hit = (np.inf, np.empty(0))
        else:
            lam = self.b.store_nest_scale
            k = self.reference_budget / self.b.choice_scale_yuan
            z = -k * np.asarray(key) / lam
            m = z.max()
            w = np.exp(z - m)
            split = w / w.sum()
            split.flags.writeable = False  # shared between callers through the memo
            hit = (float(-lam * (m + np.log(w.sum())) / k), split)
        self._nest_memo[key] = hit
        return hit

    # --- the weekly choice ----------------------------------------------------------

    def costs(
        self,
        budget: np.ndarray,
        village_ratio: np.ndarray,
        township_ratio: np.ndarray,
        county_ratio: float,
        online_ratio: float,
        door_share: np.ndarray,
        rows: np.ndarray | slice = slice(None),
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Generalised weekly cost (yuan) of each channel for the given households.

        Args:
            budget: Everyday budget of those households (yuan/week).
            village_ratio: Per settlement, the village channel's basket ratio (inf = no store).
            township_ratio: Per settlement (used at township nodes), the township channel's ratio.
            county_ratio: The county town's basket ratio.
            online_ratio: The online basket ratio.
            door_share: Per settlement, the share of parcels delivered to the village (the rest
                wait at the township station).
            rows: Which households.
            out: A (channels, households) array to write into; the weekly choice of a large
                county reuses one, because a fresh array of that size costs more to
                obtain (the kernel zeroes its pages) than the arithmetic done in it.
        """
        if isinstance(rows, slice) and rows == slice(None):
            cost = np.empty((len(Channel), len(self.hh))) if out is None else out
            self._costs_all(cost, budget, village_ratio, township_ratio, county_ratio, online_ratio, door_share)
            return cost.T
        hh = self.hh
        node = hh.node[rows]
        town = hh.township[rows]
        trip = self.trip_cost.T  # (3, n) contiguous: a row per channel
        # channel-major storage: each channel's costs are one contiguous row, so the
        # reductions across channels in ``choose`` run as element-wise passes
        cost = np.empty((len(Channel), len(node))) if out is None else out
        np.multiply(budget, village_ratio[node], out=cost[Channel.VILLAGE_STORE])
        cost[Channel.VILLAGE_STORE] += trip[Channel.VILLAGE_STORE, rows]
        np.multiply(budget, township_ratio[town], out=cost[Channel.TOWNSHIP])
        cost[Channel.TOWNSHIP] += trip[Channel.TOWNSHIP, rows]
        np.multiply(budget, county_ratio, out=cost[Channel.COUNTY_TOWN])
        cost[Channel.COUNTY_TOWN] += trip[Channel.COUNTY_TOWN, rows]
        buyer = hh.online_buyer[rows]
        # written into the rows in place and masked afterwards (np.where would allocate and copy)
        np.multiply(budget, online_ratio, out=cost[Channel.ONLINE])
        cost[Channel.ONLINE] += (1.0 - door_share)[node] * self.fetch_cost[rows]
        np.copyto(cost[Channel.ONLINE], np.inf, where=~buyer)
        reach = self.instant_in_radius[rows] & buyer
        if reach.any():
            np.multiply(budget, self.instant_ratio, out=cost[Channel.INSTANT_RETAIL])
            cost[Channel.INSTANT_RETAIL] += self.instant_fee
            np.copyto(cost[Channel.INSTANT_RETAIL], np.inf, where=~reach)
        else:
            cost[Channel.INSTANT_RETAIL] = np.inf
        cost -= self.constants[:, None]
        return cost.T  # (households, channels) view of the channel-major array

    def _costs_all(
        self,
        cost: np.ndarray,
        budget: np.ndarray,
        village_ratio: np.ndarray,
        township_ratio: np.ndarray,
        county_ratio: float,
        online_ratio: float,
        door_share: np.ndarray,
    ) -> None:
        """``costs`` for every household, into ``cost`` (channels, households).

        The same arithmetic in the same order as for a subset of rows, but the per-household
        terms that do not depend on the budget (the ratios gathered from settlements, the
        parcel-fetching cost, the unavailable channels' infinite cost) are remembered until
        their inputs change (monthly, or at a route re-plan), so a week costs two passes a
        channel plus the constants. Unavailable channels get ``+inf`` added instead of being
        overwritten with it: the same value, since the budget term is finite.
        """
        trip = self.trip_cost.T
        online, instant = self._online_terms.get(door_share, self.hh.online_buyer)
        np.multiply(budget, self._village_gather.get(village_ratio), out=cost[Channel.VILLAGE_STORE])
        cost[Channel.VILLAGE_STORE] += trip[Channel.VILLAGE_STORE]
        np.multiply(budget, self._township_gather.get(township_ratio), out=cost[Channel.TOWNSHIP])
        cost[Channel.TOWNSHIP] += trip[Channel.TOWNSHIP]
        np.multiply(budget, county_ratio, out=cost[Channel.COUNTY_TOWN])
        cost[Channel.COUNTY_TOWN] += trip[Channel.COUNTY_TOWN]
        np.multiply(budget, online_ratio, out=cost[Channel.ONLINE])
        cost[Channel.ONLINE] += online
        np.multiply(budget, self.instant_ratio, out=cost[Channel.INSTANT_RETAIL])
        cost[Channel.INSTANT_RETAIL] += instant
        cost -= self.constants[:, None]

    def _make_online_terms(self, door_share: np.ndarray, buyer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What the online and instant-retail costs add to the budget term, per household:
        the parcel-fetching trips for buyers (inf for the others), and the delivery fee for
        buyers within instant retail's radius (inf for the others)."""
        online = np.multiply(self._door_gather.get(door_share), self.fetch_cost)
        online[~buyer] = np.inf
        instant = np.where(self.instant_in_radius & buyer, self.instant_fee, np.inf)
        return online, instant

    def choose(self, cost: np.ndarray, overwrite: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Logit channel shares and consumer surplus from generalised costs, in one pass.

        Args:
            cost: Generalised costs, (households, channels), as ``costs`` returns them.
            overwrite: Work in ``cost``'s own memory (its values are lost): saves a fresh
                array per call, which for large counties costs more than the arithmetic.

        Returns:
            ``(shares, surplus)``: shares per channel (inf cost = unavailable, share 0), and
            the surplus per household (yuan/week) against buying all in the county town.
        """
        scale = self.b.choice_scale_yuan
        cm = cost.T  # channel-major (a free view when cost came from ``costs``)
        county = cm[Channel.COUNTY_TOWN].copy() if overwrite else cm[Channel.COUNTY_TOWN]
        z = np.multiply(cm, -1.0 / scale, out=cm if overwrite else None)
        m = np.maximum.reduce(z, axis=0)  # the county town is always available: finite
        z -= m
        exp_weights(z)
        total = np.add.reduce(z, axis=0)
        z /= total
        # scale * (m + log(total)) + county, worked out in the total's own array
        surplus = np.log(total, out=total)
        surplus += m
        surplus *= scale
        surplus += county
        return z.T, surplus

    def shares(self, cost: np.ndarray) -> np.ndarray:
        """Logit channel shares from generalised costs (inf cost = unavailable)."""
        return self.choose(cost)[0]

    def surplus(self, cost: np.ndarray) -> np.ndarray:
        """Consumer surplus per household (yuan/week) against buying all in the county town."""
        return self.choose(cost)[1]

    def travel_km(
        self, shares: np.ndarray, door_share: np.ndarray, rows: np.ndarray | slice = slice(None)
    ) -> np.ndarray:
        """Expected km travelled per household this week for shopping and fetching parcels."""
        everyone = isinstance(rows, slice) and rows == slice(None)
        away = self._door_gather.get(door_share) if everyone else (1.0 - door_share)[self.hh.node[rows]]
        sh, tk = shares.T, self.trip_km.T
        # the sum term by term into one array (the same additions in the same order as
        # ``sh[v] * tk[v] + sh[t] * tk[t] + ...``, without a fresh array per term)
        km = sh[Channel.VILLAGE_STORE] * tk[Channel.VILLAGE_STORE, rows]
        term = np.empty_like(km)
        for c in (Channel.TOWNSHIP, Channel.COUNTY_TOWN):
            km += np.multiply(sh[c], tk[c, rows], out=term)
        np.multiply(sh[Channel.ONLINE], away, out=term)
        term *= self.fetch_km[rows]
        km += term
        return km

    def rows_in(self, node: int) -> np.ndarray:
        """Households living in a settlement."""
        return self._rows_by_node[node]

    def rows_of_township(self, township: int) -> np.ndarray:
        """Households whose township is ``township``."""
        return self._rows_by_township.get(int(township), np.empty(0, dtype=np.int64))
