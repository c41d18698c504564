"""Chain retailers (县域龙头流通企业) and the township commerce centres they run.

A chain has outlets in the county town, supplies member village stores (unified
buying and delivery lower their restocking cost) and, once a month, looks at the
townships that lack a commerce centre (乡镇商贸中心): it opens one where the centre's
expected profit over its payback horizon, plus the programme's subsidy, beats the cost.

Centres, like stores, live in a table (:class:`CenterTable`, one row per centre, columns
per attribute); :class:`TownshipCenter` is the Mesa agent on a centre's row. A chain's
members are the stores whose ``chain`` column holds its index: counts come from that
column, so a chain keeps no per-store sets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import FixedAgent

if TYPE_CHECKING:
    from sim.model import CountyModel


def center_value(model: CountyModel, node: int) -> float:
    """A centre's expected profit in township ``node`` over a chain's payback horizon (yuan),
    before the chain's estimation error."""
    return float(center_values(model, np.array([node]))[0])


def center_values(model: CountyModel, nodes: np.ndarray) -> np.ndarray:
    """:func:`center_value` for several townships in one pass over their households."""
    r = model.config.retailers
    revenue = model.sellers.center_revenues_if(nodes)
    return (revenue * r.center_gross_margin - r.center_fixed_cost_week) * 52.0 * r.payback_years


class CenterTable:
    """Every township centre, one row each in opening order (centres never close).

    Attributes:
        node: The township's settlement index.
        owner: Index of the owning chain.
        revenue_week, profit_week: Last week's books (yuan).
        opened_step: Model step at which it opened.
        opened_year: Calendar year it opened during the run; -1 for centres present at the start.
        at_node: Per settlement, the row of its centre, -1 for none.
    """

    def __init__(self, n_nodes: int):
        self.node = np.empty(0, dtype=np.int64)
        self.owner = np.empty(0, dtype=np.int64)
        self.revenue_week = np.empty(0)
        self.profit_week = np.empty(0)
        self.opened_step = np.empty(0, dtype=np.int64)
        self.opened_year = np.empty(0, dtype=np.int64)
        self.at_node = np.full(n_nodes, -1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.node)

    def add(self, node: int, owner: int, step: int, year: int) -> int:
        """Append a centre (a few a year: copying the short columns costs nothing)."""
        row = len(self.node)
        self.node = np.append(self.node, node)
        self.owner = np.append(self.owner, owner)
        self.revenue_week = np.append(self.revenue_week, 0.0)
        self.profit_week = np.append(self.profit_week, 0.0)
        self.opened_step = np.append(self.opened_step, step)
        self.opened_year = np.append(self.opened_year, year)
        self.at_node[node] = row
        return row


class TownshipCenter(FixedAgent):
    """A township commerce centre, fixed to its township's cell and owned by a chain: a
    handle onto one row of the centre table."""

    def __init__(self, model: CountyModel, row: int):
        super().__init__(model)
        self.row = row
        self.cell = model.space[self.node]

    @property
    def node(self) -> int:
        return int(self.model.center_table.node[self.row])

    @property
    def owner(self) -> ChainRetailer:
        return self.model.retailers[int(self.model.center_table.owner[self.row])]

    @property
    def revenue_week(self) -> float:
        return float(self.model.center_table.revenue_week[self.row])

    @property
    def profit_week(self) -> float:
        return float(self.model.center_table.profit_week[self.row])

    @property
    def opened_step(self) -> int:
        return int(self.model.center_table.opened_step[self.row])

    @property
    def opened_year(self) -> int | None:
        """Year it opened during the run (None for centres present at the start)."""
        year = int(self.model.center_table.opened_year[self.row])
        return None if year < 0 else year


class ChainRetailer(FixedAgent):
    """A county chain retailer with county-town outlets, member stores and centres."""

    def __init__(self, model: CountyModel, index: int, cash: float):
        super().__init__(model)
        self.index = index
        self.cash = cash
        self.outlet_revenue_week = 0.0
        self.fee_income_week = 0.0
        self.cell = model.space[model.county.county_town]

    @property
    def member_count(self) -> int:
        """Open stores it supplies (from the stores' ``chain`` column)."""
        t = self.model.store_table
        return int(np.count_nonzero(t.chain[t.open_rows()] == self.index))

    @property
    def centers(self) -> dict[int, TownshipCenter]:
        """Its centres by township."""
        m = self.model
        rows = np.flatnonzero(m.center_table.owner == self.index)
        return {int(m.center_table.node[r]): m.center_agents[int(r)] for r in rows}

    def opened_in(self, year: int) -> int:
        """Centres this chain opened during the model run in a calendar year."""
        c = self.model.center_table
        return int(np.count_nonzero((c.owner == self.index) & (c.opened_year == year)))

    def book_outlets(self, revenue: float) -> None:
        """Book the county-town outlets' sales (at the centres' margin) and their running cost."""
        r = self.model.config.retailers
        self.outlet_revenue_week = revenue
        self.cash += revenue * r.center_gross_margin - r.outlet_fixed_cost_week

    def consider_centers(self, values: dict[int, float]) -> list[int]:
        """Open a centre in each township where it pays, with the subsidy if funds allow.

        Args:
            values: Per candidate township still without a centre, this chain's estimate
                of the centre's profit over its payback horizon (the expected value times
                its estimation error, drawn by the model from its stream).

        Returns:
            The townships where a centre was opened.
        """
        m = self.model
        r = m.config.retailers
        year = m.dates[m.steps - 1].year
        room = r.max_new_centers_per_year - self.opened_in(year)
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
                    m.open_center(node, self.index)
                    m.record_center(node, subsidy)
                    opened.append(node)
                    break
        return opened


def monthly_centers(model: CountyModel) -> None:
    """Chains, in random order, look at the townships still without a centre; every
    free township's expected value is worked out once, in one pass (a centre opened by
    one chain does not change another township's households' choice)."""
    if not model.retailers:
        return
    rng = model.streams["centers"]
    towns = model.county.townships
    candidates = towns[model.center_table.at_node[towns] < 0]
    # the values are worked out only when some chain may still open a centre this year
    # (the estimation errors are drawn either way, so the draws stay in step)
    year = model.dates[model.steps - 1].year
    room = any(ret.opened_in(year) < model.config.retailers.max_new_centers_per_year for ret in model.retailers)
    values = center_values(model, candidates) if room else np.zeros(len(candidates))
    sd = model.config.retailers.decision_noise_sd
    for k in rng.permutation(len(model.retailers)):
        free = model.center_table.at_node[candidates] < 0
        candidates, values = candidates[free], values[free]
        noise = np.exp(rng.normal(-0.5 * sd**2, sd, len(candidates)))
        estimates = dict(zip(candidates.tolist(), (values * noise).tolist(), strict=True))
        model.retailers[int(k)].consider_centers(estimates)
