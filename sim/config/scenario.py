"""The scenario: one county and one policy mix, the complete input of a run.

The sections are defined in their own modules; this one puts them together and checks
what only the whole can check (co-distribution members are carriers, events fall in the
timeline). Its digest names the inputs of a run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from sim.config.anchors import AdoptionConfig, AnchorsConfig, DurablesConfig
from sim.config.behaviour import BehaviourConfig
from sim.config.farm import FarmConfig
from sim.config.fields import P, Section
from sim.config.logistics import CarriersConfig, InstantRetailConfig, LogisticsConfig
from sim.config.policy import EvaluationConfig, OutputsConfig, PolicyConfig
from sim.config.stores import RetailersConfig, StoresConfig
from sim.config.world import MapConfig, PopulationConfig, TimelineConfig


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
    timeline: TimelineConfig = Field(default_factory=TimelineConfig)
    map: MapConfig = Field(default_factory=MapConfig)
    population: PopulationConfig = Field(default_factory=PopulationConfig)
    behaviour: BehaviourConfig = Field(default_factory=BehaviourConfig)
    stores: StoresConfig = Field(default_factory=StoresConfig)
    retailers: RetailersConfig = Field(default_factory=RetailersConfig)
    carriers: CarriersConfig = Field(default_factory=CarriersConfig)
    logistics: LogisticsConfig = Field(default_factory=LogisticsConfig)
    instant_retail: InstantRetailConfig = Field(default_factory=InstantRetailConfig)
    farm: FarmConfig = Field(default_factory=FarmConfig)
    anchors: AnchorsConfig = Field(default_factory=AnchorsConfig)
    adoption: AdoptionConfig = Field(default_factory=AdoptionConfig)
    durables: DurablesConfig = Field(default_factory=DurablesConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    outputs: OutputsConfig = Field(default_factory=OutputsConfig)

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
