"""Parcel flows, delivery plans, co-distribution and facilities of one county.

Downward parcels come from households' online buying (everyday goods divided by the
parcel value, plus other online purchases); upward parcels come from farm households
(more of them where a carrier picks up in the village). Each carrier carries its market
share of every village's parcels. A parcel for a village its carrier (or, for a member,
the consortium) serves is delivered to the door; any other waits at the township station
until the household fetches it, and a small share is lost. Every week

    parcels created = delivered + waiting at stations + lost

holds for downward parcels, and created = shipped + lost for upward ones (tests check it).

Plans are made on re-planning dates from expected volumes (the planning budget, without
week-to-week noise), so they are stable and reproducible; flows use the week's actual
spending. Facilities (the county logistics centre with its sorting line, cold storage) are
built on their policy dates by Mesa events when the programme's funds allow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from sim.agents.carrier import Carrier, Consortium
from sim.geography import SettlementKind
from sim.logistics.plans import RoutePlans
from sim.logistics.routing import Plan
from sim.logistics.shapley import shapley

if TYPE_CHECKING:
    from sim.model import CountyModel


class _HandOver(NamedTuple):
    """How a week's parcels change hands in each settlement (arrays by node): the cost of
    handing one parcel over (service-point fee or door delivery, 0 in towns), the parcels
    a carrier delivers or collects in each village it serves, the fees owed to store
    service points and the couriers' door-to-door cost in villages without a store."""

    per_parcel: np.ndarray
    in_village: np.ndarray
    point_fees: np.ndarray
    door_costs: np.ndarray


class Logistics:
    """The county's parcel network: carriers, the consortium, stations and facilities."""

    def __init__(self, model: CountyModel):
        self.model = model
        cfg = model.config
        county = model.county
        hh = model.households
        self.cfg = cfg.carriers
        self.lcfg = cfg.logistics
        self.carriers = [Carrier(model, spec) for spec in cfg.carriers.fleet]
        self.by_name = {c.name: c for c in self.carriers}
        self.consortium: Consortium | None = None
        self.center = cfg.logistics.center_at_start
        self.sorting = self.center and cfg.policy.automatic_sorting
        self.cold_storage = cfg.logistics.cold_storage_at_start
        # standardised township stations: the most populous townships have them at the start
        towns = county.townships
        k = round(cfg.logistics.township_station_share_at_start * len(towns))
        order = np.lexsort((towns, -county.population[towns]))
        self.station = np.zeros(county.n, dtype=bool)
        self.station[towns[order[:k]]] = True
        n = county.n
        self.hh_node = np.bincount(hh.node, weights=hh.weight, minlength=n)
        self.rural_hh_node = np.bincount(hh.node, weights=hh.weight * hh.rural, minlength=n)
        villages = county.villages
        self.villages_of: dict[int, list[int]] = {int(t): [] for t in county.townships}
        for v in villages:
            self.villages_of.setdefault(int(county.township[v]), []).append(int(v))
        # one line-haul round trip from the county depot to every township station
        self.trunk_km = float(2.0 * county.travel_km[county.county_town, county.townships].sum())
        self.door_share = np.ones(n)
        self.door_share[villages] = 0.0
        self.waiting = np.zeros(n)
        self.totals = dict.fromkeys(
            ("created_down", "delivered_down", "lost_down", "created_up", "shipped_up", "lost_up"), 0.0
        )
        self.week: dict[str, Any] = {}
        self.has_store = np.zeros(n, dtype=bool)
        self._set_pickup()
        #: township plans: prizes, cost matrices, caches, plans kept while their inputs hold
        self.routes = RoutePlans(self)
        self._last_settled: int | None = None

    def _set_pickup(self) -> None:
        """Weekly pick-up rate of parcels waiting for each settlement at its township's station."""
        c = self.cfg
        county = self.model.county
        standard = self.station[county.township]
        self.pickup = np.where(standard, c.station_pickup_rate_standard, c.station_pickup_rate)

    # --- volumes and prizes ----------------------------------------------------------

    def expected_parcels_week(self) -> float:
        """Parcels (down and up) a week at the planning budget, with village pick-up everywhere."""
        return float(self._down(self.model.sellers.expected_online_spend()).sum() + self._up_base().sum())

    def _other_up(self) -> np.ndarray:
        """Upward parcels other than farm products (returns, handicrafts) with pick-up (per week)."""
        return self.lcfg.upward_parcels_per_household_week * self.rural_hh_node

    def _up_base(self) -> np.ndarray:
        """Upward parcels carriers expect from each village with pick-up (per week): other
        parcels plus the farm products households have recently been selling online."""
        return self._other_up() + self.model.farm.expected_parcels

    def _down(self, online_spend: np.ndarray) -> np.ndarray:
        return online_spend / self.lcfg.parcel_value + self.lcfg.other_parcels_per_household_week * self.hh_node

    def _handover(self, v: int) -> float:
        """Cost per parcel of handing parcels over in village ``v``: the service-point fee where
        a store takes them, else the courier's door-to-door time."""
        if self.has_store[v]:
            return self.model.config.policy.parcel_point_fee
        return self.cfg.door_delivery_cost_per_parcel

    def plan_all(
        self, owner: frozenset[str], share: float, km_cost: float, down: np.ndarray, up_base: np.ndarray
    ) -> dict[int, Plan]:
        """Every township's plan for the carriers ``owner`` (see :meth:`RoutePlans.plan_all`)."""
        return self.routes.plan_all(owner, share, km_cost, down, up_base)

    # --- costs and revenues of a plan ------------------------------------------------

    def _revenue(self, share: float, served: set[int], down: np.ndarray, up_base: np.ndarray) -> float:
        """Weekly revenue of a carrier (or coalition) of ``share`` serving ``served`` directly."""
        c = self.cfg
        served_idx = np.fromiter(served, dtype=np.int64) if served else np.empty(0, dtype=np.int64)
        pick = np.zeros(len(down))
        pick[served_idx] = 1.0
        up = up_base * (c.unserved_upward_factor + (1.0 - c.unserved_upward_factor) * pick)
        direct_down = down[served_idx].sum()
        point = sum(self._handover(int(v)) * (down[v] + up[v]) for v in served_idx)
        return share * (
            c.revenue_per_parcel * (down.sum() + up.sum())
            + c.village_delivery_fee * direct_down
            + c.upward_margin_per_parcel * up.sum()
            - point
        )

    def _fixed_cost(self, share: float, parcels: float, pooled: bool) -> float:
        """Handling of ``parcels`` and one set of line-haul trunks, per week."""
        c = self.cfg
        handling = c.handling_cost_automatic if (pooled and self.sorting) else c.handling_cost_per_parcel
        return parcels * handling + c.trunk_trips_per_week * c.trunk_cost_per_km * self.trunk_km

    def coalition_cost(self, members: frozenset, down: np.ndarray, up_base: np.ndarray) -> tuple[float, dict]:
        """Weekly cost of a group of carriers running co-distribution on their own."""
        share = sum(self.by_name[n].share for n in members)
        km_cost = sum(self.by_name[n].share * self.by_name[n].cost_per_km for n in members) / share
        plans = self.plan_all(members, share, km_cost, down, up_base)
        parcels = share * (down.sum() + up_base.sum())
        return self._fixed_cost(share, parcels, pooled=True) + sum(p.cost for p in plans.values()), plans

    # --- re-planning -----------------------------------------------------------------

    def codistribution_active(self) -> bool:
        p = self.model.config.policy.codistribution
        return p.enabled and self.center and self.model.today >= p.start

    def replan(self, weeks_since: float, settle: bool | None = None) -> None:
        """Carriers re-plan their routes; the consortium re-plans, and on its settlement
        dates (or when ``settle`` is True) membership and Shapley cost shares are settled.

        Args:
            weeks_since: Weeks since the last re-plan (for fleet renewal).
            settle: Force (True) or skip (False) settlement; None follows the schedule.
        """
        m = self.model
        self.has_store = m.stores_per_node() > 0
        online = m.sellers.expected_online_spend()
        down = self._down(online)
        up_base = self._up_base()
        self.routes.trim()
        for car in self.carriers:
            car.plans = (
                {} if car.member else self.plan_all(frozenset((car.name,)), car.share, car.cost_per_km, down, up_base)
            )
        if self.codistribution_active():
            due = self._last_settled is None or m.steps - self._last_settled >= self.cfg.settle_every_weeks
            if settle if settle is not None else due:
                self._settle_consortium(down, up_base)
                self._last_settled = m.steps
            else:
                self._replan_consortium(down, up_base)
        for car in self.carriers:
            route_km = car.route_km_week() if not car.member else self._member_route_km(car)
            car.renew_fleet(weeks_since, route_km)
        self._update_door_share()

    def _member_route_km(self, car: Carrier) -> float:
        if self.consortium is None:
            return 0.0
        total = sum(p.tour_km for p in self.consortium.plans.values()) * self.cfg.deliveries_per_week
        members = [c for c in self.carriers if c.member]
        return total * car.share / sum(c.share for c in members)

    def _standalone_profit(self, car: Carrier, down: np.ndarray, up_base: np.ndarray) -> float:
        plans = self.plan_all(frozenset((car.name,)), car.share, car.cost_per_km, down, up_base)
        served = {v for p in plans.values() for v in p.served}
        parcels = car.share * (down.sum() + up_base.sum())
        cost = self._fixed_cost(car.share, parcels, pooled=False) + sum(p.cost for p in plans.values())
        return self._revenue(car.share, served, down, up_base) - cost

    def _member_profit(self, car: Carrier, members: frozenset, down: np.ndarray, up_base: np.ndarray) -> float:
        phi = shapley(sorted(members), lambda s: self.coalition_cost(s, down, up_base)[0])
        _, plans = self.coalition_cost(members, down, up_base)
        served = {v for p in plans.values() for v in p.served}
        parcels = car.share * (down.sum() + up_base.sum())
        p = self.model.config.policy.codistribution
        fee = self.cfg.codistribution_fee_per_parcel - p.parcel_subsidy
        return self._revenue(car.share, served, down, up_base) - phi[car.name] - fee * parcels

    def _settle_consortium(self, down: np.ndarray, up_base: np.ndarray) -> None:
        m = self.model
        p = m.config.policy.codistribution
        if self.consortium is None:
            self.consortium = Consortium(m)
        members = frozenset(c.name for c in self.carriers if c.member)
        if p.members is not None:
            wanted = frozenset(p.members)
        else:
            wanted = set(members)
            for car in sorted(self.carriers, key=lambda c: c.name):
                if car.name in wanted:
                    continue
                trial = frozenset(wanted | {car.name})
                if self._member_profit(car, trial, down, up_base) > self._standalone_profit(car, down, up_base) + 1e-9:
                    wanted.add(car.name)
            wanted = frozenset(wanted)
        for car in self.carriers:
            if car.name in wanted and not car.member:
                car.member, car.joined_step, car.plans = True, m.steps, {}
                m.record_event("codistribution", carrier=car.name, action="joined")
        if not wanted:
            self.consortium.plans, self.consortium.cost_shares, self.consortium.shapley_cost = {}, {}, {}
            return
        cost, plans = self.coalition_cost(wanted, down, up_base)
        phi = shapley(sorted(wanted), lambda s: self.coalition_cost(s, down, up_base)[0])
        self.consortium.plans = plans
        self.consortium.planned_cost = cost
        self.consortium.shapley_cost = phi
        self.consortium.cost_shares = {k: (v / cost if cost > 0 else 0.0) for k, v in phi.items()}

    def _replan_consortium(self, down: np.ndarray, up_base: np.ndarray) -> None:
        """Between settlements: same members and cost shares, shared routes re-planned."""
        members = frozenset(c.name for c in self.carriers if c.member)
        if members and self.consortium is not None:
            _, self.consortium.plans = self.coalition_cost(members, down, up_base)

    def _update_door_share(self) -> None:
        villages = self.model.county.villages
        share = np.zeros(len(self.door_share))
        for car in self.carriers:
            served = self.consortium.served() if (car.member and self.consortium) else car.served()
            if served:
                share[np.fromiter(served, dtype=np.int64)] += car.share
        self.door_share[villages] = np.minimum(share[villages], 1.0)

    # --- facilities --------------------------------------------------------------------

    def try_build_center(self) -> bool:
        """Build the county logistics centre (and sorting line) if the programme can pay its share."""
        if self.center:
            return True
        pol = self.model.config.policy
        cost = self.lcfg.center_build_cost + (self.lcfg.sorting_cost if pol.automatic_sorting else 0.0)
        subsidy = pol.logistics_center_subsidy * cost
        if not self.model.government.pay("logistics_center", subsidy):
            return False
        self.center = True
        self.sorting = pol.automatic_sorting
        self.model.record_event("facilities", facility="logistics_center", subsidy=subsidy, sorting=self.sorting)
        return True

    def try_build_cold_storage(self) -> bool:
        """Build county cold storage if the programme can pay its share."""
        if self.cold_storage:
            return True
        subsidy = self.model.config.policy.cold_storage_subsidy * self.lcfg.cold_storage_build_cost
        if not self.model.government.pay("cold_storage", subsidy):
            return False
        self.cold_storage = True
        self.model.record_event("facilities", facility="cold_storage", subsidy=subsidy)
        return True

    def fund_stations(self) -> list[int]:
        """The township_station programme standardises the stations it can pay for this month.

        Townships without a standard station are taken in order of priority: under
        ``remote_first`` the farthest from the county town first, otherwise the largest
        parcel demand first (the stations that serve most parcels). A township the pot
        cannot pay for is skipped, so a cheaper later payment from the remote reserve can
        still go ahead.

        Returns:
            The townships whose stations were standardised.
        """
        m = self.model
        gov = m.government
        if not gov.is_open("township_station"):
            return []
        county = m.county
        towns = [int(t) for t in county.townships if not self.station[int(t)]]
        if not towns:
            return []
        pol = m.config.policy
        if pol.allocation == "remote_first":
            key = {t: -float(county.travel_min[county.county_town, t]) for t in towns}
        else:
            demand = self._down(m.sellers.expected_online_spend()) + self._up_base()
            per_town = np.bincount(county.township, weights=demand, minlength=county.n)
            key = {t: -float(per_town[t]) for t in towns}
        subsidy = pol.township_station_subsidy * self.lcfg.township_station_cost
        if subsidy <= 0:
            return []  # the programme funds stations only by paying part of them
        built = []
        for t in sorted(towns, key=lambda t: (key[t], t)):
            if gov.pay("township_station", subsidy, place=t):
                self.station[t] = True
                built.append(t)
                m.record_event("stations", township=county.ids[t], subsidy=subsidy)
        if built:
            self._set_pickup()
        return built

    # --- the week's flows --------------------------------------------------------------

    def ship_week(self, online_spend: np.ndarray, farm_parcels: np.ndarray) -> dict[str, float]:
        """Move this week's parcels; book carriers, the consortium and service points.

        Args:
            online_spend: Households' online spending this week by settlement (yuan).
            farm_parcels: Upward parcels of farm products sold online this week, by settlement.

        Returns:
            Service-point fees owed to each village's store this week, by node (via
            ``self.week["point_fees"]``), and the week's flow totals.
        """
        down = self._deliver_down(online_spend)
        up = self._collect_up(farm_parcels)
        hand = self._hand_over(down, up)
        pooled, network_cost = self._book(down, up, hand)
        cost = network_cost + (hand.point_fees.sum() + hand.door_costs.sum())
        self.week = self._week_record(down, up, pooled, cost, hand.point_fees)
        return self.week

    def _deliver_down(self, online_spend: np.ndarray) -> np.ndarray:
        """This week's downward parcels by settlement: delivered to the door where a carrier
        serves the village, else queued at the township station (picked up at its rate); a
        share is lost. Books the conservation totals."""
        c = self.cfg
        down = self._down(online_spend)
        keep = 1.0 - c.loss_rate
        direct = down * self.door_share * keep
        to_station = down * (1.0 - self.door_share) * keep
        self.waiting += to_station
        picked = self.waiting * self.pickup
        self.waiting -= picked
        lost_down = down * c.loss_rate
        t = self.totals
        t["created_down"] += down.sum()
        t["delivered_down"] += direct.sum() + picked.sum()
        t["lost_down"] += lost_down.sum()
        return down

    def _collect_up(self, farm_parcels: np.ndarray) -> np.ndarray:
        """This week's upward parcels by settlement: other parcels (fewer where no carrier
        picks up in the village) and the farm products sold online. Books the totals."""
        c = self.cfg
        other = self._other_up() * (c.unserved_upward_factor + (1.0 - c.unserved_upward_factor) * self.door_share)
        up = other + farm_parcels
        keep = 1.0 - c.loss_rate
        t = self.totals
        t["created_up"] += up.sum()
        t["shipped_up"] += up.sum() * keep
        t["lost_up"] += up.sum() * c.loss_rate
        return up

    def _hand_over(self, down: np.ndarray, up: np.ndarray) -> _HandOver:
        """Hand-over in the villages: a store service point takes the parcels for a fee (paid
        to the store), otherwise the courier delivers door to door; towns use the outlet's
        own counter."""
        c = self.cfg
        village = self.model.county.kind == SettlementKind.VILLAGE
        self.has_store = self.model.stores_per_node() > 0
        fee = self.model.config.policy.parcel_point_fee
        per_parcel = np.where(self.has_store, fee, c.door_delivery_cost_per_parcel)
        per_parcel[~village] = 0.0
        in_village = down * (1.0 - c.loss_rate) + up  # parcels of a village delivered or collected in it, if served
        sp = self.has_store & (self.door_share > 0) & village
        return _HandOver(
            per_parcel=per_parcel,
            in_village=in_village,
            point_fees=np.where(sp, fee * self.door_share * in_village, 0.0),
            door_costs=np.where(
                ~self.has_store & village, c.door_delivery_cost_per_parcel * self.door_share * in_village, 0.0
            ),
        )

    def _book(self, down: np.ndarray, up: np.ndarray, hand: _HandOver) -> tuple[float, float]:
        """The week's books of the consortium and of every carrier.

        Returns:
            ``(pooled, cost)``: parcels carried through the consortium, and the real cost of
            the consortium's and the stand-alone carriers' networks (hand-over excluded).
        """
        members = [car for car in self.carriers if car.member]
        pooled_share = sum(car.share for car in members)
        total_cost = 0.0
        pooled = 0.0
        if members and self.consortium is not None:
            pooled = self._book_consortium(pooled_share, down, up)
            total_cost += self.consortium.books["cost"]
        for car in self.carriers:
            cost, points = self._book_carrier(car, pooled_share, down, up, hand)
            if not (car.member and self.consortium is not None):
                total_cost += cost - points
        return pooled, total_cost

    def _book_consortium(self, share: float, down: np.ndarray, up: np.ndarray) -> float:
        """The consortium's week (its ``books``): its network cost, the operator's fees and the
        programme's per-parcel subsidy on the pooled parcels, which it returns."""
        assert self.consortium is not None
        pooled = share * (down.sum() + up.sum())
        cost = self._fixed_cost(share, pooled, pooled=True) + sum(p.cost for p in self.consortium.plans.values())
        subsidy = self.model.government.pay_up_to(
            "codistribution", self.model.config.policy.codistribution.parcel_subsidy * pooled
        )
        fees = self.cfg.codistribution_fee_per_parcel * pooled
        self.consortium.books = {"cost": cost, "parcels": pooled, "fees": fees, "subsidy": subsidy}
        return pooled

    def _book_carrier(
        self, car: Carrier, pooled_share: float, down: np.ndarray, up: np.ndarray, hand: _HandOver
    ) -> tuple[float, float]:
        """One carrier's week (its ``books``): revenue on its share of all parcels, and its cost
        (a member pays its Shapley share of the consortium's cost plus fees net of subsidy).

        Returns:
            The carrier's cost, and the hand-over part of it.
        """
        c = self.cfg
        served = self.consortium.served() if (car.member and self.consortium) else car.served()
        idx = np.fromiter(served, dtype=np.int64) if served else np.empty(0, dtype=np.int64)
        parcels = car.share * (down.sum() + up.sum())
        revenue = car.share * (
            c.revenue_per_parcel * (down.sum() + up.sum())
            + c.village_delivery_fee * down[idx].sum()
            + c.upward_margin_per_parcel * up.sum()
        )
        points = car.share * (hand.per_parcel[idx] * hand.in_village[idx]).sum()
        if car.member and self.consortium is not None:
            pool = self.consortium.books
            frac = car.share / pooled_share
            share = self.consortium.cost_shares.get(car.name, frac)
            cost = share * pool["cost"] + (pool["fees"] - pool["subsidy"]) * frac + points
        else:
            routes = sum(p.cost for p in car.plans.values())
            cost = self._fixed_cost(car.share, parcels, pooled=False) + routes + points
        car.books = {
            "revenue": revenue,
            "cost": cost,
            "profit": revenue - cost,
            "parcels": parcels,
            "route_km": car.route_km_week() if not car.member else self._member_route_km(car),
        }
        return cost, points

    def _week_record(
        self, down: np.ndarray, up: np.ndarray, pooled: float, cost: float, point_fees: np.ndarray
    ) -> dict[str, Any]:
        """The week's flow totals, delivery time and cold-chain losses (what indicators read)."""
        c = self.cfg
        lc = self.lcfg
        # cold chain: perishables lose value without cold storage
        loss_rate = lc.loss_with_cold_chain if self.cold_storage else lc.loss_without_cold_chain
        perishable_value = up.sum() * lc.perishable_share_up * lc.perishable_value_per_parcel
        transit = c.transit_days
        station_days = transit + 7.0 * (1.0 - self.pickup) / self.pickup
        village_down = down[self.model.county.villages]
        village_door = self.door_share[self.model.county.villages]
        all_down = down.sum()
        days = (
            transit * (down * self.door_share).sum() + (station_days * down * (1 - self.door_share)).sum()
        ) / all_down
        return {
            "down": all_down,
            "up": up.sum(),
            "pooled": pooled,
            "cost": cost,
            "point_fees": point_fees,
            "delivery_days": days,
            "cold_chain_loss_rate": loss_rate,
            "perishable_value_lost": perishable_value * loss_rate,
            "village_door_parcel_share": float((village_down * village_door).sum() / village_down.sum())
            if village_down.sum() > 0
            else 0.0,
        }

    def conservation_gap(self) -> tuple[float, float]:
        """Created minus (delivered + waiting + lost), downward and upward: both ~0."""
        t = self.totals
        down = t["created_down"] - (t["delivered_down"] + self.waiting.sum() + t["lost_down"])
        up = t["created_up"] - (t["shipped_up"] + t["lost_up"])
        return down, up
