"""The plan's levers: programmes, money, windows and dated events; the evaluation and
output settings.

Programme names, phases and windows come from the static catalogue
(:mod:`sim.policy.catalogue`), so the schema and the runtime share one list without the
schema importing any runtime code.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sim.config.anchors import EcommerceConfig
from sim.config.fields import P, Section
from sim.policy.catalogue import PhaseName, window_end, window_start


class CodistributionConfig(Section):
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


class BudgetWeightsConfig(Section):
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
    def _some_weight(self) -> BudgetWeightsConfig:
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("policy.budget_weights must have at least one positive weight")
        return self

    def shares(self) -> dict[str, float]:
        """The weights as budget shares adding up to one."""
        w = self.model_dump()
        total = sum(w.values())
        return {k: v / total for k, v in w.items()}


class DurablePolicyConfig(Section):
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


class WindowConfig(Section):
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
    def _ordered(self) -> WindowConfig:
        start, end = window_start(self.start), window_end(self.end)
        if start is not None and end is not None and end < start:
            raise ValueError(f"the programme ends ({end}) before it starts ({start})")
        return self


class WindowsConfig(Section):
    """Each programme's window; every programme pays throughout the run by default."""

    store_upgrade: WindowConfig = Field(default_factory=WindowConfig)
    township_center: WindowConfig = Field(default_factory=WindowConfig)
    logistics_center: WindowConfig = Field(default_factory=WindowConfig)
    codistribution: WindowConfig = Field(default_factory=WindowConfig)
    nev_van: WindowConfig = Field(default_factory=WindowConfig)
    cold_storage: WindowConfig = Field(default_factory=WindowConfig)
    county_center: WindowConfig = Field(default_factory=WindowConfig)
    township_station: WindowConfig = Field(default_factory=WindowConfig)
    chain_supply: WindowConfig = Field(default_factory=WindowConfig)
    sme_digital: WindowConfig = Field(default_factory=WindowConfig)
    ecommerce_training: WindowConfig = Field(default_factory=WindowConfig)
    durable_vouchers: WindowConfig = Field(
        default_factory=lambda: WindowConfig(start=dt.date(2024, 6, 1), end=dt.date(2024, 12, 31)),
        description="Vouchers run from June to December 2024 by default (the 2024 trade-in campaign, 以旧换新).",
    )
    livestream_base: WindowConfig = Field(default_factory=WindowConfig)
    brand_building: WindowConfig = Field(default_factory=WindowConfig)
    charging: WindowConfig = Field(default_factory=WindowConfig)


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


class PolicyEventConfig(Section):
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
    def _fields_fit_kind(self) -> PolicyEventConfig:
        if self.kind == "grant" and self.amount is None:
            raise ValueError("a grant needs an amount (yuan)")
        if self.kind == "audit" and (self.amount is not None or self.programme is not None):
            raise ValueError("an audit takes no amount or programme")
        return self


class PolicyConfig(Section):
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
    budget_weights: BudgetWeightsConfig = Field(default_factory=BudgetWeightsConfig)
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
    windows: WindowsConfig = Field(default_factory=WindowsConfig)
    events: list[PolicyEventConfig] = Field(
        default_factory=list,
        description="One-off grants and audits on dates.",
        json_schema_extra={"unit": "list", "default": []},
    )
    codistribution: CodistributionConfig = Field(default_factory=CodistributionConfig)
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
    ecommerce: EcommerceConfig = Field(default_factory=EcommerceConfig)
    durables: DurablePolicyConfig = Field(default_factory=DurablePolicyConfig)
    parcel_point_fee: float = P(
        0.3,
        "yuan/parcel",
        "Fee a carrier pays a village store acting as parcel service point per parcel it takes (assumption).",
        ge=0.0,
        le=20.0,
    )

    @model_validator(mode="after")
    def _shares_add_up(self) -> PolicyConfig:
        if self.allocation == "shares":
            total = sum(self.budget_weights.model_dump().values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(
                    f"policy.budget_weights must add up to 1 when policy.allocation is 'shares' (they add up to "
                    f"{total:.6g}); use allocation: weights to have them normalised"
                )
        return self


class EvaluationConfig(Section):
    criteria: Path | None = P(
        None,
        "path",
        "Tier criteria file (YAML), relative to the scenario file; null: configs/criteria/national.yaml.",
    )


class OutputsConfig(Section):
    @field_validator("progress", mode="before")
    @classmethod
    def _yaml_booleans(cls, v: Any) -> Any:
        # YAML 1.1 reads an unquoted off/on as a boolean
        return {False: "off", True: "on"}.get(v, v) if isinstance(v, bool) else v

    figures: bool = P(True, "switch", "Write figures (county map, indicator series) with the run.")
    progress: Literal["auto", "on", "off"] = P(
        "auto", "choice", "Progress bar: auto shows it on a terminal for runs longer than a couple of seconds."
    )
