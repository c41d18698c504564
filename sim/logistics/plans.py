"""Township delivery plans: prizes, route costs, and plans kept while their inputs hold.

A township's **plan** is the routing decision of one planner — a carrier on its own, or a
coalition of carriers pooling their parcels (the consortium, or a coalition the Shapley
settlement prices): which of the township's villages get door service, and the order of
the tour through them. What the plan costs and earns in a given week is *not* part of it:
the route cost on today's cost matrix, the stops at today's stop costs and the prize at
today's volumes are worked out from the plan every time it is used.

A plan is made (the planner of :mod:`sim.logistics.routing` runs) when one of the inputs
it was made from has moved by more than ``carriers.replan_tolerance`` since:

* discrete inputs must be equal: the planner itself (its members, hence its share),
  which of the township's villages have a store (service point: stop and hand-over
  cost) and which have a positive prize (the planners' candidates);
* continuous inputs within the tolerance: every village's net prize (linear in its
  expected downward and upward parcels, with the scenario's fees and costs fixed for the
  run) within the tolerance times its revenue before stop costs, or its township's mean
  revenue where that is larger (a village of a few parcels does not re-plan its township
  on every household that starts buying online); the planner's cost per km (its fleet's
  new-energy share) within the tolerance relative to its value.

Inputs are compared with those of the plan's making, not of the last re-plan, so slow
drift re-plans once it adds up to the tolerance. The default (0.05) is measured:
``benchmarks/replan_tolerance.py`` and docs/PERFORMANCE.md.

Road distances and times, the village lists, the cost per stop, per hour and per parcel
are fixed for a run. Automatic sorting changes the handling cost, which is not a route
cost. A tolerance of 0 re-plans every township at every re-plan, as before the plans
were kept (the same numbers, bit for bit).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.logistics.routing import PLANNERS, Plan, tour_length

if TYPE_CHECKING:
    from sim.logistics.parcels import Logistics

EMPTY = Plan((), 0.0, 0.0, 0.0)

#: Sizes above which the exact plan cache and the improved-tour memo are emptied.
CACHE_LIMIT, TOURS_LIMIT = 20000, 50000


@dataclass
class _Kept:
    """One planner's kept plans and, by node, the inputs each township's plan was made from:
    the village's net prize, its township's prize scale (mean absolute prize of its
    villages before stop costs; -1 for a township not planned yet) and whether it had a
    store."""

    share: float
    prize: np.ndarray
    scale: np.ndarray
    store: np.ndarray
    km_cost: dict[int, float] = field(default_factory=dict)
    served: dict[int, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def empty(cls, n: int, share: float) -> _Kept:
        return cls(share, np.zeros(n), np.full(n, -1.0), np.zeros(n, dtype=bool))


class RoutePlans:
    """The county's route planning: prizes, cost matrices, caches and kept plans.

    Attributes:
        tolerance: ``carriers.replan_tolerance``.
        counts: Township plans made by the planner (``planned``) and kept (``kept``).
    """

    def __init__(self, logistics: Logistics):
        self.lg = logistics
        self.model = logistics.model
        self.cfg = logistics.cfg
        self.tolerance = self.cfg.replan_tolerance
        self._planner = PLANNERS[self.cfg.routing]
        self._cache: dict[tuple, Plan] = {}
        self._matrices: dict[float, np.ndarray] = {}
        #: improved tours per cost matrix (see routing.plan_heuristic's memo)
        self._tours: dict[float, dict[tuple, Any]] = {}
        self._kept: dict[frozenset[str], _Kept] = {}
        county = self.model.county
        self._village = np.zeros(county.n, dtype=bool)
        self._village[county.villages] = True
        self._idx = {t: np.asarray(vs, dtype=np.int64) for t, vs in logistics.villages_of.items()}
        self.counts = {"planned": 0, "kept": 0}

    def clear(self) -> None:
        """Forget every cached, remembered and kept plan (benchmarks time planning from scratch)."""
        self._cache.clear()
        self._tours.clear()
        self._kept.clear()

    def trim(self) -> None:
        """Empty the exact caches when they grow large (kept plans are one per planner and township)."""
        if len(self._cache) > CACHE_LIMIT:
            self._cache.clear()
        if sum(len(t) for t in self._tours.values()) > TOURS_LIMIT:
            self._tours.clear()

    # --- prizes and costs --------------------------------------------------------------

    def net_prizes(self, share: float, down: np.ndarray, up_base: np.ndarray) -> np.ndarray:
        """Weekly extra profit of serving each settlement directly, less its stop costs.

        For a carrier (or coalition) of ``share``: the village-delivery fee on its downward
        parcels and the margin on the upward parcels pick-up adds, less the hand-over cost
        of every parcel it delivers or collects there and the week's stops. Worked out for
        all settlements at once; planners read their townships' villages.
        """
        c = self.cfg
        has_store = self.lg.has_store
        extra_up = up_base * (1.0 - c.unserved_upward_factor)
        handover = np.where(has_store, self.model.config.policy.parcel_point_fee, c.door_delivery_cost_per_parcel)
        stop = np.where(has_store, c.cost_per_stop_service_point, c.cost_per_stop)
        gross = share * (
            c.village_delivery_fee * down + c.upward_margin_per_parcel * extra_up - handover * (down + up_base)
        )
        return gross - c.deliveries_per_week * stop

    def _stop_cost(self, v: int) -> float:
        c = self.cfg
        return c.cost_per_stop_service_point if self.lg.has_store[v] else c.cost_per_stop

    def route_cost_matrix(self, km_cost: float) -> np.ndarray:
        """Cost of driving between two settlements once: per km of road plus per hour at the wheel.

        Uses the shortest-distance km and the shortest-time minutes of each pair (both
        shortest paths on the road graph), so slow mountain roads cost more than their length.
        """
        key = round(km_cost, 9)
        mat = self._matrices.get(key)
        if mat is None:
            county = self.model.county
            mat = km_cost * county.travel_km + self.cfg.cost_per_hour * county.travel_min / 60.0
            self._matrices[key] = mat
        return mat

    def _priced(self, t: int, served: tuple[int, ...], net: np.ndarray, km_cost: float) -> Plan:
        """A kept plan (tour ``served`` from ``t``) with today's costs and prizes.

        The same arithmetic, in the same order, as the planner's pricing of the plan it
        makes (``routing.score`` on the cost matrix of ``km_cost``, then :meth:`_finish`),
        edge by edge instead of building the county's cost matrix for a new km cost: equal
        inputs give the same plan bit for bit (the tests check it).
        """
        county = self.model.county
        tk, tm, per_hour = county.travel_km, county.travel_min, self.cfg.cost_per_hour
        f = self.cfg.deliveries_per_week
        path = [t, *served, t]
        drive = sum(km_cost * tk[a, b] + per_hour * tm[a, b] / 60.0 for a, b in itertools.pairwise(path))
        km = float(sum(tk[a, b] for a, b in itertools.pairwise(path)))
        stops = f * sum(self._stop_cost(v) for v in served)
        prize = float(sum(float(net[v]) for v in served))
        return Plan(served, km, float(drive) * f + 0.0 * len(served) + stops, prize + stops)

    def _finish(self, t: int, raw: Plan) -> Plan:
        """A planner's plan from ``t`` (route cost only: the planners see stop costs in the
        prizes) with the stops' cost added to its cost and prize, and its tour km."""
        stops = self.cfg.deliveries_per_week * sum(self._stop_cost(v) for v in raw.served)
        km = tour_length(list(raw.served), t, self.model.county.travel_km)
        return Plan(raw.served, km, raw.cost + stops, raw.prize + stops)

    # --- planning ----------------------------------------------------------------------

    def plan_township(
        self,
        t: int,
        share: float,
        km_cost: float,
        down: np.ndarray,
        up_base: np.ndarray,
        net_prizes: np.ndarray | None = None,
    ) -> Plan:
        """Best delivery plan from township ``t``'s outlet for a carrier or coalition of ``share``.

        Always runs the planner (or takes its result from the exact cache of township, km
        cost and prizes). ``net_prizes`` (from :meth:`net_prizes`) saves working them out
        again for each township.
        """
        villages = self.lg.villages_of.get(t, [])
        if not villages or share <= 0:
            return EMPTY
        # the per-village stop cost is folded into the prize, so planners see one stop cost of 0
        if net_prizes is None:
            net_prizes = self.net_prizes(share, down, up_base)
        values = net_prizes[villages].tolist()
        prizes = dict(zip(villages, values, strict=True))
        key = (t, round(km_cost, 9), tuple(round(x, 6) for x in values))
        plan = self._cache.get(key)
        if plan is None:
            f = self.cfg.deliveries_per_week
            cost = self.route_cost_matrix(km_cost)
            if self.cfg.routing == "solver":
                raw = self._planner(t, villages, prizes, cost, f, 0.0, seed=self.model.seed % 2**31)
            else:
                memo = self._tours.setdefault(round(km_cost, 9), {})
                raw = self._planner(t, villages, prizes, cost, f, 0.0, memo=memo)
            plan = self._finish(t, raw)
            self._cache[key] = plan
        return plan

    def plan_all(
        self, owner: frozenset[str], share: float, km_cost: float, down: np.ndarray, up_base: np.ndarray
    ) -> dict[int, Plan]:
        """Every township's plan for planner ``owner`` (carrier names) of ``share`` and ``km_cost``.

        With a tolerance of 0 every township is planned; otherwise only the townships whose
        inputs moved beyond it (see the module docstring), the others keep their villages
        and tour, priced at today's costs and prizes.
        """
        net = self.net_prizes(share, down, up_base) if share > 0 else None
        if self.tolerance <= 0 or net is None:
            self.counts["planned"] += len(self.lg.villages_of)
            return {t: self.plan_township(t, share, km_cost, down, up_base, net) for t in self.lg.villages_of}
        kept = self._kept.get(owner)
        if kept is None or kept.share != share:
            kept = self._kept[owner] = _Kept.empty(len(down), share)
        stale = self._stale(kept, km_cost, net)
        plans: dict[int, Plan] = {}
        for t in self.lg.villages_of:
            if t in stale:
                plan = self.plan_township(t, share, km_cost, down, up_base, net)
                idx = self._idx[t]
                kept.prize[idx], kept.store[idx] = net[idx], self.lg.has_store[idx]
                gross = np.abs(self._gross(net[idx], idx))
                kept.scale[idx] = np.maximum(gross, gross.mean()) if len(idx) else 0.0
                kept.km_cost[t], kept.served[t] = km_cost, plan.served
                self.counts["planned"] += 1
            else:
                served = kept.served[t]
                plan = self._priced(t, served, net, km_cost) if served else EMPTY
                self.counts["kept"] += 1
            plans[t] = plan
        return plans

    def _gross(self, net: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Prizes of villages ``idx`` before their stops' cost: revenue less hand-over."""
        c = self.cfg
        stop = np.where(self.lg.has_store[idx], c.cost_per_stop_service_point, c.cost_per_stop)
        return net + c.deliveries_per_week * stop

    def _stale(self, kept: _Kept, km_cost: float, net: np.ndarray) -> set[int]:
        """Townships whose plan must be made again: not planned yet; a village's store flag
        changed, or whether its prize is positive (the planners' candidates); a village's
        prize moved by more than the tolerance times its township's prize scale; the km
        cost moved by more than the tolerance relative to its value."""
        tol = self.tolerance
        moved = (
            (np.abs(net - kept.prize) > tol * kept.scale)
            | (self.lg.has_store != kept.store)
            | ((net > 0) != (kept.prize > 0))
        )
        moved &= self._village
        stale = {int(t) for t in np.unique(self.model.county.township[moved])}
        stale.update(t for t, k in kept.km_cost.items() if abs(km_cost - k) > tol * k)
        stale.update(t for t in self.lg.villages_of if t not in kept.served)
        return stale
