"""The scenario schema: everything that describes one county run.

A scenario is a YAML file validated by these pydantic models before anything runs.
Every field carries a unit, a default, a valid range and a one-line meaning (in the
JSON Schema that ``countysim schema`` prints), so that a researcher can sweep any of
them by dotted path and an editor can autocomplete them. Values taken from a public
source cite it in the field's description; values that are modelling assumptions say
"assumption".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.errors import InputError
from sim.policy.catalogue import PhaseName, window_end, window_start

Region = Literal["east_plain", "central_hill", "west_mountain", "northeast_plain"]
Size = Literal["small", "median", "large"]


def P(default: Any, unit: str, meaning: str, **limits: Any) -> Any:  # noqa: N802
    """A schema field with its unit and meaning recorded in the JSON Schema.

    Args:
        default: The default value.
        unit: The unit of measure ("yuan", "share", "km", "count", ...).
        meaning: One line saying what the value means and where it comes from.
        **limits: pydantic bounds (ge, le, gt, lt) giving the valid range.
    """
    return Field(default, description=meaning, json_schema_extra={"unit": unit}, **limits)


class Section(BaseModel):
    """Base for every scenario section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class Timeline(Section):
    start: dt.date = P(dt.date(2023, 7, 1), "date", "First simulated week (the plan was issued 2023-07-27).")
    end: dt.date = P(
        dt.date(2025, 12, 31), "date", "Last simulated day; default covers the plan and its final evaluation."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Timeline:
        if self.end <= self.start:
            raise ValueError("timeline.end must be after timeline.start")
        if (self.end - self.start).days < 7:
            raise ValueError("timeline must span at least one week (7 days)")
        from sim.markets.calendar import SPRING_FESTIVAL

        first, last = min(SPRING_FESTIVAL), max(SPRING_FESTIVAL) - 1
        if self.start.year < first or self.end.year > last:
            raise ValueError(f"timeline must lie within {first}-{last} (years with a known Spring Festival date)")
        return self


class MapConfig(Section):
    source: Literal["generated", "file"] = P(
        "generated", "choice", "Generate a synthetic county, or load settlements from a file."
    )
    region: Region = P(
        "central_hill",
        "choice",
        "Region/terrain preset for the generator: east_plain, central_hill, west_mountain, northeast_plain.",
    )
    size: Size = P(
        "median",
        "choice",
        "County size preset: small (~4 townships, 40 villages), median (~16, 250, 400,000 people), large (~30, 600).",
    )
    map_seed: int = P(
        1,
        "seed",
        "Seed of the generated geography; kept apart from the run seed so replicates share one county.",
        ge=0,
        le=2**32 - 1,
    )
    n_townships: int | None = P(None, "count", "Override the preset's number of townships.", ge=1, le=200)
    n_villages: int | None = P(None, "count", "Override the preset's number of administrative villages.", ge=1, le=5000)
    population: int | None = P(None, "persons", "Override the preset's resident population.", ge=100, le=5_000_000)
    terrain_speed_factor: float | None = P(
        None, "share", "Override the preset's multiplier on road speeds for terrain (1 = flat).", gt=0.1, le=1.5
    )
    detour_factor: float = P(
        1.3,
        "ratio",
        "Road length over straight-line distance for inferred roads (assumption; 1.2-1.4 is typical of rural networks).",
        ge=1.0,
        le=3.0,
    )
    speed_county_road_kmh: float = P(
        60.0, "km/h", "Speed on county roads (county town to townships) on flat land (assumption).", gt=5, le=120
    )
    speed_township_road_kmh: float = P(
        40.0, "km/h", "Speed on township roads (township to township) on flat land (assumption).", gt=5, le=100
    )
    speed_village_road_kmh: float = P(25.0, "km/h", "Speed on village roads on flat land (assumption).", gt=2, le=80)
    settlements_file: Path | None = P(
        None,
        "path",
        "CSV or GeoJSON of settlements (id, name, kind, lon, lat, population, optional township); relative to the scenario file.",
    )
    roads_file: Path | None = P(
        None,
        "path",
        "Optional CSV of road edges (from, to, optional length_km, road_class); relative to the scenario file. Inferred when absent.",
    )

    @model_validator(mode="after")
    def _file_needs_path(self) -> MapConfig:
        if self.source == "file" and self.settlements_file is None:
            raise ValueError("map.source is 'file' but map.settlements_file is not set")
        if self.roads_file is not None and self.source != "file":
            raise ValueError("map.roads_file is only used with map.source: file")
        if self.n_townships and self.n_villages and self.n_villages < self.n_townships:
            raise ValueError("map.n_villages must be at least map.n_townships (every township has a village)")
        return self


class Population(Section):
    households_per_agent: int = P(
        1,
        "households",
        "How many real households one household agent stands for (1 = one agent per household; larger is faster).",
        ge=1,
        le=10_000,
    )
    household_size: float = P(
        3.0, "persons", "Mean persons per rural household (census-scale rural households are about 3).", ge=1.0, le=10.0
    )
    income_per_capita: float = P(
        21691.0, "yuan/person/year", "Mean rural per-capita disposable income (NBS, 2023: 21,691).", gt=0, le=1_000_000
    )
    income_sigma: float = P(
        0.55,
        "log sd",
        "Spread of log household income per capita (assumption, typical of rural income distributions).",
        ge=0.0,
        le=2.0,
    )
    farm_income_share: float = P(
        0.34,
        "share",
        "Share of income from farming/household operations (NBS 2023 rural operating income is about a third).",
        ge=0.0,
        le=1.0,
    )
    vehicle_share: float = P(
        0.45, "share", "Share of households with a car or motorbike usable for shopping (assumption).", ge=0.0, le=1.0
    )
    online_buyer_share: float = P(
        0.55,
        "share",
        "Share of households buying online at the start (assumption; adoption becomes dynamic with the e-commerce issue).",
        ge=0.0,
        le=1.0,
    )
    age_head_mean: float = P(
        55.0,
        "years",
        "Mean age of household heads (assumption; rural heads are older than the national average).",
        ge=18,
        le=90,
    )
    age_head_sd: float = P(12.0, "years", "Spread of household heads' ages (assumption).", ge=0.0, le=40.0)
    online_age_years_per_logit: float = P(
        20.0,
        "years",
        "Years of age of the head that lower the log-odds of buying online by one (assumption).",
        gt=0.0,
        le=1000.0,
    )


class Behaviour(Section):
    consumption_propensity: float = P(
        0.826, "share", "Consumption over disposable income (NBS 2022: 16,632 / 20,133).", gt=0.0, le=1.5
    )
    everyday_goods_share: float = P(
        0.35,
        "share",
        "Share of consumption spent on everyday goods bought through the modelled channels (assumption, near the rural Engel coefficient).",
        gt=0.0,
        le=1.0,
    )
    spring_festival_uplift: float = P(
        0.5,
        "share",
        "Extra everyday spending in each of the three weeks before Spring Festival (年货 shopping) (assumption).",
        ge=0.0,
        le=5.0,
    )
    spending_noise_sd: float = P(
        0.15,
        "log sd",
        "Week-to-week random variation in each household's everyday budget (assumption).",
        ge=0.0,
        le=2.0,
    )
    choice_scale_yuan: float = P(
        30.0,
        "yuan",
        "Logit scale of channel choice: a cost difference of this many yuan per week shifts odds by e (assumption, calibrated later).",
        gt=0.01,
        le=10_000,
    )
    value_of_time_share: float = P(
        0.5,
        "share",
        "Value of travel time as a share of the hourly income of the household (assumption; 0.3-0.6 is usual).",
        ge=0.0,
        le=3.0,
    )
    work_hours_per_year: float = P(
        2000.0,
        "hours",
        "Hours of work per earner-household used to turn income into an hourly value of time (assumption).",
        gt=100,
        le=6000,
    )
    travel_cost_per_km: float = P(
        0.6, "yuan/km", "Money cost of travel per km (fuel or fare) (assumption).", ge=0.0, le=20.0
    )
    no_vehicle_time_factor: float = P(
        1.8,
        "ratio",
        "Travel time multiplier for households without a vehicle (bus, e-bike) (assumption).",
        ge=1.0,
        le=10.0,
    )
    village_walk_km: float = P(
        0.5, "km", "Round-trip distance to a store within the village (assumption).", ge=0.0, le=10.0
    )
    trips_village: float = P(
        2.0,
        "trips/week",
        "Shopping trips per week when everything is bought at the village store (assumption).",
        ge=0.0,
        le=14.0,
    )
    trips_township: float = P(
        1.0, "trips/week", "Trips per week when everything is bought in the township (assumption).", ge=0.0, le=14.0
    )
    trips_county: float = P(
        0.5, "trips/week", "Trips per week when everything is bought in the county town (assumption).", ge=0.0, le=14.0
    )
    parcel_fetch_trips: float = P(
        0.7,
        "trips/week",
        "Trips per week to the township station to fetch parcels when the village has no express delivery (assumption).",
        ge=0.0,
        le=14.0,
    )
    online_price_index: float = P(
        0.92, "ratio", "Online price relative to the county-town shelf price (assumption).", gt=0.0, le=3.0
    )
    online_wait_cost_share: float = P(
        0.04, "share", "Cost of waiting for delivery, as a share of the basket (assumption).", ge=0.0, le=1.0
    )
    constant_village_store: float = P(
        -5.0,
        "yuan/week",
        "Convenience value of buying next door (top-ups, credit, habit): the village store's channel constant, set so that a median central-hill county starts near (not exactly at) 18% of rural everyday spending at village stores, 35% in townships, 25% in the county town, 22% online (assumption, to be calibrated).",
        ge=-10_000,
        le=10_000,
    )
    constant_township: float = P(
        0.0, "yuan/week", "Township channel constant (the reference channel, 0 by convention).", ge=-10_000, le=10_000
    )
    constant_county_town: float = P(
        -28.0, "yuan/week", "County-town channel constant (assumption, to be calibrated).", ge=-10_000, le=10_000
    )
    constant_online: float = P(
        -64.5,
        "yuan/week",
        "Online channel constant: fresh food and trust issues keep part of the basket offline (assumption, to be calibrated).",
        ge=-10_000,
        le=10_000,
    )
    store_nest_scale: float = P(
        0.3,
        "ratio 0-1",
        "How alike stores in one village are to shoppers (nested-logit scale): 1 = as distinct as separate channels, near 0 = a second identical store adds nothing (assumption).",
        gt=0.01,
        le=1.0,
    )
    walk_speed_kmh: float = P(4.0, "km/h", "Walking speed within a village (assumption).", gt=0.5, le=20)
    township_market_price_index: float = P(
        1.04,
        "ratio",
        "Price at a township market without a commerce centre, relative to the county town (assumption).",
        gt=0.0,
        le=3.0,
    )
    township_center_price_index: float = P(
        1.0, "ratio", "Price at a township commerce centre relative to the county town (assumption).", gt=0.0, le=3.0
    )
    assortment_value_share: float = P(
        0.1,
        "share",
        "Value of a full assortment over a minimal one, as a share of the basket (assumption).",
        ge=0.0,
        le=2.0,
    )
    assortment_township_market: float = P(
        0.5,
        "index 0-1",
        "Assortment of a township market without a centre (1 = county town) (assumption).",
        ge=0.0,
        le=1.0,
    )
    assortment_township_center: float = P(
        0.8, "index 0-1", "Assortment of a township commerce centre (assumption).", ge=0.0, le=1.0
    )
    assortment_online: float = P(1.0, "index 0-1", "Assortment online (assumption).", ge=0.0, le=1.0)


class Stores(Section):
    initial_village_coverage: float | None = P(
        None,
        "share",
        "Share of villages with a store at the start; default by region preset (assumption).",
        ge=0.0,
        le=1.0,
    )
    second_store_probability: float = P(
        0.25, "share", "Chance that a village with a store has a second one (assumption).", ge=0.0, le=1.0
    )
    initial_newtype_share: float = P(
        0.15, "share", "Share of stores already standardised new-type at the start (assumption).", ge=0.0, le=1.0
    )
    initial_chain_share: float = P(
        0.10,
        "share",
        "Share of traditional stores already supplied by a chain at the start (assumption).",
        ge=0.0,
        le=1.0,
    )
    markup_traditional: float = P(
        0.12, "share", "Price mark-up of a traditional store over county-town prices (assumption).", ge=0.0, le=2.0
    )
    markup_newtype: float = P(
        0.08, "share", "Price mark-up of a new-type store (chain supply, standard ranges) (assumption).", ge=0.0, le=2.0
    )
    assortment_traditional: float = P(
        0.3, "index 0-1", "Assortment of a traditional village store (assumption).", ge=0.0, le=1.0
    )
    assortment_newtype: float = P(0.6, "index 0-1", "Assortment of a new-type store (assumption).", ge=0.0, le=1.0)
    gross_margin: float = P(
        0.18,
        "share",
        "Gross margin on sales before restocking logistics (assumption; small-shop margins 15-20%).",
        ge=0.0,
        le=0.9,
    )
    restock_cost_share: float = P(
        0.05,
        "share",
        "Restocking logistics cost as a share of sales for an independent store (assumption).",
        ge=0.0,
        le=0.5,
    )
    chain_restock_cost_share: float = P(
        0.025,
        "share",
        "Restocking cost share when a chain supplies the store (unified buying and delivery) (assumption).",
        ge=0.0,
        le=0.5,
    )
    chain_fee_week: float = P(
        20.0, "yuan/week", "Membership fee a store pays its supplying chain (assumption).", ge=0.0, le=10_000
    )
    fixed_cost_week: float = P(
        400.0,
        "yuan/week",
        "Rent, utilities and the owner's opportunity cost of a store (assumption).",
        ge=0.0,
        le=100_000,
    )
    newtype_extra_fixed_cost_week: float = P(
        60.0,
        "yuan/week",
        "Extra running cost of a new-type store (equipment, digital tools) (assumption).",
        ge=0.0,
        le=100_000,
    )
    initial_cash_weeks: float = P(12.0, "weeks", "Starting cash, in weeks of fixed cost (assumption).", ge=0.0, le=520)
    upgrade_cost: float = P(
        50000.0,
        "yuan",
        "Cost of upgrading a village store to the new-type standard: fittings, shelving, cold cabinet, digital till (assumption).",
        ge=0.0,
        le=10_000_000,
    )
    payback_years: float = P(
        3.0,
        "years",
        "Horizon over which an owner counts extra profit when deciding to invest (assumption).",
        gt=0.0,
        le=30.0,
    )
    owner_hurdle_sd: float = P(
        0.8,
        "log sd",
        "Spread of owners' required return across stores (assumption): makes decisions heterogeneous.",
        ge=0.0,
        le=3.0,
    )
    exit_after_loss_months: int = P(
        6,
        "months",
        "A store closes after this many consecutive loss-making months (or at once when cash runs out).",
        ge=1,
        le=120,
    )
    review_probability: float = P(
        0.015,
        "share/month",
        "Monthly chance that an owner reviews investments (upgrade, chain supply); owners do not re-plan every month (assumption).",
        ge=0.0,
        le=1.0,
    )
    entry_probability: float = P(
        0.15,
        "share/month",
        "Monthly chance that a would-be owner tests a village whose market would pay for a store (assumption).",
        ge=0.0,
        le=1.0,
    )
    entry_cost: float = P(15000.0, "yuan", "Cost of opening a traditional store (assumption).", ge=0.0, le=10_000_000)
    max_stores_per_village: int = P(3, "count", "Most stores a village can hold.", ge=1, le=50)
    initial_digital_share: float = P(
        0.05,
        "share",
        "Share of stores using digital stock and ordering tools at the start (assumption).",
        ge=0.0,
        le=1.0,
    )
    digital_cost: float = P(
        8000.0,
        "yuan",
        "Cost of digital stock, ordering and sales-analysis tools for a village store (hardware, set-up, training) (assumption).",
        ge=0.0,
        le=1_000_000,
    )
    digital_restock_saving: float = P(
        0.3,
        "share",
        "Share of restocking cost a store saves with digital stock and ordering tools (fewer stock-outs, fuller loads) (assumption).",
        ge=0.0,
        le=1.0,
    )
    digital_fee_week: float = P(
        15.0, "yuan/week", "Running cost of the digital tools (software, data) (assumption).", ge=0.0, le=10_000
    )


class Retailers(Section):
    count: int = P(2, "count", "Chain retailers (county leading distribution firms) in the county.", ge=0, le=20)
    county_outlet_share: float = P(
        0.5,
        "share",
        "Share of county-town spending captured by the chains' outlets (the rest by independent shops) (assumption).",
        ge=0.0,
        le=1.0,
    )
    outlet_fixed_cost_week: float = P(
        60000.0, "yuan/week", "Running cost of one chain's county-town outlets (assumption).", ge=0.0, le=1e8
    )
    center_capture_share: float = P(
        0.4,
        "share",
        "Share of a township's spending taken by its commerce centre once it exists; market stalls and shops keep the rest (assumption).",
        ge=0.0,
        le=1.0,
    )
    center_build_cost: float = P(
        3_000_000.0, "yuan", "Cost of building or upgrading a township commerce centre (assumption).", ge=0.0, le=1e9
    )
    center_fixed_cost_week: float = P(
        8000.0, "yuan/week", "Running cost of a township commerce centre (assumption).", ge=0.0, le=1e7
    )
    center_gross_margin: float = P(0.14, "share", "Gross margin of a township centre (assumption).", ge=0.0, le=0.9)
    payback_years: float = P(
        5.0, "years", "Horizon over which a chain counts a centre's profit (assumption).", gt=0.0, le=50.0
    )
    initial_center_share: float = P(
        0.5, "share", "Share of townships with a commerce centre at the start (assumption).", ge=0.0, le=1.0
    )
    max_new_centers_per_year: int = P(
        1,
        "count/year",
        "Most township centres one chain can open in a calendar year (management and capital capacity; assumption).",
        ge=0,
        le=100,
    )
    decision_noise_sd: float = P(
        0.3, "log sd", "Spread of chains' estimate of a centre's profit (assumption).", ge=0.0, le=3.0
    )
    county_center_m2: float = P(
        6000.0,
        "m²",
        "Floor area of the county town's largest commerce service centre (县城综合商贸服务中心) at the start; "
        "tier criteria test it (assumption: between Shanxi's basic 5,000 and enhanced 8,000 m²).",
        ge=0.0,
        le=1_000_000,
    )
    county_center_cost_per_m2: float = P(
        1500.0,
        "yuan/m²",
        "Cost of adding or upgrading a square metre of county commerce centre floor (renovation and fit-out) (assumption).",
        ge=0.0,
        le=100_000,
    )


CarrierKind = Literal["post", "express", "coop"]


class CarrierSpec(Section):
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


def _default_fleet() -> list[CarrierSpec]:
    # Shares are an assumption shaped like a typical county: the post, two express brands
    # (express brands hold most of China's parcel market), and the co-op's logistics arm.
    return [
        CarrierSpec(name="post", kind="post", market_share=0.25),
        CarrierSpec(name="express_a", kind="express", market_share=0.35),
        CarrierSpec(name="express_b", kind="express", market_share=0.25),
        CarrierSpec(name="coop", kind="coop", market_share=0.15),
    ]


class Carriers(Section):
    fleet: list[CarrierSpec] = Field(
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
    def _fleet_ok(self) -> Carriers:
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


class Logistics(Section):
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


class InstantRetail(Section):
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


class Codistribution(Section):
    enabled: bool = P(
        False, "switch", "Whether co-distribution (共同配送) runs at the county logistics centre (it needs the centre)."
    )
    start: dt.date = P(dt.date(2024, 1, 1), "date", "Date from which co-distribution runs.")
    members: list[str] | None = P(
        None,
        "carrier names",
        "Carriers required to pool their parcels (a list, possibly empty, fixes the members); null lets each carrier join when it pays.",
    )
    parcel_subsidy: float = P(
        0.0,
        "yuan/parcel",
        "Operating subsidy per pooled parcel, paid from the co-distribution programme.",
        ge=0.0,
        le=10.0,
    )


def _weight(default: float, programme: str) -> Any:
    return P(
        default,
        "weight",
        f"Weight of the {programme.replace('_', ' ')} programme in new funds (rules 'weights' and 'shares'; "
        "assumption).",
        ge=0.0,
        le=1000.0,
    )


class BudgetWeights(Section):
    """How new funds are earmarked between programmes.

    Under ``policy.allocation: weights`` the values are relative weights, normalised to
    shares (so a sweep may vary one weight alone); under ``shares`` they must already add
    up to one. The defaults add up to one, so they read the same either way.
    """

    store_upgrade: float = _weight(0.14, "store_upgrade")
    township_center: float = _weight(0.15, "township_center")
    logistics_center: float = _weight(0.20, "logistics_center")
    codistribution: float = _weight(0.05, "codistribution")
    nev_van: float = _weight(0.03, "nev_van")
    cold_storage: float = _weight(0.05, "cold_storage")
    county_center: float = _weight(0.09, "county_center")
    township_station: float = _weight(0.05, "township_station")
    chain_supply: float = _weight(0.04, "chain_supply")
    sme_digital: float = _weight(0.03, "sme_digital")
    ecommerce_training: float = _weight(0.05, "ecommerce_training")
    durable_vouchers: float = _weight(0.03, "durable_vouchers")
    livestream_base: float = _weight(0.04, "livestream_base")
    brand_building: float = _weight(0.02, "brand_building")
    charging: float = _weight(0.03, "charging")

    @model_validator(mode="after")
    def _some_weight(self) -> BudgetWeights:
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("policy.budget_weights must have at least one positive weight")
        return self

    def shares(self) -> dict[str, float]:
        """The weights as budget shares adding up to one."""
        w = self.model_dump()
        total = sum(w.values())
        return {k: v / total for k, v in w.items()}


FARM_KINDS = ("grain", "cash_crops", "fruit_veg", "livestock")


class FarmKind(Section):
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
    def _months(self) -> FarmKind:
        if not self.harvest_months:
            raise ValueError("harvest_months needs at least one month")
        bad = [m for m in self.harvest_months if not 1 <= m <= 12]
        if bad:
            raise ValueError(f"harvest_months must be months 1..12 (got {bad})")
        return self


class Farm(Section):
    # Output shares and seasons are assumptions shaped like a mixed central-China county.
    grain: FarmKind = Field(default_factory=lambda: FarmKind(share=0.35, harvest_months=[6, 9, 10], perishable=False))
    cash_crops: FarmKind = Field(
        default_factory=lambda: FarmKind(share=0.2, harvest_months=[8, 9, 10, 11], perishable=False)
    )
    fruit_veg: FarmKind = Field(
        default_factory=lambda: FarmKind(share=0.25, harvest_months=[5, 6, 7, 8, 9, 10], perishable=True)
    )
    livestock: FarmKind = Field(
        default_factory=lambda: FarmKind(share=0.2, harvest_months=list(range(1, 13)), perishable=True)
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
    def _shares(self) -> Farm:
        total = sum(getattr(self, k).share for k in FARM_KINDS)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"farm output shares ({', '.join(f'farm.{k}.share' for k in FARM_KINDS)}) must add up to 1 (they add up to {total:.6g})"
            )
        return self


class Anchors(Section):
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


class Adoption(Section):
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


class Durables(Section):
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


class Ecommerce(Section):
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


class DurablePolicy(Section):
    """The charging build-out (vouchers are the durable_vouchers programme: ``policy.voucher_rate``,
    ``policy.voucher_cap`` and its window ``policy.windows.durable_vouchers``)."""

    charging_target_share: float = P(
        0.8,
        "share",
        "Share of townships the charging build-out equips with public charging (a township keeps it once built).",
        ge=0.0,
        le=1.0,
    )
    charging_date: dt.date | None = P(
        dt.date(2024, 9, 1), "date", "When the charging build-out is done (null: no build-out)."
    )
    charging_cost_per_township: float = P(
        150_000.0,
        "yuan",
        "Cost of public charging in one township, paid from the charging programme (assumption).",
        ge=0.0,
        le=1e9,
    )


WindowEdge = dt.date | PhaseName | None


class Window(Section):
    """When a programme pays: from ``start`` to ``end`` (both inclusive; a phase name means
    the phase's first or last day; null means open)."""

    start: WindowEdge = P(
        None,
        "date or phase",
        "First day the programme pays (a date, or launch / rollout / evaluation for the phase's first day; "
        "null: from the start of the run).",
    )
    end: WindowEdge = P(
        None,
        "date or phase",
        "Last day the programme pays (a date, or a phase name for the phase's last day; null: to the end of the run).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        start, end = window_start(self.start), window_end(self.end)
        if start is not None and end is not None and end < start:
            raise ValueError(f"the programme ends ({end}) before it starts ({start})")
        return self


class Windows(Section):
    """Each programme's window; every programme pays throughout the run by default."""

    store_upgrade: Window = Field(default_factory=Window)
    township_center: Window = Field(default_factory=Window)
    logistics_center: Window = Field(default_factory=Window)
    codistribution: Window = Field(default_factory=Window)
    nev_van: Window = Field(default_factory=Window)
    cold_storage: Window = Field(default_factory=Window)
    county_center: Window = Field(default_factory=Window)
    township_station: Window = Field(default_factory=Window)
    chain_supply: Window = Field(default_factory=Window)
    sme_digital: Window = Field(default_factory=Window)
    ecommerce_training: Window = Field(default_factory=Window)
    durable_vouchers: Window = Field(
        default_factory=lambda: Window(start=dt.date(2024, 6, 1), end=dt.date(2024, 12, 31)),
        description="Vouchers run from June to December 2024 by default (the 2024 trade-in campaign, 以旧换新).",
    )
    livestream_base: Window = Field(default_factory=Window)
    brand_building: Window = Field(default_factory=Window)
    charging: Window = Field(default_factory=Window)


ProgrammeName = Literal[
    "store_upgrade",
    "township_center",
    "logistics_center",
    "codistribution",
    "nev_van",
    "cold_storage",
    "county_center",
    "township_station",
    "chain_supply",
    "sme_digital",
    "ecommerce_training",
    "durable_vouchers",
    "livestream_base",
    "brand_building",
    "charging",
]


class PolicyEvent(Section):
    """A one-off policy event on a date (run by Mesa's event list)."""

    date: dt.date = P(
        dt.date(2025, 6, 1),
        "date",
        "When it happens (just before the first week starting on or after it); default mid-2025, in the plan's "
        "evaluation phase.",
    )
    kind: Literal["grant", "audit"] = P(
        "audit",
        "choice",
        "grant: extra funds arrive (e.g. a province rewards a county that does well, plan section 5(2)); "
        "audit: a spot check (抽查) that certainly takes place, as in the evaluation phase.",
    )
    amount: float | None = P(
        None, "yuan", "The grant's amount (grants only); it counts as central funds.", gt=0.0, le=1e10
    )
    programme: ProgrammeName | None = P(
        None, "programme", "The pot a grant goes to (null: shared out by the allocation rule)."
    )
    note: str = P("", "text", "Free text saying what the event stands for.")

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> PolicyEvent:
        if self.kind == "grant" and self.amount is None:
            raise ValueError("a grant needs an amount (yuan)")
        if self.kind == "audit" and (self.amount is not None or self.programme is not None):
            raise ValueError("an audit takes no amount or programme")
        return self


class Policy(Section):
    enabled: bool = P(
        True,
        "switch",
        "false switches every programme off: no funds arrive, nothing is subsidised and the programme builds nothing "
        "(the no-plan world; firms still act on their own).",
    )
    store_upgrade_subsidy: float = P(
        0.3,
        "share",
        "Share of a village store's upgrade cost paid by the store_upgrade programme.",
        ge=0.0,
        le=1.0,
    )
    township_center_subsidy: float = P(
        0.3,
        "share",
        "Share of a township commerce centre's cost paid by the township_center programme.",
        ge=0.0,
        le=1.0,
    )
    county_center_date: dt.date | None = P(
        dt.date(2024, 3, 1),
        "date",
        "When the county_center programme upgrades the county commerce service centre to "
        "policy.county_center_target_m2, if it is smaller (null: no upgrade).",
    )
    county_center_target_m2: float = P(
        8000.0,
        "m²",
        "Floor area of the county commerce service centre after the upgrade (default: Shanxi's enhanced-tier "
        "threshold, 8,000 m²).",
        ge=0.0,
        le=1_000_000,
    )
    county_center_subsidy: float = P(
        0.3,
        "share",
        "Share of the county commerce centre upgrade's cost paid by the programme (the operator pays the rest).",
        ge=0.0,
        le=1.0,
    )
    township_station_subsidy: float = P(
        0.5,
        "share",
        "Share of a township station's standardisation cost paid by the township_station programme; each month "
        "the programme funds the stations it can pay for (the post and express firms pay the rest).",
        ge=0.0,
        le=1.0,
    )
    chain_supply_subsidy: float = P(
        0.0,
        "share",
        "Share of a chain-supplied village store's weekly chain fee paid by the chain_supply programme.",
        ge=0.0,
        le=1.0,
    )
    sme_digital_subsidy: float = P(
        0.0,
        "share",
        "Share of a village store's digital tools cost (stores.digital_cost) paid by the sme_digital programme.",
        ge=0.0,
        le=1.0,
    )
    training_capacity: float = P(
        50.0,
        "households/month",
        "E-commerce training places a month (村播学院); spent by the e-commerce anchors (assumption).",
        ge=0.0,
        le=100_000,
    )
    training_cost_per_trainee: float = P(
        800.0,
        "yuan/household",
        "Programme cost of training one household in online selling (assumption).",
        ge=0.0,
        le=100_000,
    )
    voucher_rate: float = P(
        0.15,
        "share",
        "Share of a durable good's price (new-energy vehicle, green appliance) paid by a voucher (assumption, "
        "the size of common trade-in subsidies).",
        ge=0.0,
        le=1.0,
    )
    voucher_cap: float = P(
        2000.0, "yuan/purchase", "Largest voucher for one durable purchase (assumption).", ge=0.0, le=1e6
    )
    voucher_envelope: float = P(
        300_000.0,
        "yuan/year",
        "Vouchers the county plans to pay in a year: the voucher programme's demand under the by_demand rule "
        "(assumption).",
        ge=0.0,
        le=1e10,
    )
    annual_budget: float = P(
        5_000_000.0,
        "yuan/year",
        "Central funds for the county's commerce programmes each year (assumption; county allocations are a few million yuan).",
        ge=0.0,
        le=1e10,
    )
    local_cofunding_rate: float = P(0.3, "share", "Local match, as a share of central funds.", ge=0.0, le=5.0)
    allocation: Literal["weights", "shares", "by_demand", "remote_first"] = P(
        "weights",
        "choice",
        "How each year's funds are split between programme pots: weights (policy.budget_weights normalised), "
        "shares (policy.budget_weights as given, adding up to 1), by_demand (in proportion to each programme's "
        "fundable demand at the time, the county's survey of gaps), remote_first (as by_demand, and "
        "policy.remote_fund_share of place-based pots is held for remote places).",
    )
    budget_weights: BudgetWeights = Field(default_factory=BudgetWeights)
    remote_place_share: float = P(
        0.3,
        "share",
        "Share of villages (and of townships) counted as remote: the farthest by travel time to the county town "
        "(assumption).",
        ge=0.0,
        le=1.0,
    )
    remote_fund_share: float = P(
        0.5,
        "share",
        "Under remote_first: share of each new allocation to a place-based programme that only remote places may "
        "draw (the rest is open to all) (assumption).",
        ge=0.0,
        le=1.0,
    )
    unspent_rolls_over: bool = P(
        True, "switch", "Whether unspent funds carry into the next year (else they lapse at the year's end)."
    )
    leakage_share: float = P(
        0.0,
        "share",
        "Share of funds paid out that does not reach its purpose (inflated or fictitious claims); each yuan that "
        "reaches a project then costs 1 / (1 - share) yuan (assumption; 0: none).",
        ge=0.0,
        le=0.9,
    )
    audit_intensity: float = P(
        0.25,
        "share/quarter",
        "Chance that an audit examines the county in a quarter (plan section 4(2): third-party audits; quarterly "
        "fund-use lists, section 5(4)); an audit finds all leaked funds not yet recovered, claws them back and "
        "flags the county (assumption).",
        ge=0.0,
        le=1.0,
    )
    flag_threshold: float = P(
        0.0,
        "share",
        "Leaked funds an audit must find, as a share of the funds paid out since the previous audit, for the county "
        "to be flagged: a 'major problem' (重大问题, plan section 5(2)); smaller findings are clawed back without a "
        "flag (assumption; 0: any finding flags).",
        ge=0.0,
        le=1.0,
    )
    flag_months: int = P(
        12,
        "months",
        "How long an audit finding keeps the county flagged (通报): a flagged county is not recommended as a "
        "leading county and loses that status at the next review (assumption).",
        ge=0,
        le=120,
    )
    flag_funding_cut: float = P(
        0.0,
        "share",
        "Share of a year's central funds withheld when the year starts while the county is flagged (plan section "
        "5(2): 收回资金; assumption, 0: none).",
        ge=0.0,
        le=1.0,
    )
    leading_county_bonus: float = P(
        0.0,
        "share",
        "Extra central funds, as a share of annual_budget, in a year that starts while the county is a leading "
        "county (plan section 5(2): 加大支持力度; assumption, 0: none).",
        ge=0.0,
        le=5.0,
    )
    windows: Windows = Field(default_factory=Windows)
    events: list[PolicyEvent] = Field(
        default_factory=list,
        description="One-off grants and audits on dates.",
        json_schema_extra={"unit": "list", "default": []},
    )
    codistribution: Codistribution = Field(default_factory=Codistribution)
    logistics_center_date: dt.date | None = P(
        dt.date(2024, 3, 1),
        "date",
        "When the programme builds the county logistics centre if the county has none (null: not built).",
    )
    logistics_center_subsidy: float = P(
        0.5,
        "share",
        "Share of the logistics centre's cost paid by the programme (the rest by the operator).",
        ge=0.0,
        le=1.0,
    )
    automatic_sorting: bool = P(
        True, "switch", "Whether the logistics centre gets an automatic sorting line (paid like the centre)."
    )
    nev_van_subsidy: float = P(
        0.2, "share", "Share of a new-energy van's price premium paid by the programme.", ge=0.0, le=1.0
    )
    cold_storage_date: dt.date | None = P(
        dt.date(2024, 6, 1),
        "date",
        "When the programme builds county cold storage if the county has none (null: not built).",
    )
    cold_storage_subsidy: float = P(0.5, "share", "Share of cold storage's cost paid by the programme.", ge=0.0, le=1.0)
    ecommerce: Ecommerce = Field(default_factory=Ecommerce)
    durables: DurablePolicy = Field(default_factory=DurablePolicy)
    parcel_point_fee: float = P(
        0.3,
        "yuan/parcel",
        "Fee a carrier pays a village store acting as parcel service point per parcel it takes (assumption).",
        ge=0.0,
        le=20.0,
    )

    @model_validator(mode="after")
    def _shares_add_up(self) -> Policy:
        if self.allocation == "shares":
            total = sum(self.budget_weights.model_dump().values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(
                    f"policy.budget_weights must add up to 1 when policy.allocation is 'shares' (they add up to "
                    f"{total:.6g}); use allocation: weights to have them normalised"
                )
        return self


class Evaluation(Section):
    criteria: Path | None = P(
        None,
        "path",
        "Tier criteria file (YAML), relative to the scenario file; null: configs/criteria/national.yaml.",
    )


class Outputs(Section):
    @field_validator("progress", mode="before")
    @classmethod
    def _yaml_booleans(cls, v: Any) -> Any:
        # YAML 1.1 reads an unquoted off/on as a boolean
        return {False: "off", True: "on"}.get(v, v) if isinstance(v, bool) else v

    figures: bool = P(True, "switch", "Write figures (county map, indicator series) with the run.")
    progress: Literal["auto", "on", "off"] = P(
        "auto", "choice", "Progress bar: auto shows it on a terminal for runs longer than a couple of seconds."
    )


class Scenario(Section):
    """One county and one policy mix: the complete input of a run."""

    name: str = P("county", "text", "A short name for the scenario, used in outputs.", min_length=1, max_length=200)
    description: str = P("", "text", "Free text describing the scenario.")
    seed: int = P(
        42,
        "seed",
        "Seed of the run's random numbers; same seed and scenario give the same numbers.",
        ge=0,
        le=2**63 - 1,
    )
    timeline: Timeline = Field(default_factory=Timeline)
    map: MapConfig = Field(default_factory=MapConfig)
    population: Population = Field(default_factory=Population)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    stores: Stores = Field(default_factory=Stores)
    retailers: Retailers = Field(default_factory=Retailers)
    carriers: Carriers = Field(default_factory=Carriers)
    logistics: Logistics = Field(default_factory=Logistics)
    instant_retail: InstantRetail = Field(default_factory=InstantRetail)
    farm: Farm = Field(default_factory=Farm)
    anchors: Anchors = Field(default_factory=Anchors)
    adoption: Adoption = Field(default_factory=Adoption)
    durables: Durables = Field(default_factory=Durables)
    policy: Policy = Field(default_factory=Policy)
    evaluation: Evaluation = Field(default_factory=Evaluation)
    outputs: Outputs = Field(default_factory=Outputs)

    #: Directory of the scenario file, for resolving relative map paths (not part of the schema).
    _base_dir: Path | None = None
    #: The file the scenario was read from, for error messages (not part of the schema).
    _source: str | None = None

    @model_validator(mode="after")
    def _members_are_carriers(self) -> Scenario:
        members = self.policy.codistribution.members
        if members:
            names = {c.name for c in self.carriers.fleet}
            bad = [m for m in members if m not in names]
            if bad:
                raise ValueError(
                    f"policy.codistribution.members names {', '.join(bad)}, which is not a carrier "
                    f"(carriers.fleet has: {', '.join(sorted(names))})"
                )
        return self

    @model_validator(mode="after")
    def _events_in_timeline(self) -> Scenario:
        # an event after the timeline's end simply does not happen (like a facility date);
        # one before its start could never happen and is most likely a typo
        start = self.timeline.start
        for k, ev in enumerate(self.policy.events):
            if ev.date < start:
                raise ValueError(f"policy.events[{k}].date {ev.date} is before the timeline starts ({start})")
        return self

    def resolve_path(self, p: Path) -> Path:
        """A path from the scenario, made absolute relative to the scenario file's folder."""
        if p.is_absolute() or self._base_dir is None:
            return p
        return self._base_dir / p

    def canonical(self) -> dict[str, Any]:
        """The scenario as plain JSON-compatible data, every default filled in."""
        return json.loads(self.model_dump_json())

    def digest(self) -> str:
        """A hash of the resolved scenario: equal digests mean equal inputs."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------
# loading, overrides, errors


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("function-after",)) or "(top level)"


def _error_message(err: ValidationError, source: str) -> InputError:
    """Turn pydantic's errors into one readable paragraph naming every bad field."""
    parts = []
    first_loc = None
    for e in err.errors():
        loc = _fmt_loc(tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function"))))
        first_loc = first_loc or loc
        kind = e["type"]
        msg = e["msg"]
        if kind == "extra_forbidden":
            parent = loc.rsplit(".", 1)[0] if "." in loc else None
            allowed = _allowed_keys(parent)
            msg = f"unknown key; allowed keys here: {', '.join(allowed)}"
        elif kind == "literal_error":
            msg = msg.replace("Input should be", "must be one of")
        elif kind == "value_error":
            msg = msg.removeprefix("Value error, ")
        got = e.get("input")
        got_text = "" if kind == "extra_forbidden" or isinstance(got, dict) else f" (got {got!r})"
        parts.append(f"{loc}: {msg}{got_text}")
    return InputError("; ".join(parts), source=source)


def _allowed_keys(section_path: str | None) -> list[str]:
    model: type[BaseModel] = Scenario
    if section_path:
        for name in section_path.split("."):
            field = model.model_fields.get(name)
            ann = getattr(field, "annotation", None) if field else None
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                model = ann
            else:
                return []
    return sorted(model.model_fields)


def _parse_value(text: str) -> Any:
    """Parse a --set value the way YAML would (numbers, booleans, lists, null)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(data: dict[str, Any], overrides: list[str] | dict[str, Any] | None) -> dict[str, Any]:
    """Apply dotted-path overrides (``policy.store_upgrade_subsidy=0.5``) to raw scenario data.

    Unknown paths are not rejected here: validation afterwards names them with the
    allowed keys, exactly as for a bad key in the file.
    """
    if not overrides:
        return data
    items = overrides.items() if isinstance(overrides, dict) else (_split_override(o) for o in overrides)
    for path, value in items:
        keys = path.split(".")
        node = data
        for k in keys[:-1]:
            nxt = node.get(k)
            if nxt is None:
                nxt = node[k] = {}
            elif not isinstance(nxt, dict):
                raise InputError(
                    f"cannot set '{path}': '{k}' is a value, not a section", source="command line", location=path
                )
            node = nxt
        node[keys[-1]] = value
    return data


def _split_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise InputError(f"override '{text}' must look like section.field=value", source="command line")
    path, value = text.split("=", 1)
    path = path.strip()
    if not path or any(not part for part in path.split(".")):
        raise InputError(f"override '{text}' has an empty field name", source="command line")
    return path, _parse_value(value)


def _check_finite(data: Any, path: str, source: str) -> None:
    if isinstance(data, float) and not math.isfinite(data):
        raise InputError(f"must be a finite number (got {data})", source=source, location=path)
    if isinstance(data, dict):
        for k, v in data.items():
            _check_finite(v, f"{path}.{k}" if path else str(k), source)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _check_finite(v, f"{path}[{i}]", source)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with the safe loader, turning every failure into an InputError."""
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", source=p)
    if p.is_dir():
        raise InputError("is a directory; a YAML file is expected", source=p)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"is not UTF-8 text (byte {exc.start})", source=p) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", source=p) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"is not valid YAML: {problem}", source=p, location=where) from None
    if data is None:
        raise InputError("is empty; a scenario needs at least a name (all other fields have defaults)", source=p)
    if not isinstance(data, dict):
        raise InputError(
            f"must be a mapping of section: values at the top level, not a {type(data).__name__}", source=p
        )
    return data


def scenario_from_dict(data: dict[str, Any], source: str = "scenario", base_dir: Path | None = None) -> Scenario:
    """Validate raw data into a Scenario, or raise an InputError naming every bad field."""
    _check_finite(data, "", source)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as err:
        raise _error_message(err, source) from None
    sc._base_dir = base_dir
    sc._source = source
    from sim.policy.evaluation import criteria_for  # the criteria file is part of the input: check it now

    criteria_for(sc)
    return sc


def load_scenario(path: str | Path, overrides: list[str] | dict[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario YAML, applying ``--set`` style overrides.

    Args:
        path: The scenario file.
        overrides: ``["policy.store_upgrade_subsidy=0.5", ...]`` or a dict of dotted paths.

    Returns:
        The validated scenario, with relative map paths resolved against the file's folder.

    Raises:
        InputError: The file or an override is malformed; the message names the field.
    """
    p = Path(path)
    data = apply_overrides(read_yaml(p), overrides)
    return scenario_from_dict(data, source=str(p), base_dir=p.resolve().parent)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, for editors' autocompletion."""
    schema = Scenario.model_json_schema()
    schema["title"] = "countysim scenario"
    return schema
