"""Households: state in NumPy columns, one thin Mesa agent per row.

A median county has about 130,000 households. Looping over Python objects every week
would make sweeps of thousands of runs impossible, so the state of all households lives
in one :class:`HouseholdTable` (a column per attribute) and weekly decisions are array
operations over all rows at once (see :mod:`sim.markets.channels`). Each household is still a
Mesa agent — :class:`HouseholdAgent` — so Mesa tools (agent sets, counts by type,
inspection in the live page) see them; its attributes are views onto its row.

One agent may stand for several real households (``population.households_per_agent``):
its ``weight`` says how many, and every total is weighted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np

from sim.config import FARM_KINDS, Scenario
from sim.geography import CountyMap, SettlementKind
from sim.markets.durables import stationary_ages
from sim.markets.kinds import Channel


@dataclass
class HouseholdTable:
    """All households of a county, one row each.

    Attributes:
        node: Settlement index where the household lives.
        township: Township index of that settlement (the county town for itself).
        weight: Real households this row stands for.
        size: Persons per household.
        income: Disposable income of the household (yuan/year).
        farm_income: Part of ``income`` from farming (yuan/year).
        vehicle: Has a car or motorbike usable for shopping.
        age_head: Age of the household head (years).
        online_buyer: Buys online (spreads by neighbours and slows with age and without
            delivery; see :mod:`sim.markets.adoption`).
        rural: Lives in an administrative village (the plan's target population).
        nonfarm_income: Income from wages, transfers and property (yuan/year), fixed.
        farm_base: Farm output per year valued at the village trader's farm-gate price
            (yuan/year); selling through better channels earns more than this.
        farm_mix: (n, 4) share of farm output by kind (grain, cash crops, fruit and
            vegetables, livestock).
        farm_revenue_avg: Smoothed weekly farm receipts (yuan/week) that budgets follow.
        online_seller: Sells farm products online itself.
        trained: Has been trained by an anchor (village livestream school) and can sell.
        enrolled: Has enrolled in the training (successfully or not).
        appliance_age, vehicle_age: Years since the last major appliance / vehicle purchase.
    """

    node: np.ndarray
    township: np.ndarray
    weight: np.ndarray
    size: np.ndarray
    income: np.ndarray
    farm_income: np.ndarray
    vehicle: np.ndarray
    age_head: np.ndarray
    online_buyer: np.ndarray
    rural: np.ndarray
    nonfarm_income: np.ndarray
    farm_base: np.ndarray
    farm_mix: np.ndarray
    farm_revenue_avg: np.ndarray
    online_seller: np.ndarray
    trained: np.ndarray
    enrolled: np.ndarray
    appliance_age: np.ndarray
    vehicle_age: np.ndarray
    #: columns derived from attributes that never change during a run (place, weight, age
    #: of head), worked out once: see :meth:`derived`
    _derived: dict[tuple, Any] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.node)

    def derived(self, key: tuple, make: Callable[[], Any]) -> Any:
        """A value computed from fixed columns, remembered under ``key``.

        The key must name everything the value depends on besides those fixed columns
        (e.g. the scenario parameters used), so a changed parameter never reads a stale value.
        """
        hit = self._derived.get(key)
        if hit is None:
            hit = self._derived[key] = make()
            if isinstance(hit, np.ndarray):
                hit.flags.writeable = False  # shared by every caller
        return hit

    @property
    def real_households(self) -> float:
        """Number of real households represented."""
        return float(self.weight.sum())


def households_per_node(county: CountyMap, household_size: float) -> np.ndarray:
    """Real households in each settlement (integers, at least one where anyone lives)."""
    n = np.rint(county.population / household_size).astype(np.int64)
    return np.maximum(n, (county.population > 0).astype(np.int64))


def create_households(scenario: Scenario, county: CountyMap, rng: np.random.Generator) -> HouseholdTable:
    """Draw the county's households from the scenario's population parameters.

    Agents per settlement are ``ceil(households / households_per_agent)``; weights are
    split so they add up to the settlement's real households exactly, so weighted totals
    do not depend on the screening factor. The draws come from ``rng`` in a fixed order
    (sizes, incomes, vehicles, ages, online buying, farm mix, online selling, durables' ages).
    """
    pop = scenario.population
    node, weight = _agent_rows(county, pop.household_size, pop.households_per_agent)
    n = len(node)
    rural = county.kind[node] == SettlementKind.VILLAGE
    size, income, farm_income = _draw_incomes(scenario, rural, n, rng)
    vehicle = rng.random(n) < pop.vehicle_share
    age_head = np.clip(rng.normal(pop.age_head_mean, pop.age_head_sd, n), 18, 95)
    online = _draw_online_buyers(scenario, age_head, n, rng)
    mix = _draw_farm_mix(scenario, rural, n, rng)
    buyer_share = max(pop.online_buyer_share, 1e-9)
    seller = rural & online & (rng.random(n) < min(1.0, scenario.adoption.initial_seller_share / buyer_share))
    d = scenario.durables
    # ages drawn from the steady state of replacement under the due hazard, so purchases
    # neither bunch nor fade at the start without a policy
    appliance_age = stationary_ages(rng, n, d.appliance_lifetime_years, d.due_spread_years, d.wait_weeks_when_due)
    vehicle_age = stationary_ages(rng, n, d.vehicle_lifetime_years, d.due_spread_years, d.wait_weeks_when_due)
    return HouseholdTable(
        node=node,
        township=county.township[node],
        weight=weight,
        size=size.astype(np.int32),
        income=income,
        farm_income=farm_income,
        vehicle=vehicle,
        age_head=age_head,
        online_buyer=online,
        rural=rural,
        nonfarm_income=income - farm_income,
        farm_base=farm_income.copy(),
        farm_mix=mix,
        farm_revenue_avg=farm_income / 52.0,
        online_seller=seller,
        trained=np.zeros(n, dtype=bool),
        enrolled=np.zeros(n, dtype=bool),
        appliance_age=appliance_age,
        vehicle_age=vehicle_age,
    )


def _agent_rows(county: CountyMap, household_size: float, per_agent: int) -> tuple[np.ndarray, np.ndarray]:
    """Each agent's settlement and weight (real households it stands for); the last agent of
    each settlement carries the remainder."""
    hh = households_per_node(county, household_size)
    agents = -(-hh // per_agent)  # ceil division
    node = np.repeat(np.arange(county.n), agents)
    weight = np.full(len(node), float(per_agent))
    ends = np.cumsum(agents) - 1
    weight[ends] = hh - (agents - 1) * per_agent
    return node, weight


def _draw_incomes(
    scenario: Scenario, rural: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Persons per household, household income and its farm part (village households only)."""
    pop = scenario.population
    # persons: 1 + Poisson so that the mean matches household_size
    size = 1 + rng.poisson(max(pop.household_size - 1.0, 0.0), n)
    # log-normal income per capita with the given mean
    sigma = pop.income_sigma
    per_capita = pop.income_per_capita * np.exp(rng.normal(-0.5 * sigma**2, sigma, n))
    income = per_capita * size
    # only village households farm; their farm share is scaled so the county-wide share
    # among rural households matches the scenario
    farm_income = np.where(rural, income * pop.farm_income_share, 0.0)
    return size, income, farm_income


def _draw_online_buyers(scenario: Scenario, age_head: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Who buys online at the start: older heads adopt less (the odds shift with age)."""
    pop = scenario.population
    share = pop.online_buyer_share
    if not 0 < share < 1:
        return np.full(n, share >= 1.0)
    base = np.log(share / (1 - share))
    p = 1 / (1 + np.exp(-(base - (age_head - pop.age_head_mean) / pop.online_age_years_per_logit)))
    return rng.random(n) < p


def _draw_farm_mix(scenario: Scenario, rural: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Farm output mix: Dirichlet around the county's shares (rural households only)."""
    farm = scenario.farm
    alpha = np.array([getattr(farm, k).share for k in FARM_KINDS]) * farm.mix_concentration
    mix = rng.gamma(np.maximum(alpha, 1e-9), 1.0, (n, len(FARM_KINDS)))
    mix = mix / mix.sum(axis=1, keepdims=True)
    mix[~rural] = 0.0
    return mix


class HouseholdAgent(mesa.Agent):
    """A household as a Mesa agent: a handle onto one row of the household table.

    It holds no state of its own, so vectorised decisions and the agent view never
    disagree. Not even its row: the households are registered one after another (see
    :func:`create_household_agents`), so the row is the agent's ``unique_id`` less the
    first household's. One attribute less on each of a median county's 133,000 handles
    is about 4 MB (an int object and a dict slot apiece).
    """

    def __init__(self, model: mesa.Model, row: int):
        super().__init__(model)
        if self.row != row:
            raise ValueError(
                f"household agent for row {row} got unique_id {self.unique_id}: households must be "
                "registered in row order, one after another (create_household_agents)"
            )

    @property
    def row(self) -> int:
        """The household's row in the table."""
        return self.unique_id - self.model.first_household_id

    @property
    def table(self) -> HouseholdTable:
        return self.model.households

    @property
    def node(self) -> int:
        return int(self.table.node[self.row])

    @property
    def cell(self):
        """The Mesa network cell of the household's settlement."""
        return self.model.space[self.node]

    @property
    def weight(self) -> float:
        return float(self.table.weight[self.row])

    @property
    def income(self) -> float:
        return float(self.table.income[self.row])

    @property
    def online_buyer(self) -> bool:
        return bool(self.table.online_buyer[self.row])

    @property
    def last_spending(self) -> float:
        """Everyday spending of the last week (yuan)."""
        return float(self.model.market.last_budget[self.row])

    @property
    def last_channel_shares(self) -> dict[str, float]:
        """How last week's spending was split among channels (all 0 before the first week).

        Worked out from the week's spending (the logit shares themselves are not kept: their
        array becomes the spending), so a share may differ from the logit's in the last digit.
        """
        spend = self.model.week.get("spend")
        row = np.zeros(len(Channel)) if spend is None else spend[self.row]
        total = float(row.sum())
        return {c.label: (float(x) / total if total > 0 else 0.0) for c, x in zip(Channel, row, strict=True)}


def create_household_agents(model: mesa.Model, n: int) -> list[HouseholdAgent]:
    """One Mesa agent per household row, registered consecutively from the model's next id
    (which ``model.first_household_id`` records, so each agent finds its row)."""
    model.first_household_id = model.agent_id_counter
    return [HouseholdAgent(model, i) for i in range(n)]
