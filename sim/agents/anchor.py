"""E-commerce anchors (电商主体): the county e-commerce public service centre and the
livestream base that carries the county's regional public brand.

The service centre runs the village livestream school: each month it trains up to its
capacity of rural households (younger heads first in expectation), and a share of
trainees become able to sell online. The livestream base aggregates farm products,
sells them to city buyers under the regional brand and keeps a commission; without it
the service centre still sells, but reaches fewer buyers. Brand reputation grows with
volume and certified quality and decays without upkeep; it earns a price premium.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import FixedAgent

if TYPE_CHECKING:
    from sim.model import CountyModel


class ServiceCenter(FixedAgent):
    """The county e-commerce public service centre: trains households every month."""

    def __init__(self, model: CountyModel):
        super().__init__(model)
        self.trained_total = 0.0  # real households made able to sell since the start
        self.enrolled_total = 0.0  # real households enrolled since the start
        self.trained_month = 0.0
        self.cell = model.space[model.county.county_town]

    def train(self, rng: np.random.Generator) -> float:
        """Train this month's cohort; returns the real households that became able to sell.

        Capacity is the centre's own plus the programme's ``policy.training_capacity``.
        The centre pays for its own places; the programme pays for its places
        (``policy.training_cost_per_trainee`` each) as far as its funds go, and only for
        places that are filled. A household enrols once, whether or not the training makes
        it a seller.
        """
        m = self.model
        a = m.config.anchors
        hh = m.households
        candidates = np.flatnonzero(hh.rural & ~hh.enrolled & ~hh.online_seller)
        # a fixed number of draws per month keeps the stream aligned across policies
        keys = rng.random(len(hh))
        success = rng.random(len(hh))
        if len(candidates) == 0:
            self.trained_month = 0.0
            return 0.0
        base = a.training_capacity_per_month
        extra = m.config.policy.training_capacity
        cost = m.config.policy.training_cost_per_trainee
        demand = float(hh.weight[candidates].sum())
        wanted = max(0.0, min(extra, demand - base))  # programme places that would be filled
        paid = m.government.pay_up_to("ecommerce_training", wanted * cost)
        capacity = base + (paid / cost if cost > 0 else wanted)
        # younger heads are likelier to enrol: order by a random key scaled by age
        order = candidates[np.argsort(keys[candidates] * hh.age_head[candidates], kind="stable")]
        take = order[np.cumsum(hh.weight[order]) <= capacity + 1e-9]
        hh.enrolled[take] = True
        ok = take[success[take] < a.training_success]
        hh.trained[ok] = True
        trained = float(hh.weight[ok].sum())
        self.enrolled_total += float(hh.weight[take].sum())
        self.trained_total += trained
        self.trained_month = trained
        return trained


class LivestreamBase(FixedAgent):
    """The livestream base (直播电商基地) selling under the regional public brand."""

    def __init__(self, model: CountyModel):
        super().__init__(model)
        self.cell = model.space[model.county.county_town]


class Anchors:
    """The county's anchors together: reach, brand and books."""

    def __init__(self, model: CountyModel):
        self.model = model
        a = model.config.anchors
        self.service_center = ServiceCenter(model) if a.service_center else None
        self.base: LivestreamBase | None = LivestreamBase(model) if a.livestream_base_at_start else None
        self.reputation = a.initial_reputation
        self.quality = a.certified_quality
        self.brand_supported = False
        self.commission_week = 0.0
        self.volume_week = 0.0

    def reach(self) -> float:
        """Relative reach of anchor selling: 1 with a livestream base, less without, 0 with none."""
        if self.base is not None:
            return 1.0
        return self.model.config.anchors.reach_without_base if self.service_center is not None else 0.0

    def premium(self) -> float:
        """Price premium of the regional brand."""
        return self.model.config.anchors.max_brand_premium * self.reputation

    def book_week(self, commission: float, volume: float, reference: float) -> None:
        """Book the week's commissions and let the brand's reputation move."""
        a = self.model.config.anchors
        self.commission_week = commission
        self.volume_week = volume
        growth = a.brand_growth_per_week * min(1.0, volume / reference) * self.quality * (1.0 - self.reputation)
        decay = a.brand_decay_per_week * (a.supported_decay_factor if self.brand_supported else 1.0) * self.reputation
        self.reputation = float(np.clip(self.reputation + growth - decay, 0.0, 1.0))

    def monthly(self, rng: np.random.Generator) -> None:
        """Training, and a month's brand and certification support from the programme."""
        pol = self.model.config.policy.ecommerce
        if self.service_center is not None:
            self.service_center.train(rng)
        gov = self.model.government
        a = self.model.config.anchors
        brand = pol.brand_support / 12.0
        # a month's support counts only if paid in full (a pot short of it pays nothing)
        self.brand_supported = brand > 0 and gov.pay("brand_building", brand)
        cert = gov.pay_up_to("brand_building", pol.certification_support / 12.0)
        self.quality = float(min(1.0, self.quality + a.quality_per_100k_yuan * cert / 100_000.0))

    def try_set_up_base(self) -> bool:
        """Set up the livestream base if the programme can pay its share."""
        if self.base is not None:
            return True
        m = self.model
        subsidy = m.config.policy.ecommerce.livestream_base_subsidy * m.config.anchors.livestream_base_cost
        if not m.government.pay("livestream_base", subsidy):
            return False
        self.base = LivestreamBase(m)
        m.record_event("facilities", facility="livestream_base", subsidy=subsidy)
        return True

    @property
    def trained_total(self) -> float:
        return self.service_center.trained_total if self.service_center is not None else 0.0
