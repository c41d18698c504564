"""The county government: receives the commerce programme's funds and pays subsidies.

Each calendar year the county receives central funds plus its local match
(``policy.annual_budget`` × (1 + ``policy.local_cofunding_rate``)), prorated in a first
year that starts mid-year, and earmarks them between programmes by ``policy.budget_weights``. A subsidy is paid only
when its programme's pot can cover it in full, so spending can never exceed funds.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from sim.model import CountyModel

PROGRAMMES = (
    "store_upgrade",
    "township_center",
    "logistics_center",
    "codistribution",
    "nev_van",
    "cold_storage",
    "ecommerce_training",
    "livestream_base",
    "brand_building",
    "durable_vouchers",
    "charging",
)


class Government(mesa.Agent):
    """One per county. Holds the programme pots and the record of what was spent.

    Attributes:
        pots: Funds available to each programme now (yuan).
        spent: Cumulative subsidy paid by each programme (yuan).
        received: Cumulative funds received (yuan).
    """

    def __init__(self, model: CountyModel):
        super().__init__(model)
        self.pots = dict.fromkeys(PROGRAMMES, 0.0)
        self.spent = dict.fromkeys(PROGRAMMES, 0.0)
        self.received = 0.0

    def shares(self) -> dict[str, float]:
        """Each programme's share of new funds (the scenario's budget weights, normalised)."""
        return self.model.config.policy.budget_weights.shares()

    def new_year(self, today: dt.date, first: bool) -> None:
        """Receive this year's funds (prorated in a first, partial year)."""
        p = self.model.config.policy
        if not p.unspent_rolls_over and not first:
            self.pots = dict.fromkeys(PROGRAMMES, 0.0)
        fraction = 1.0
        if first:
            year_end = dt.date(today.year, 12, 31)
            fraction = ((year_end - today).days + 1) / (366 if today.year % 4 == 0 else 365)
        funds = p.annual_budget * (1.0 + p.local_cofunding_rate) * fraction
        self.received += funds
        for prog, share in self.shares().items():
            self.pots[prog] += funds * share

    def pay(self, programme: str, amount: float) -> bool:
        """Pay a subsidy from a programme's pot; False (nothing paid) if it cannot cover it."""
        if amount <= 0:
            return True
        if self.pots[programme] + 1e-9 < amount:
            return False
        self.pots[programme] -= amount
        self.spent[programme] += amount
        return True

    def pay_up_to(self, programme: str, amount: float) -> float:
        """Pay as much of a running subsidy (per parcel, per week) as the pot holds; return what was paid."""
        paid = max(0.0, min(amount, self.pots[programme]))
        self.pots[programme] -= paid
        self.spent[programme] += paid
        return paid

    @property
    def total_spent(self) -> float:
        return sum(self.spent.values())

    @property
    def funds_available(self) -> float:
        return sum(self.pots.values())
