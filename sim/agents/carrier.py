"""Carriers (邮政 / 快递 / 供销物流) and the co-distribution consortium (共同配送).

Every carrier runs line-haul trucks from its county depot to each township station and
decides, on its re-planning dates, which villages its township outlets deliver to
directly: a village is served when its parcels' fees pay for the detour and the stop
(see :mod:`sim.logistics.routing`). A member of the consortium hands its parcels to the county
logistics centre instead; the consortium plans one set of shared routes for the pooled
parcels, and its cost is split among members by Shapley value (:mod:`sim.logistics.shapley`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import FixedAgent

from sim.config import CarrierConfig

if TYPE_CHECKING:
    from sim.logistics.routing import Plan
    from sim.model import CountyModel


class Carrier(FixedAgent):
    """A parcel carrier with its own depot in the county town.

    Attributes:
        spec: Name, kind and market share from the scenario.
        nev_share: Share of its vans that are new-energy.
        plans: Its own delivery plan per township (unused while it is a consortium member).
        member: Whether it pools its parcels in the consortium.
        books: Last week's revenue, costs and profit by item (yuan).
    """

    def __init__(self, model: CountyModel, spec: CarrierConfig):
        super().__init__(model)
        self.spec = spec
        self.name = spec.name
        self.kind = spec.kind
        self.share = spec.market_share
        self.nev_share = spec.nev_share
        self.plans: dict[int, Plan] = {}
        self.member = False
        self.joined_step: int | None = None
        self.books: dict[str, float] = {}
        self.cell = model.space[model.county.county_town]

    @property
    def cost_per_km(self) -> float:
        """Route cost per km of its fleet mix."""
        c = self.model.config.carriers
        return self.nev_share * c.cost_per_km_nev + (1.0 - self.nev_share) * c.cost_per_km_fuel

    def served(self) -> set[int]:
        """Villages it serves with its own routes."""
        return {v for plan in self.plans.values() for v in plan.served}

    def route_cost_week(self) -> float:
        return sum(p.cost for p in self.plans.values())

    def route_km_week(self) -> float:
        return sum(p.tour_km for p in self.plans.values()) * self.model.config.carriers.deliveries_per_week

    def renew_fleet(self, weeks: float, route_km_week: float) -> float:
        """Replace the vans due over ``weeks``; buy new-energy ones when they pay back.

        Returns:
            The subsidy paid for new-energy vans (yuan).
        """
        m = self.model
        c = m.config.carriers
        vans = route_km_week * 52.0 / c.van_km_per_year
        replaced = vans * c.fleet_turnover_per_year * weeks / 52.0 * (1.0 - self.nev_share)
        if replaced <= 0:
            return 0.0
        saving = (c.cost_per_km_fuel - c.cost_per_km_nev) * c.van_km_per_year * c.payback_years
        for rate in (m.config.policy.nev_van_subsidy, 0.0):
            own = (1.0 - rate) * c.nev_price_premium
            if saving > own:
                subsidy = rate * c.nev_price_premium * replaced
                if subsidy > 0 and not m.government.pay("nev_van", subsidy):
                    continue
                self.nev_share = min(1.0, self.nev_share + replaced / vans)
                return subsidy
        return 0.0


class Consortium(FixedAgent):
    """The co-distribution operator at the county logistics centre.

    Attributes:
        plans: The shared delivery plan per township.
        cost_shares: Each member's Shapley share of the consortium's cost (fractions).
        shapley_cost: Each member's Shapley cost (yuan/week) at the last settlement.
        planned_cost: The consortium's weekly cost at the last settlement (the Shapley
            costs add up to it).
        books: Last week's costs and subsidy (yuan).
    """

    def __init__(self, model: CountyModel):
        super().__init__(model)
        self.plans: dict[int, Plan] = {}
        self.cost_shares: dict[str, float] = {}
        self.shapley_cost: dict[str, float] = {}
        self.planned_cost = 0.0  # weekly cost of the shared plan at the last settlement
        self.books: dict[str, float] = {}
        self.cell = model.space[model.county.county_town]

    def served(self) -> set[int]:
        return {v for plan in self.plans.values() for v in plan.served}
