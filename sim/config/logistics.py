"""How parcels move: the carriers, the county's logistics facilities, instant retail.

The carriers' fleet and route costs, the logistics centre, cold storage and township
stations, and the instant-retail platform that delivers from county-town shops.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.config.fields import P, Section

CarrierKind = Literal["post", "express", "coop"]


class CarrierConfig(Section):
    name: str = P(
        "carrier",
        "text",
        "Name of the carrier, unique in the county (used by policy.codistribution.members).",
        min_length=1,
        max_length=60,
    )
    kind: CarrierKind = P(
        "express",
        "choice",
        "post (universal service to every township), express (a brand), or coop (supply-and-marketing co-op logistics).",
    )
    market_share: float = P(
        0.25, "share", "Share of the county's parcels this carrier handles; shares add up to 1.", ge=0.0, le=1.0
    )
    nev_share: float = P(
        0.1,
        "share",
        "Share of the carrier's delivery vans that are new-energy at the start (assumption).",
        ge=0.0,
        le=1.0,
    )


def _default_fleet() -> list[CarrierConfig]:
    # Shares are an assumption shaped like a typical county: the post, two express brands
    # (express brands hold most of China's parcel market), and the co-op's logistics arm.
    return [
        CarrierConfig(name="post", kind="post", market_share=0.25),
        CarrierConfig(name="express_a", kind="express", market_share=0.35),
        CarrierConfig(name="express_b", kind="express", market_share=0.25),
        CarrierConfig(name="coop", kind="coop", market_share=0.15),
    ]


class CarriersConfig(Section):
    fleet: list[CarrierConfig] = Field(
        default_factory=_default_fleet,
        description="The carriers of the county, with kinds and market shares (shares add up to 1).",
        json_schema_extra={"unit": "list", "default": [c.model_dump() for c in _default_fleet()]},
    )
    routing: Literal["heuristic", "solver"] = P(
        "heuristic",
        "choice",
        "Route planner: heuristic (fast; gap to the solver under 5%) or solver (PyVRP prize-collecting VRP).",
    )
    replan_every_weeks: int = P(
        4, "weeks", "How often carriers re-plan which villages they serve directly.", ge=1, le=52
    )
    replan_tolerance: float = P(
        0.05,
        "share",
        "A township's delivery plan (villages served, tour order) is kept at a re-plan while every village's prize (relative to its revenue, or its township's mean revenue if larger) and the planner's cost per km have moved less than this share since the plan was made, and no village gained or lost a store or a positive prize; 0 re-plans every township every time. Default: the largest measured tolerance keeping the reference scenarios' final indicators within seed-to-seed noise (benchmarks/replan_tolerance.py).",
        ge=0.0,
        le=1.0,
    )
    deliveries_per_week: float = P(
        3.0,
        "trips/week",
        "Delivery runs per week from a township outlet to the villages it serves (assumption; 'at least weekly' counts as served).",
        ge=1.0,
        le=14.0,
    )
    cost_per_km_fuel: float = P(
        1.6, "yuan/km", "Running cost of a fuel van per km, driver time included (assumption).", ge=0.0, le=100.0
    )
    cost_per_km_nev: float = P(
        1.0, "yuan/km", "Running cost of a new-energy van per km, driver time included (assumption).", ge=0.0, le=100.0
    )
    cost_per_hour: float = P(
        40.0,
        "yuan/hour",
        "Driver and vehicle time cost per hour of driving on village routes (assumption; a rural courier earns about 5,000 yuan a month).",
        ge=0.0,
        le=10_000.0,
    )
    cost_per_stop: float = P(
        8.0, "yuan/stop", "Cost of a village stop (finding recipients, hand-over) (assumption).", ge=0.0, le=1000.0
    )
    door_delivery_cost_per_parcel: float = P(
        0.4,
        "yuan/parcel",
        "Courier time to hand a parcel over door to door in a village without a store service point (assumption).",
        ge=0.0,
        le=50.0,
    )
    cost_per_stop_service_point: float = P(
        3.0,
        "yuan/stop",
        "Cost of a stop at a store service point that takes all of the village's parcels (assumption).",
        ge=0.0,
        le=1000.0,
    )
    handling_cost_per_parcel: float = P(
        0.4, "yuan/parcel", "Sorting and handling at a carrier's own county depot (assumption).", ge=0.0, le=20.0
    )
    handling_cost_automatic: float = P(
        0.2,
        "yuan/parcel",
        "Handling at the county logistics centre with automatic sorting (assumption).",
        ge=0.0,
        le=20.0,
    )
    trunk_trips_per_week: float = P(
        7.0,
        "trips/week",
        "Line-haul trips per week from the county depot to each township station (assumption: daily).",
        ge=0.0,
        le=50.0,
    )
    trunk_cost_per_km: float = P(2.5, "yuan/km", "Line-haul truck cost per km (assumption).", ge=0.0, le=100.0)
    revenue_per_parcel: float = P(
        1.2,
        "yuan/parcel",
        "The county outlet's share of each parcel's price, earned whether it goes to the village or the station (assumption).",
        ge=0.0,
        le=50.0,
    )
    village_delivery_fee: float = P(
        0.8,
        "yuan/parcel",
        "Extra fee earned for delivering a parcel into the village rather than to the township station (assumption).",
        ge=0.0,
        le=50.0,
    )
    upward_margin_per_parcel: float = P(
        3.0,
        "yuan/parcel",
        "Margin on an upward (farm product) parcel collected by the carrier (assumption).",
        ge=0.0,
        le=100.0,
    )
    unserved_upward_factor: float = P(
        0.5,
        "ratio",
        "Upward parcels sent from a village without pick-up, relative to one with it (farmers must carry goods to town) (assumption).",
        ge=0.0,
        le=1.0,
    )
    transit_days: float = P(
        1.5, "days", "Days from the county depot to the door or the township station (assumption).", ge=0.0, le=30.0
    )
    station_pickup_rate: float = P(
        0.8,
        "share/week",
        "Share of parcels waiting at a township station that recipients collect each week (assumption).",
        ge=0.01,
        le=1.0,
    )
    station_pickup_rate_standard: float = P(
        0.95,
        "share/week",
        "Share of waiting parcels collected each week at a standardised township station with pick-up lockers "
        "(智能取件终端) and longer hours (assumption).",
        ge=0.01,
        le=1.0,
    )
    loss_rate: float = P(
        0.0005, "share", "Share of parcels lost or damaged in the county network (assumption).", ge=0.0, le=0.5
    )
    van_km_per_year: float = P(
        30000.0,
        "km/year",
        "Distance a delivery van covers in a year, to size fleets (assumption).",
        gt=100.0,
        le=500000.0,
    )
    fleet_turnover_per_year: float = P(
        0.15,
        "share/year",
        "Share of vans replaced each year; replacements may be new-energy (assumption).",
        ge=0.0,
        le=1.0,
    )
    nev_price_premium: float = P(
        40000.0, "yuan/van", "Extra purchase price of a new-energy van over a fuel van (assumption).", ge=0.0, le=1e7
    )
    payback_years: float = P(
        2.0,
        "years",
        "Horizon over which a carrier counts savings when buying equipment; short because rural outlets are capital-constrained (assumption).",
        gt=0.0,
        le=30.0,
    )
    settle_every_weeks: int = P(
        12,
        "weeks",
        "Co-distribution membership and Shapley cost shares are settled at the first re-plan at least this many weeks after the last settlement (contracts run about a quarter; assumption); shared routes are re-planned with the carriers' plans",
        ge=1,
        le=104,
    )
    codistribution_fee_per_parcel: float = P(
        0.15,
        "yuan/parcel",
        "Fee the co-distribution operator charges members per pooled parcel, on top of shared costs (assumption).",
        ge=0.0,
        le=20.0,
    )

    @model_validator(mode="after")
    def _fleet_ok(self) -> CarriersConfig:
        if not self.fleet:
            raise ValueError("carriers.fleet needs at least one carrier")
        names = [c.name for c in self.fleet]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"carriers.fleet has duplicate names: {', '.join(dup)}")
        total = sum(c.market_share for c in self.fleet)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"carriers.fleet market shares must add up to 1 (they add up to {total:.6g})")
        if len(self.fleet) > 8:
            raise ValueError("carriers.fleet may have at most 8 carriers (exact Shapley cost shares)")
        return self


class LogisticsConfig(Section):
    parcel_value: float = P(
        40.0, "yuan/parcel", "Average value of everyday goods per downward parcel (assumption).", gt=0.0, le=10_000
    )
    other_parcels_per_household_week: float = P(
        0.8,
        "parcels/household/week",
        "Downward parcels for goods outside the everyday basket (clothes, electronics...) (assumption: with everyday and upward parcels, about one parcel per rural resident per week, as SPB's 37 bn rural parcels in 2021 imply).",
        ge=0.0,
        le=50.0,
    )
    upward_parcels_per_household_week: float = P(
        0.05,
        "parcels/household/week",
        "Upward parcels other than farm products (returns, handicrafts) a rural household sends with pick-up in the village; farm parcels come from farm sales (assumption)",
        ge=0.0,
        le=50.0,
    )
    perishable_share_up: float = P(
        0.4,
        "share",
        "Share of upward parcels that are perishable (fruit, vegetables, meat) (assumption).",
        ge=0.0,
        le=1.0,
    )
    perishable_value_per_parcel: float = P(
        60.0, "yuan/parcel", "Value of a perishable upward parcel (assumption).", ge=0.0, le=10_000
    )
    loss_without_cold_chain: float = P(
        0.25,
        "share of value",
        "Value lost by perishables without cold chain (NDRC 2010 cold-chain plan: fruit and vegetables 20-30% in distribution).",
        ge=0.0,
        le=1.0,
    )
    loss_with_cold_chain: float = P(
        0.05,
        "share of value",
        "Value lost by perishables with cold storage at the county (under 5% in developed systems; NDRC 2010).",
        ge=0.0,
        le=1.0,
    )
    center_at_start: bool = P(
        False,
        "switch",
        "Whether the county already has a logistics distribution centre (县级物流配送中心) at the start.",
    )
    center_build_cost: float = P(
        3_000_000.0, "yuan", "Cost of building a county logistics distribution centre (assumption).", ge=0.0, le=1e10
    )
    sorting_cost: float = P(
        800_000.0, "yuan", "Cost of an automatic sorting line at the centre (assumption).", ge=0.0, le=1e10
    )
    cold_storage_at_start: bool = P(
        False, "switch", "Whether the county already has cold storage for farm products at the start."
    )
    cold_storage_build_cost: float = P(
        2_000_000.0, "yuan", "Cost of county cold storage (assumption).", ge=0.0, le=1e10
    )
    township_station_share_at_start: float = P(
        0.5,
        "share",
        "Share of townships with a standardised express and logistics station (乡镇快递物流站点, at least 10 m², "
        "lockers) at the start; the most populous townships have them (assumption).",
        ge=0.0,
        le=1.0,
    )
    township_station_cost: float = P(
        60_000.0,
        "yuan",
        "Cost of standardising a township station: space, shelving, pick-up lockers (assumption).",
        ge=0.0,
        le=1e8,
    )


class InstantRetailConfig(Section):
    enabled: bool = P(
        True, "switch", "Whether an instant-retail platform (即时零售) links county-town stores to homes nearby."
    )
    radius_km: float = P(
        5.0, "km", "Delivery radius around the county town (road distance) (assumption).", ge=0.0, le=100.0
    )
    price_index: float = P(
        1.03, "ratio", "Price of instant retail relative to county-town shelves (assumption).", gt=0.0, le=3.0
    )
    assortment: float = P(
        0.7, "index 0-1", "Range of goods available for instant delivery (assumption).", ge=0.0, le=1.0
    )
    delivery_fee_week: float = P(
        6.0,
        "yuan/week",
        "Delivery fees a household pays in a week when it buys this way (assumption).",
        ge=0.0,
        le=1000.0,
    )
    constant: float = P(
        -15.0,
        "yuan/week",
        "Channel constant of instant retail (habit, trust) (assumption, to be calibrated).",
        ge=-10_000,
        le=10_000,
    )
