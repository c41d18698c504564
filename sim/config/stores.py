"""Who sells everyday goods: village stores, and the chain retailers with their centres.

Village stores open, upgrade, join chains and close on their own profit; chains build
township commerce centres. Their costs, margins and decision rules are set here.
"""

from __future__ import annotations

from sim.config.fields import P, Section


class StoresConfig(Section):
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


class RetailersConfig(Section):
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
