"""How households spend: budgets, travel costs and the channel-choice constants.

One section, because the shopping choice (:mod:`sim.markets.channels`) reads all of it
together: what a week's budget is, what a trip costs, and how each channel is valued.
"""

from __future__ import annotations

from sim.config.fields import P, Section


class BehaviourConfig(Section):
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
