"""The scenario schema: everything that describes one county run.

A scenario is a YAML file validated by these pydantic models before anything runs.
Every field carries a unit, a default, a valid range and a one-line meaning (in the
JSON Schema that ``countysim schema`` prints), so that a researcher can sweep any of
them by dotted path and an editor can autocomplete them. Values taken from a public
source cite it in the field's description; values that are modelling assumptions say
"assumption".

The schema is the bottom layer of the model: it imports no runtime code (only
:mod:`sim.errors` and the static :mod:`sim.policy.catalogue`), so anything may read it.
Every section is named ``...Config``; the runtime object that uses it is not. One module
per group of sections:

``fields`` (the field helper ``P`` and the ``Section`` base), ``world`` (timeline, map,
population), ``behaviour`` (household spending and channel choice), ``stores`` (village
stores, chain retailers), ``logistics`` (carriers, facilities, instant retail), ``farm``
(farm output and its sales), ``anchors`` (anchors, adoption, durables, e-commerce
support), ``policy`` (programmes, money, windows, events; evaluation and outputs),
``scenario`` (the whole), ``criteria`` (the tier criteria file a scenario names),
``raw`` (YAML files and ``--set`` overrides) and ``loading`` (validation with readable
errors, the JSON Schema).
"""

from sim.config.anchors import AdoptionConfig, AnchorsConfig, DurablesConfig, EcommerceConfig
from sim.config.behaviour import BehaviourConfig
from sim.config.criteria import (
    DEFAULT_CRITERIA,
    Criteria,
    Criterion,
    Leading,
    LoadedCriteria,
    PlanTarget,
    PlanTargets,
    Provenance,
    Review,
    Tiers,
    criteria_for,
    declare_indicators,
    load_criteria,
)
from sim.config.farm import FARM_KINDS, FarmConfig, FarmKindConfig
from sim.config.fields import P, Section
from sim.config.loading import json_schema, load_scenario, scenario_from_dict
from sim.config.logistics import CarrierConfig, CarrierKind, CarriersConfig, InstantRetailConfig, LogisticsConfig
from sim.config.policy import (
    BudgetWeightsConfig,
    CodistributionConfig,
    DurablePolicyConfig,
    EvaluationConfig,
    OutputsConfig,
    PolicyConfig,
    PolicyEventConfig,
    ProgrammeName,
    WindowConfig,
    WindowEdge,
    WindowsConfig,
)
from sim.config.raw import apply_overrides, read_yaml
from sim.config.scenario import Scenario
from sim.config.stores import RetailersConfig, StoresConfig
from sim.config.world import SPRING_FESTIVAL, MapConfig, PopulationConfig, Region, Size, TimelineConfig

__all__ = [
    "DEFAULT_CRITERIA",
    "FARM_KINDS",
    "SPRING_FESTIVAL",
    "AdoptionConfig",
    "AnchorsConfig",
    "BehaviourConfig",
    "BudgetWeightsConfig",
    "CarrierConfig",
    "CarrierKind",
    "CarriersConfig",
    "CodistributionConfig",
    "Criteria",
    "Criterion",
    "DurablePolicyConfig",
    "DurablesConfig",
    "EcommerceConfig",
    "EvaluationConfig",
    "FarmConfig",
    "FarmKindConfig",
    "InstantRetailConfig",
    "Leading",
    "LoadedCriteria",
    "LogisticsConfig",
    "MapConfig",
    "OutputsConfig",
    "P",
    "PlanTarget",
    "PlanTargets",
    "PolicyConfig",
    "PolicyEventConfig",
    "PopulationConfig",
    "ProgrammeName",
    "Provenance",
    "Region",
    "RetailersConfig",
    "Review",
    "Scenario",
    "Section",
    "Size",
    "StoresConfig",
    "Tiers",
    "TimelineConfig",
    "WindowConfig",
    "WindowEdge",
    "WindowsConfig",
    "apply_overrides",
    "criteria_for",
    "declare_indicators",
    "json_schema",
    "load_criteria",
    "load_scenario",
    "read_yaml",
    "scenario_from_dict",
]
