"""The ``ensemble`` section of an experiment spec: county types weighted to the nation.

The plan's targets are national (about 500 leading counties, 90% of counties at basic
tier or better by 2025), so one simulated county cannot answer them. This module turns a
county typology (``configs/data/county_typology.csv``: region × size strata, each with
its number of real county units) into base scenarios for the experiment runner, one per
simulated county unit; :mod:`experiments.national.ensemble` turns the runs table back
into national indicators with uncertainty bands.

Two ways to cover the nation (``ensemble.sample``):

- ``full``: one simulated county per real county unit (1,871 runs per replicate); each
  gets its own generated map (``map.map_seed``) and its own draw of the sampled starting
  attributes. Weight 1 each.
- ``stratified``: ``per_stratum`` counties drawn from each stratum, each standing for
  ``county_units / per_stratum`` real units. National estimates carry the stratified
  sampling error, which :func:`experiments.national.ensemble.national_indicators` reports.

How much detail each county gets (``ensemble.fidelity``): ``full`` runs them as the
scenario says; ``screening`` runs every county at a coarser household weight and carriers'
re-plan interval (:data:`FIDELITY`), the coarsest that kept every national indicator
within its Monte-Carlo error of full detail, for national runs whose time is in the
per-store, per-village and per-carrier work rather than in the households.

The ensemble enters the experiment spec as ``ensemble:`` in place of ``base:``; it is
expanded (:func:`expand_ensemble`) to an ordinary list of labelled base scenarios and
yearly national metrics before the spec is validated, so the runner, its seeds,
``--resume``, Dask and the store treat it like any other experiment. Sampled attributes
and map seeds come from ``ensemble.seed`` alone, so the same ensemble gives the same
counties on every machine.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.config import Region, Size
from sim.errors import InputError

#: Non-district county-level units of mainland China, 2022 (MCA: 2,844 county-level
#: units minus 973 city districts; configs/data/official/official_statistics.csv).
NATIONAL_COUNTY_UNITS = 1871

#: What each ``ensemble.fidelity`` mode sets for every county (scenario path → value).
#: ``full``: nothing; the counties run as the scenario and ``overrides`` say (one agent per
#: household unless overridden). ``screening``: the coarsest household weight and carriers'
#: re-plan interval that kept every national indicator of the stratified ensemble within
#: 2 Monte-Carlo standard errors of full detail over the plan horizon (measured by
#: ``benchmarks/ensemble_fidelity.py``; table and rule in docs/PERFORMANCE.md "Ensemble mode").
FIDELITY: dict[str, dict[str, Any]] = {
    "full": {},
    "screening": {"population.households_per_agent": 10, "carriers.replan_every_weeks": 4},
}
Fidelity = Literal["full", "screening"]

_COLUMNS = ("stratum", "region", "map_region", "size", "county_units", "logistics_center_share")
_REGIONS: tuple[str, ...] = get_args(Region)
_SIZES: tuple[str, ...] = get_args(Size)


@dataclass(frozen=True)
class Stratum:
    """One county type of the typology.

    Attributes:
        name: Stratum id (e.g. ``west_median``).
        region: NBS region (east, central, west, northeast).
        map_region: The map generator's region preset standing for the region's terrain.
        size: The map generator's size preset.
        county_units: Real county units of this type [count].
        logistics_center_share: Share of them with a county logistics centre at the start [0-1].
    """

    name: str
    region: str
    map_region: str
    size: str
    county_units: int
    logistics_center_share: float


def load_typology(path: str | Path, national_count: int | None = NATIONAL_COUNTY_UNITS) -> list[Stratum]:
    """Read and check a typology CSV (``#`` lines are comments).

    Args:
        path: The CSV file.
        national_count: The total the ``county_units`` must sum to (None: any total, for
            small test typologies).

    Raises:
        InputError: Missing file or column, a bad value (naming the row and column), or
            weights that do not sum to ``national_count``.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", source=p)
    try:
        df = pd.read_csv(p, comment="#", skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(f"not a readable CSV ({err})", source=p) from None
    missing = [c for c in _COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; expected {', '.join(_COLUMNS)}", source=p)
    out: list[Stratum] = []
    for i, row in df.iterrows():
        where = f"row {int(i) + 1}"
        if row["map_region"] not in _REGIONS:
            raise InputError(
                f"{where}, map_region: must be one of {', '.join(_REGIONS)} (got {row['map_region']!r})", source=p
            )
        if row["size"] not in _SIZES:
            raise InputError(f"{where}, size: must be one of {', '.join(_SIZES)} (got {row['size']!r})", source=p)
        units = pd.to_numeric(row["county_units"], errors="coerce")
        if not (np.isfinite(units) and units == int(units) and units >= 1):
            raise InputError(
                f"{where}, county_units: must be a whole number >= 1 (got {row['county_units']!r})", source=p
            )
        share = pd.to_numeric(row["logistics_center_share"], errors="coerce")
        if not (np.isfinite(share) and 0.0 <= share <= 1.0):
            raise InputError(
                f"{where}, logistics_center_share: must be a share in [0, 1] (got {row['logistics_center_share']!r})",
                source=p,
            )
        out.append(
            Stratum(
                str(row["stratum"]),
                str(row["region"]),
                str(row["map_region"]),
                str(row["size"]),
                int(units),
                float(share),
            )
        )
    names = [s.name for s in out]
    if len(set(names)) != len(names) or not out:
        raise InputError("stratum: ids must be unique and at least one row is needed", source=p)
    total = sum(s.county_units for s in out)
    if national_count is not None and total != national_count:
        raise InputError(f"county_units: sum to {total}, not the national count {national_count}", source=p)
    return out


class Attribute(BaseModel):
    """How one starting attribute of a county follows its development level ``d`` in [0, 1).

    Either a range — the value is ``low + (high - low) * d`` (a number field) — or a step —
    the field is set to ``value`` when ``d > above`` and left as the scenario (or the
    stratum) has it otherwise (a switch or a date).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: float | None = None
    high: float | None = None
    above: float | None = Field(None, ge=0.0, le=1.0)
    value: bool | float | str | dt.date | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Attribute:
        ranged = self.low is not None and self.high is not None and self.above is None and self.value is None
        stepped = self.above is not None and self.value is not None and self.low is None and self.high is None
        if not (ranged or stepped):
            raise ValueError("give either low and high (a range) or above and value (a step)")
        return self

    def at(self, d: float) -> Any:
        """The attribute's override at development level ``d`` (None: leave as it is)."""
        if self.low is not None and self.high is not None:
            return self.low + (self.high - self.low) * d
        if d > float(self.above or 0.0):
            return self.value.isoformat() if isinstance(self.value, dt.date) else self.value
        return None


class EnsembleSpec(BaseModel):
    """The ``ensemble:`` section of an experiment spec.

    Attributes:
        typology: Typology CSV, relative to the spec file.
        scenario: Scenario every county starts from (policy, timeline, behaviour), relative to the spec file.
        overrides: Dotted-path overrides for every county.
        fidelity: ``full`` (counties as the scenario and overrides say) or ``screening``
            (every county at the household weight and re-plan interval of :data:`FIDELITY`,
            chosen so the national indicators stay within their Monte-Carlo error of full
            detail); a path the mode sets may not also be in ``overrides``.
        sample: ``full`` (every county unit) or ``stratified`` (``per_stratum`` per type).
        per_stratum: Counties simulated per stratum when stratified [count, 2-1000]; at
            least 2 so the within-stratum variance, and hence the band, can be estimated.
        national_count: Total the typology's weights must sum to (None for a test typology).
        seed: Seed of the county draws (map seeds, logistics centre at start) [0, 2**32-1].
        years: First and last calendar year to report national indicators for.
        development: Starting attributes that follow each county's commerce development
            level (scenario path → range or step; see :class:`Attribute`). Counties differ
            in how far their commerce had come before the plan (the first batch of 123
            leading counties in November 2023 met the top tier within four months of the
            plan's start); one level per county, drawn uniformly, moves all these
            attributes together (assumption: development is one dimension).
        calibrated: A file of fitted values written by ``countysim calibrate`` (relative to
            the spec file); its values are applied on top of ``overrides`` and
            ``development`` (see :func:`apply_values`), so a projection runs the calibrated model.
        official: The official statistics CSV (relative to the spec file) whose series
            (``SERIES_INDICATOR``) the projection figure draws beside the simulated ones.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    typology: Path
    scenario: Path
    overrides: dict[str, Any] = Field(default_factory=dict)
    fidelity: Fidelity = "full"
    sample: Literal["full", "stratified"] = "stratified"
    per_stratum: int = Field(3, ge=2, le=1000)
    national_count: int | None = Field(NATIONAL_COUNTY_UNITS, ge=1)
    seed: int = Field(1, ge=0, le=2**32 - 1)
    years: tuple[int, int] = (2023, 2025)
    development: dict[str, Attribute] = Field(default_factory=dict)
    calibrated: Path | None = None
    official: Path | None = None

    @model_validator(mode="after")
    def _ordered(self) -> EnsembleSpec:
        if not 2000 <= self.years[0] <= self.years[1] <= 2100:
            raise ValueError("years must be [first, last] with 2000 <= first <= last <= 2100")
        return self


@dataclass(frozen=True)
class County:
    """One simulated county: its label in the runs table, stratum, weight, overrides and
    commerce development level (0-1, see ``EnsembleSpec.development``)."""

    label: str
    stratum: str
    weight: float
    overrides: dict[str, Any]
    development: float = 0.0


def spec_path(path: str | Path, base_dir: Path | None) -> Path:
    """A path of the ensemble section: as given when absolute (or without a spec folder),
    else relative to the folder of the spec file."""
    p = Path(path)
    return p if p.is_absolute() or base_dir is None else base_dir / p


def apply_values(ensemble: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of an ``ensemble`` section with fitted or trial values set.

    A path that starts with ``ensemble/`` names a field of the ensemble section itself,
    with ``/`` between levels (e.g. ``ensemble/development/logistics.cold_storage_at_start/above``,
    since the development keys are dotted scenario paths); any other path is a scenario
    override for every county.
    """
    ens = copy.deepcopy(dict(ensemble))
    scenario: dict[str, Any] = {}
    for path, value in values.items():
        if path.startswith("ensemble/"):
            keys = path.split("/")[1:]
            here = ens
            for k in keys[:-1]:
                nxt = here.get(k)
                if not isinstance(nxt, dict):
                    raise InputError(f"{path}: the ensemble section has no {k!r} to set a value in")
                here[k] = dict(nxt)  # copy each level on the way down: the caller's dict is untouched
                here = here[k]
            here[keys[-1]] = value
        else:
            scenario[path] = value
    ens["overrides"] = {**(ens.get("overrides") or {}), **scenario}
    return ens


def resolve_calibrated(data: Any, source: str, base_dir: Path | None) -> Any:
    """The ensemble section with the values of its ``calibrated`` file applied (if it names one)."""
    if not isinstance(data, dict) or not data.get("calibrated"):
        return data
    path = spec_path(data["calibrated"], base_dir)
    if not path.is_file():
        raise InputError(f"ensemble.calibrated: file not found: {path}", source=source)
    try:
        record = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise InputError(f"ensemble.calibrated: not readable YAML ({err})", source=source) from None
    values = record.get("values") if isinstance(record, dict) else None
    if not isinstance(values, dict) or not values:
        raise InputError(f"ensemble.calibrated: {path} has no 'values' mapping of fitted values", source=source)
    try:
        return apply_values(data, values)
    except InputError as err:
        raise InputError(f"ensemble.calibrated: {err.message}", source=source) from None


def parse_ensemble(data: Any, source: str) -> EnsembleSpec:
    """Validate the ``ensemble`` mapping, naming the bad field in an InputError."""
    try:
        ens = EnsembleSpec.model_validate(data)
    except ValidationError as err:
        e = err.errors()[0]
        loc = ".".join(str(x) for x in e["loc"])
        got = f" (got {e['input']!r})" if e["type"] == "literal_error" else ""
        raise InputError(f"ensemble.{loc}: {e['msg']}{got}", source=source) from None
    both = sorted(set(FIDELITY[ens.fidelity]) & set(ens.overrides))
    if both:
        raise InputError(
            f"ensemble.overrides: {', '.join(both)} is set by ensemble.fidelity: {ens.fidelity} "
            f"({', '.join(f'{k}={FIDELITY[ens.fidelity][k]}' for k in both)}); remove it from overrides, "
            "or use fidelity: full to set it yourself",
            source=source,
        )
    return ens


def county_overrides(ens: EnsembleSpec) -> dict[str, Any]:
    """The overrides every county of the ensemble shares: its fidelity mode's settings and
    ``overrides`` (never the same path twice: :func:`parse_ensemble` refuses that)."""
    return {**FIDELITY[ens.fidelity], **ens.overrides}


def counties(ens: EnsembleSpec, base_dir: Path | None = None) -> list[County]:
    """The simulated counties of an ensemble, drawn reproducibly from ``ens.seed``.

    Each county draws its own map seed (so no two share a geography) and whether it has
    a logistics centre at the start (Bernoulli with its stratum's share), so the
    ensemble's spread covers county attributes as well as run seeds.
    """
    path = spec_path(ens.typology, base_dir)
    strata = load_typology(path, ens.national_count)
    rng = np.random.default_rng(np.random.SeedSequence(ens.seed))
    # development levels from a stream of their own, so adding them moved no other draw
    dev_rng = np.random.default_rng(np.random.SeedSequence([ens.seed, 1]))
    out: list[County] = []
    shared = county_overrides(ens)
    for s in strata:
        n = s.county_units if ens.sample == "full" else min(ens.per_stratum, s.county_units)
        seeds = rng.integers(0, 2**32 - 1, size=n)
        centre = rng.random(n) < s.logistics_center_share
        # stratified within the stratum too (one level in each 1/n of [0, 1)), so a small
        # sample spans the range of development instead of clustering by chance
        levels = (dev_rng.permutation(n) + dev_rng.random(n)) / n
        for k in range(n):
            ov = {
                **shared,
                "map.region": s.map_region,
                "map.size": s.size,
                "map.map_seed": int(seeds[k]),
                "logistics.center_at_start": bool(centre[k]),
            }
            for path, attr in ens.development.items():
                v = attr.at(float(levels[k]))
                if v is not None:
                    ov[path] = v
            out.append(County(f"{s.name}-{k:04d}", s.name, s.county_units / n, ov, float(levels[k])))
    return out


def expand_bases(data: Any, source: str, base_dir: Path | None) -> list[dict[str, Any]]:
    """The ``base`` list an ``ensemble`` section stands for (one labelled base per county)."""
    ens = parse_ensemble(data, source)
    return [
        {"scenario": str(ens.scenario), "overrides": c.overrides, "label": c.label} for c in counties(ens, base_dir)
    ]


def year_metrics(start_year: int, end_year: int) -> list[dict[str, Any]]:
    """The metrics a national ensemble needs, per calendar year (for an experiment spec).

    Tier and express coverage are read at 31 December; leading status is the maximum
    from the start to 31 December (ever recommended, i.e. cumulative after each November
    review); spending, online share and farm online sales are weekly means over the year.
    """
    out: list[dict[str, Any]] = []
    for y in range(start_year, end_year + 1):
        dec = dt.date(y, 12, 31).isoformat()
        out += [
            {"indicator": "county_tier", "stat": "at", "date": dec, "name": f"tier_{y}"},
            {"indicator": "leading_county", "stat": "max", "to": dec, "name": f"leading_{y}"},
            {"indicator": "express_village_coverage", "stat": "at", "date": dec, "name": f"express_{y}"},
            {"indicator": "household_spending", "stat": "mean", "year": y, "name": f"spending_{y}"},
            {"indicator": "online_share", "stat": "mean", "year": y, "name": f"online_share_{y}"},
            {"indicator": "farm_online_sales", "stat": "mean", "year": y, "name": f"farm_online_{y}"},
        ]
    return out


def expand_ensemble(data: dict[str, Any], source: str, base_dir: Path | None) -> dict[str, Any]:
    """The spec data with its ``ensemble`` expanded to bases and yearly national metrics."""
    if "base" in data:
        raise InputError(
            "base: give either base or ensemble, not both (the ensemble makes its own bases)", source=source
        )
    ens = parse_ensemble(resolve_calibrated(data["ensemble"], source, base_dir), source)
    if ens.official is not None:
        official = spec_path(ens.official, base_dir)
        if not official.is_file():  # checked now, not after every run has finished
            raise InputError(f"ensemble.official: file not found: {official}", source=source)
    ensemble = json.loads(ens.model_dump_json())
    metrics = year_metrics(*ens.years) + list(data.get("metrics") or [])
    return {**data, "ensemble": ensemble, "base": expand_bases(ensemble, source, base_dir), "metrics": metrics}
