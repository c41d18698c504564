"""Farm output and where households sell it (农产品上行).

The four kinds of farm output (:data:`FARM_KINDS`), their shares, harvests and
perishability, and the prices and channel constants of the sales choice.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from sim.config.fields import P, Section

FARM_KINDS = ("grain", "cash_crops", "fruit_veg", "livestock")


class FarmKindConfig(Section):
    share: float = P(
        0.25,
        "share",
        "Share of rural farm output value from this kind (shares of the four kinds add up to 1).",
        ge=0.0,
        le=1.0,
    )
    harvest_months: list[int] = P([9, 10], "months 1-12", "Months in which this kind is harvested and sold.")
    perishable: bool = P(False, "switch", "Whether it spoils in transit without cold chain.")

    @model_validator(mode="after")
    def _months(self) -> FarmKindConfig:
        if not self.harvest_months:
            raise ValueError("harvest_months needs at least one month")
        bad = [m for m in self.harvest_months if not 1 <= m <= 12]
        if bad:
            raise ValueError(f"harvest_months must be months 1..12 (got {bad})")
        return self


class FarmConfig(Section):
    # Output shares and seasons are assumptions shaped like a mixed central-China county.
    grain: FarmKindConfig = Field(
        default_factory=lambda: FarmKindConfig(share=0.35, harvest_months=[6, 9, 10], perishable=False)
    )
    cash_crops: FarmKindConfig = Field(
        default_factory=lambda: FarmKindConfig(share=0.2, harvest_months=[8, 9, 10, 11], perishable=False)
    )
    fruit_veg: FarmKindConfig = Field(
        default_factory=lambda: FarmKindConfig(share=0.25, harvest_months=[5, 6, 7, 8, 9, 10], perishable=True)
    )
    livestock: FarmKindConfig = Field(
        default_factory=lambda: FarmKindConfig(share=0.2, harvest_months=list(range(1, 13)), perishable=True)
    )
    mix_concentration: float = P(
        4.0,
        "Dirichlet concentration",
        "How alike households' output mixes are (higher = closer to the county's shares) (assumption).",
        gt=0.0,
        le=1000.0,
    )
    market_price_index: float = P(
        1.12,
        "ratio",
        "Price at township/county markets relative to the village trader's farm-gate price (assumption).",
        gt=0.0,
        le=10.0,
    )
    city_price_index: float = P(
        1.45,
        "ratio",
        "Price city buyers pay online relative to the farm-gate price, before the brand premium (assumption).",
        gt=0.0,
        le=10.0,
    )
    anchor_commission: float = P(
        0.15,
        "share",
        "Share of the online sale kept by the anchor (livestream base / service centre) for aggregating, branding and selling (assumption).",
        ge=0.0,
        le=1.0,
    )
    platform_fee: float = P(
        0.08, "share", "Share of a household's own online sale paid to the platform (assumption).", ge=0.0, le=1.0
    )
    packaging_cost_share: float = P(
        0.05, "share", "Packaging and grading cost of selling online, as a share of value (assumption).", ge=0.0, le=1.0
    )
    local_loss: float = P(
        0.03, "share of value", "Loss of perishables sold locally (traders, markets) (assumption).", ge=0.0, le=1.0
    )
    market_trips_per_week: float = P(
        1.0,
        "trips/week",
        "Trips to the township market in a week the household sells there (assumption).",
        ge=0.0,
        le=14.0,
    )
    station_trips_per_week: float = P(
        1.0,
        "trips/week",
        "Trips to the township station to ship online sales when the village has no pick-up (assumption).",
        ge=0.0,
        le=14.0,
    )
    choice_scale: float = P(
        0.08,
        "share of value",
        "Logit scale of the sales-channel choice, as a share of the week's output value (assumption).",
        gt=0.001,
        le=10.0,
    )
    constant_market: float = P(
        -0.05,
        "share of value",
        "Channel constant of markets (effort, haggling) (assumption, to be calibrated).",
        ge=-10.0,
        le=10.0,
    )
    constant_anchor: float = P(
        -0.2,
        "share of value",
        "Channel constant of selling through an anchor (contracts, grading standards) (assumption, to be calibrated).",
        ge=-10.0,
        le=10.0,
    )
    constant_self_online: float = P(
        -0.25,
        "share of value",
        "Channel constant of selling online oneself (time, customer service) (assumption, to be calibrated).",
        ge=-10.0,
        le=10.0,
    )
    up_parcel_value: float = P(
        80.0, "yuan/parcel", "Value of farm products in one upward parcel (assumption).", gt=0.0, le=100_000
    )
    city_demand_elasticity: float = P(
        3.0,
        "elasticity",
        "Price elasticity of city demand for the county's online farm products (assumption).",
        gt=0.1,
        le=100.0,
    )
    city_market_yuan_per_household_week: float = P(
        60.0,
        "yuan/household/week",
        "Scale of city demand: weekly online sales per rural household at which the price has fallen by a factor 2^(-1/elasticity) (assumption).",
        gt=0.0,
        le=100_000,
    )
    city_volume_smoothing: float = P(
        0.2,
        "share/week",
        "Weight of the latest week in the smoothed online volume that sets city prices (about a five-week memory) (assumption).",
        gt=0.0,
        le=1.0,
    )
    parcel_expectation_smoothing: float = P(
        0.1,
        "share/week",
        "Weight of the latest week in carriers' expectation of upward farm parcels per village (assumption).",
        gt=0.0,
        le=1.0,
    )
    income_smoothing_weeks: float = P(
        26.0,
        "weeks",
        "Memory of the farm income that households budget on (exponential smoothing) (assumption).",
        ge=1.0,
        le=520.0,
    )

    @model_validator(mode="after")
    def _shares(self) -> FarmConfig:
        total = sum(getattr(self, k).share for k in FARM_KINDS)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"farm output shares ({', '.join(f'farm.{k}.share' for k in FARM_KINDS)}) must add up to 1 (they add up to {total:.6g})"
            )
        return self
