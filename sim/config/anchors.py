"""The e-commerce side: anchors and the regional brand, online adoption, durable goods,
and the e-commerce programme's support.

The anchors (service centre, livestream base) train households and sell for them; online
buying and selling spread by training and neighbours; durables are replaced when due.
``EcommerceConfig`` is read as ``policy.ecommerce``, next to the anchors it funds.
"""

from __future__ import annotations

import datetime as dt

from sim.config.fields import P, Section


class AnchorsConfig(Section):
    service_center: bool = P(
        True,
        "switch",
        "Whether the county e-commerce public service centre (县级电子商务公共服务中心) exists and trains households.",
    )
    training_capacity_per_month: int = P(
        20,
        "households/month",
        "Households the service centre trains a month from its own budget; the e-commerce training programme adds policy.training_capacity (assumption)",
        ge=0,
        le=100_000,
    )
    training_success: float = P(
        0.6, "share", "Share of trainees who become able to sell online (assumption).", ge=0.0, le=1.0
    )
    livestream_base_at_start: bool = P(
        False, "switch", "Whether a livestream e-commerce base (直播电商基地) operates at the start."
    )
    livestream_base_cost: float = P(
        800_000.0, "yuan", "Cost of setting up a livestream base (assumption).", ge=0.0, le=1e10
    )
    reach_without_base: float = P(
        0.3,
        "share",
        "Sales reach of anchor selling through the service centre alone, relative to a livestream base (assumption).",
        ge=0.0,
        le=1.0,
    )
    brand_growth_per_week: float = P(
        0.01,
        "1/week",
        "Growth of brand reputation per week at full reference volume and certified quality (assumption).",
        ge=0.0,
        le=1.0,
    )
    brand_decay_per_week: float = P(
        0.005, "1/week", "Decay of brand reputation per week without upkeep (assumption).", ge=0.0, le=1.0
    )
    max_brand_premium: float = P(
        0.3, "share", "Price premium of a fully reputed regional brand (区域公用品牌) (assumption).", ge=0.0, le=5.0
    )
    supported_decay_factor: float = P(
        0.5, "ratio", "Brand decay while brand-building support is paid, relative to none (assumption).", ge=0.0, le=1.0
    )
    quality_per_100k_yuan: float = P(
        0.1,
        "index/100,000 yuan",
        "Rise in certified quality per 100,000 yuan of certification support (assumption).",
        ge=0.0,
        le=10.0,
    )
    initial_reputation: float = P(0.1, "index 0-1", "Brand reputation at the start (assumption).", ge=0.0, le=1.0)
    certified_quality: float = P(
        0.4,
        "index 0-1",
        "Share of anchor volume with certified quality (三品一标) at the start (assumption).",
        ge=0.0,
        le=1.0,
    )


class AdoptionConfig(Section):
    buy_innovation_per_month: float = P(
        0.004, "1/month", "Bass innovation rate of online buying (assumption, to be calibrated).", ge=0.0, le=1.0
    )
    buy_imitation_per_month: float = P(
        0.04,
        "1/month",
        "Bass imitation rate of online buying, times the village's adopter share (assumption).",
        ge=0.0,
        le=5.0,
    )
    sell_innovation_per_month: float = P(
        0.0005,
        "1/month",
        "Bass innovation rate of online selling among households able to sell (assumption).",
        ge=0.0,
        le=1.0,
    )
    sell_imitation_per_month: float = P(
        0.03,
        "1/month",
        "Bass imitation rate of online selling, times the village's seller share (assumption).",
        ge=0.0,
        le=5.0,
    )
    trained_sell_rate_per_month: float = P(
        0.15,
        "1/month",
        "Extra monthly rate at which a trained household starts selling online (assumption).",
        ge=0.0,
        le=5.0,
    )
    no_delivery_factor: float = P(
        0.5,
        "ratio",
        "Adoption rates in a village without delivery to the village, relative to a served one (assumption).",
        ge=0.0,
        le=1.0,
    )
    initial_seller_share: float = P(
        0.03, "share", "Share of rural households selling online at the start (assumption).", ge=0.0, le=1.0
    )


class DurablesConfig(Section):
    appliance_lifetime_years: float = P(
        8.0, "years", "Typical age at which a household replaces a major appliance (assumption).", gt=0.5, le=50.0
    )
    vehicle_lifetime_years: float = P(
        10.0, "years", "Typical age at which a vehicle owner replaces the vehicle (assumption).", gt=0.5, le=50.0
    )
    due_spread_years: float = P(
        2.0, "years", "Spread of replacement ages around the lifetime (assumption).", gt=0.05, le=20.0
    )
    wait_weeks_when_due: float = P(
        26.0, "weeks", "Mean wait before buying once a replacement is due (assumption).", gt=0.5, le=520.0
    )
    appliance_price: float = P(3000.0, "yuan", "Price of a major appliance (assumption).", gt=0.0, le=1e6)
    vehicle_price: float = P(80000.0, "yuan", "Price of a vehicle (assumption).", gt=0.0, le=1e7)
    voucher_response: float = P(
        3.0,
        "per unit voucher rate",
        "Rise in the weekly purchase hazard per unit of voucher rate (a 10% voucher raises it by 30%) (assumption).",
        ge=0.0,
        le=100.0,
    )
    nev_base_share: float = P(
        0.15,
        "share",
        "Share of vehicle purchases that are new-energy where there is no charging nearby (assumption).",
        ge=0.0,
        le=1.0,
    )
    nev_charging_share: float = P(
        0.45,
        "share",
        "Share of vehicle purchases that are new-energy where the township has public charging (assumption).",
        ge=0.0,
        le=1.0,
    )
    initial_charging_share: float = P(
        0.3, "share", "Share of townships with public charging at the start (assumption).", ge=0.0, le=1.0
    )


class EcommerceConfig(Section):
    livestream_base_date: dt.date | None = P(
        dt.date(2024, 4, 1),
        "date",
        "When the programme sets up a livestream base if the county has none (null: not set up).",
    )
    livestream_base_subsidy: float = P(
        0.5, "share", "Share of the livestream base's cost paid by the programme.", ge=0.0, le=1.0
    )
    brand_support: float = P(
        200_000.0,
        "yuan/year",
        "Brand-building support for the regional public brand, paid monthly; while paid, brand decay is multiplied by anchors.supported_decay_factor.",
        ge=0.0,
        le=1e9,
    )
    certification_support: float = P(
        100_000.0,
        "yuan/year",
        "Support for certification (三品一标), paid monthly; raises certified quality by anchors.quality_per_100k_yuan per 100,000 yuan.",
        ge=0.0,
        le=1e9,
    )
