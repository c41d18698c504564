"""Village stores (村级便民商店): traditional shops and standardised new-type stores.

A store earns a gross margin on what the village's households spend with it, pays for
restocking (cheaper when a chain supplies it, and cheaper again with digital stock and
ordering tools) and its fixed costs, and keeps cash. Once a month it may join a chain's
supply (the chain_supply programme may pay part of the chain's fee), upgrade to the
new-type standard (with the store_upgrade subsidy), adopt digital tools (with the
sme_digital subsidy), or close after sustained losses; it closes at once if its cash
runs out, so negative cash never goes unrecorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import FixedAgent

if TYPE_CHECKING:
    from sim.agents.retailer import ChainRetailer
    from sim.model import CountyModel

TRADITIONAL, NEWTYPE = "traditional", "newtype"
STORE_KINDS = (TRADITIONAL, NEWTYPE)


class VillageStore(FixedAgent):
    """One village store, fixed to its village's cell.

    Attributes:
        node: The village's settlement index.
        kind: ``traditional`` or ``newtype``.
        chain: The chain retailer supplying it, if any.
        digital: Uses digital stock and ordering tools (lower restocking cost).
        cash: Cash on hand (yuan).
        hurdle: The owner's required return multiplier (1 = invests when payback is met).
        revenue_week, profit_week: Last week's books (yuan).
        month_profit: Profit so far this month; loss_months: consecutive loss months.
        is_open: False once the store has exited (it is then removed from the model).
    """

    def __init__(self, model: CountyModel, node: int, kind: str, cash: float, hurdle: float, rng: np.random.Generator):
        super().__init__(model)
        self.own_rng = rng
        self.node = node
        self.kind = kind
        self.chain: ChainRetailer | None = None
        self.digital = False
        self.cash = cash
        self.hurdle = hurdle
        self.revenue_week = 0.0
        self.service_income_week = 0.0
        self.profit_week = 0.0
        self.month_profit = 0.0
        self.loss_months = 0
        self.is_open = True
        self.opened_step = model.steps
        self.cell = model.space[node]

    # --- what households see ---------------------------------------------------------

    @property
    def markup(self) -> float:
        s = self.model.config.stores
        return s.markup_newtype if self.kind == NEWTYPE else s.markup_traditional

    @property
    def assortment(self) -> float:
        s = self.model.config.stores
        return s.assortment_newtype if self.kind == NEWTYPE else s.assortment_traditional

    def basket_ratio(self, kind: str | None = None) -> float:
        """The store's price and range as a cost per yuan of basket (see markets)."""
        s = self.model.config.stores
        k = kind or self.kind
        markup = s.markup_newtype if k == NEWTYPE else s.markup_traditional
        assort = s.assortment_newtype if k == NEWTYPE else s.assortment_traditional
        # markets.Market.basket_ratio in scalar form (called for every store every week)
        return (1.0 + markup) - 1.0 - self.model.config.behaviour.assortment_value_share * assort

    # --- books -----------------------------------------------------------------------

    def weekly_profit(
        self,
        revenue: float,
        kind: str | None = None,
        chained: bool | None = None,
        digital: bool | None = None,
        fee_relief: float = 0.0,
    ) -> float:
        """Profit of a week with this revenue, for the store as it is or as it might be.

        Args:
            revenue: The week's sales (yuan).
            kind, chained, digital: The store as it might be (default: as it is).
            fee_relief: Part of the chain fee the chain_supply programme pays (yuan/week).
        """
        s = self.model.config.stores
        k = kind or self.kind
        c = (self.chain is not None) if chained is None else chained
        d = self.digital if digital is None else digital
        restock = s.chain_restock_cost_share if c else s.restock_cost_share
        if d:
            restock *= 1.0 - s.digital_restock_saving
        fixed = s.fixed_cost_week + (s.newtype_extra_fixed_cost_week if k == NEWTYPE else 0.0)
        fixed += s.digital_fee_week if d else 0.0
        fee = s.chain_fee_week - fee_relief if c else 0.0
        return revenue * (s.gross_margin - restock) - fixed - fee

    def expected_fee_relief(self) -> float:
        """The chain-fee relief a store counts on: the programme's rate while it is open and
        has funds (a store does not foresee the pot running dry)."""
        m = self.model
        if not m.government.can_pay("chain_supply"):
            return 0.0
        return m.config.policy.chain_supply_subsidy * m.config.stores.chain_fee_week

    def book_week(self, revenue: float) -> None:
        """Book a week's sales and costs; pay the chain its fee (the chain_supply programme
        pays its part of the fee while its funds last)."""
        m = self.model
        self.revenue_week = revenue
        self.service_income_week = 0.0
        relief = 0.0
        if self.chain is not None:
            rate = m.config.policy.chain_supply_subsidy
            if rate > 0:
                relief = m.government.pay_up_to("chain_supply", rate * m.config.stores.chain_fee_week)
        self.profit_week = self.weekly_profit(revenue, fee_relief=relief)
        self.cash += self.profit_week
        self.month_profit += self.profit_week
        if self.chain is not None:
            self.chain.receive_fee(m.config.stores.chain_fee_week)

    def receive_service_fee(self, amount: float) -> None:
        """Parcel fees for acting as the village's service point (一点多能) this week."""
        self.service_income_week = amount
        self.cash += amount
        self.profit_week += amount
        self.month_profit += amount

    @property
    def is_service_point(self) -> bool:
        """Whether it takes parcels for the village (its village gets door delivery)."""
        stores = self.model.stores_at(self.node)
        return bool(stores and stores[0] is self and self.model.logistics.door_share[self.node] > 0)

    def close_month(self) -> None:
        """Count loss-making months; called at each month's turn before decisions."""
        self.loss_months = self.loss_months + 1 if self.month_profit < 0 else 0
        self.month_profit = 0.0

    def should_exit(self) -> bool:
        """Out of cash, or too many loss-making months in a row."""
        return self.cash < 0 or self.loss_months >= self.model.config.stores.exit_after_loss_months

    def exit(self, reason: str) -> None:
        """Close for good: leave the chain, the cell and the model, and record the exit."""
        self.is_open = False
        if self.chain is not None:
            self.chain.members.discard(self)
            self.chain = None
        self.model.record_exit(self, reason)
        self.remove()

    # --- monthly decisions -----------------------------------------------------------

    def upgrade_value(self) -> float:
        """Extra profit over the payback horizon of becoming new-type (yuan), on expected revenue."""
        m = self.model
        now, then = m.sellers.store_revenue_if(self, self.basket_ratio(NEWTYPE))
        chained_after = self.chain is not None or m.has_chains
        relief = self.expected_fee_relief()
        gain = self.weekly_profit(then, NEWTYPE, chained_after, fee_relief=relief) - self.weekly_profit(
            now, fee_relief=relief if self.chain is not None else 0.0
        )
        return gain * 52.0 * m.config.stores.payback_years

    def digital_value(self) -> float:
        """Extra profit over the payback horizon of adopting digital tools (yuan), on expected revenue."""
        m = self.model
        expected, _ = m.sellers.store_revenue_if(self, self.basket_ratio())
        relief = self.expected_fee_relief() if self.chain is not None else 0.0
        gain = self.weekly_profit(expected, digital=True, fee_relief=relief) - self.weekly_profit(
            expected, fee_relief=relief
        )
        return gain * 52.0 * m.config.stores.payback_years

    def would_invest(self, value: float, cost: float, rate: float) -> bool:
        """The owner's rule: the value beats the owner's share of the cost times the hurdle,
        and the owner has that share in cash."""
        own = (1.0 - rate) * cost
        return value > own * self.hurdle and self.cash >= own

    def consider_upgrade(self) -> bool:
        """Upgrade to the new-type standard if extra profit over the payback horizon beats
        the owner's share of the cost (after subsidy) and the owner can pay it.

        The subsidy is asked of the government only when the owner would invest with it;
        if the programme's funds are exhausted the owner decides again without it.
        """
        if self.kind == NEWTYPE:
            return False
        m = self.model
        s = m.config.stores
        subsidy = self._invest(
            self.upgrade_value(), s.upgrade_cost, m.config.policy.store_upgrade_subsidy, "store_upgrade"
        )
        if subsidy is None:
            return False
        self.kind = NEWTYPE
        if self.chain is None and m.has_chains:
            m.assign_chain(self)
        m.record_upgrade(self, subsidy)
        return True

    def _invest(self, value: float, cost: float, rate: float, programme: str) -> float | None:
        """Make an investment if it pays: with the programme's subsidy first, and if the
        owner would invest only with it and the pot cannot pay, decide again without it.

        Returns:
            The subsidy received (0 when unsubsidised), or None when the owner does not invest.
        """
        for r in (rate, 0.0):
            if self.would_invest(value, cost, r):
                own = (1.0 - r) * cost
                subsidy = cost - own
                if subsidy > 0 and not self.model.government.pay(programme, subsidy, place=self.node):
                    continue
                self.cash -= own
                return subsidy
        return None

    def consider_chain(self) -> bool:
        """Join a chain's supply when its cheaper restocking pays more than the fee."""
        m = self.model
        if self.chain is not None or not m.has_chains:
            return False
        expected, _ = m.sellers.store_revenue_if(self, self.basket_ratio())
        relief = self.expected_fee_relief()
        if self.weekly_profit(expected, chained=True, fee_relief=relief) > self.weekly_profit(expected):
            m.assign_chain(self)
            return True
        return False

    def consider_digital(self) -> bool:
        """Adopt digital stock and ordering tools when the restocking saving over the payback
        horizon beats the owner's share of the cost (after the sme_digital subsidy), as
        with upgrades: the subsidy is asked for first, and without it the owner decides again."""
        if self.digital:
            return False
        m = self.model
        s = m.config.stores
        subsidy = self._invest(self.digital_value(), s.digital_cost, m.config.policy.sme_digital_subsidy, "sme_digital")
        if subsidy is None:
            return False
        self.digital = True
        m.record_event("digital", village=m.county.ids[self.node], subsidy=subsidy)
        return True
