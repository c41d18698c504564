"""Chain retailers (县域龙头流通企业) and the township commerce centres they run.

A chain has outlets in the county town, supplies member village stores (unified
buying and delivery lower their restocking cost) and, once a month, looks at the
townships that lack a commerce centre (乡镇商贸中心): it opens one where the centre's
expected profit over its payback horizon, plus the programme's subsidy, beats the cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import FixedAgent

if TYPE_CHECKING:
    from sim.agents.store import VillageStore
    from sim.model import CountyModel


def center_value(model: CountyModel, node: int) -> float:
    """A centre's expected profit in township ``node`` over a chain's payback horizon (yuan),
    before the chain's estimation error."""
    r = model.config.retailers
    revenue = model.sellers.center_revenue_if(node)
    return (revenue * r.center_gross_margin - r.center_fixed_cost_week) * 52.0 * r.payback_years


class TownshipCenter(FixedAgent):
    """A township commerce centre, fixed to its township's cell and owned by a chain."""

    def __init__(self, model: CountyModel, node: int, owner: ChainRetailer):
        super().__init__(model)
        self.node = node
        self.owner = owner
        self.revenue_week = 0.0
        self.profit_week = 0.0
        self.opened_step = model.steps
        # centres present at the start (step 0) count against no year's capacity
        self.opened_year = model.dates[model.steps - 1].year if model.steps > 0 else None
        self.cell = model.space[node]

    def weekly_profit(self, revenue: float) -> float:
        r = self.model.config.retailers
        return revenue * r.center_gross_margin - r.center_fixed_cost_week

    def book_week(self, revenue: float) -> None:
        self.revenue_week = revenue
        self.profit_week = self.weekly_profit(revenue)
        self.owner.cash += self.profit_week


class ChainRetailer(FixedAgent):
    """A county chain retailer with county-town outlets, member stores and centres."""

    def __init__(self, model: CountyModel, index: int, cash: float):
        super().__init__(model)
        self.index = index
        self.cash = cash
        self.members: set[VillageStore] = set()
        self.centers: dict[int, TownshipCenter] = {}
        self.outlet_revenue_week = 0.0
        self.fee_income_week = 0.0
        self.cell = model.space[model.county.county_town]

    def opened_in(self, year: int) -> int:
        """Centres this chain opened during the model run in a calendar year."""
        return sum(1 for c in self.centers.values() if c.opened_year == year)

    def receive_fee(self, amount: float) -> None:
        self.fee_income_week += amount
        self.cash += amount

    def book_outlets(self, revenue: float) -> None:
        """Book the county-town outlets' sales (at the centres' margin) and their running cost."""
        r = self.model.config.retailers
        self.outlet_revenue_week = revenue
        self.cash += revenue * r.center_gross_margin - r.outlet_fixed_cost_week

    def open_center(self, node: int) -> TownshipCenter:
        center = TownshipCenter(self.model, node, self)
        self.centers[node] = center
        return center

    def consider_centers(self, noise: dict[int, float]) -> list[int]:
        """Open a centre in each township where it pays, with the subsidy if funds allow.

        Args:
            noise: Per candidate township, this chain's multiplicative error in
                estimating the centre's profit (drawn by the model from its stream).

        Returns:
            The townships where a centre was opened.
        """
        m = self.model
        r = m.config.retailers
        year = m.dates[m.steps - 1].year
        room = r.max_new_centers_per_year - self.opened_in(year)
        # value every free township first, then open the best ones up to capacity
        values = {node: center_value(m, node) * err for node, err in noise.items() if m.center_at(node) is None}
        opened: list[int] = []
        for node in sorted(values, key=lambda k: (-values[k], k)):
            if len(opened) >= room:
                break
            for rate in (m.config.policy.township_center_subsidy, 0.0):
                subsidy = rate * r.center_build_cost
                if values[node] + subsidy > r.center_build_cost:
                    if subsidy > 0 and not m.government.pay("township_center", subsidy, place=node):
                        continue
                    self.cash -= r.center_build_cost - subsidy
                    self.open_center(node)
                    m.record_center(node, subsidy)
                    opened.append(node)
                    break
        return opened
