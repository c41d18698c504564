"""The tier criteria file (``configs/criteria/*.yaml``): its schema and its loader.

A criteria file is input, like the scenario that names it (``evaluation.criteria``), so it
is read and checked when the scenario is: a bad threshold or an unknown indicator stops
``countysim validate`` before anything runs. The tier reviews that apply the criteria at
run time are in :mod:`sim.policy.evaluation`.

Every threshold is marked ``sourced`` (with its source) or ``assumed`` (with the reason),
because the national Guide's text is not public and a researcher must be able to see, and
swap, what is assumed.

The check that a file names only known indicators needs the indicator catalogue
(:mod:`sim.policy.indicators`), which reads the model and so may not be imported by the
schema. The catalogue's names are declared to this module instead
(:func:`declare_indicators`), once, when the :mod:`sim` package is imported; as every
import of the schema goes through that package, the check runs at the same moment as
before, when the scenario is validated.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.config.raw import read_yaml
from sim.config.scenario import Scenario
from sim.errors import InputError
from sim.policy.tiers import TIERS

#: The tiers, lowest first (基本型 / 增强型 / 提升型): the keys of a criteria file's ``tiers``.

#: The criteria file a scenario uses when ``evaluation.criteria`` is not set.
DEFAULT_CRITERIA = Path(__file__).resolve().parents[2] / "configs" / "criteria" / "national.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(_Strict):
    """Where a number comes from: ``sourced`` needs a source, ``assumed`` a reason."""

    status: Literal["sourced", "assumed"]
    source: str | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _says_why(self) -> Provenance:
        if self.status == "sourced" and not self.source:
            raise ValueError("a sourced value needs a source")
        if self.status == "assumed" and not self.reason:
            raise ValueError("an assumed value needs a reason")
        return self


class Criterion(Provenance):
    """One threshold on one indicator."""

    indicator: str
    op: Literal[">=", "<="] = ">="
    threshold: float
    note: str = ""

    def passes(self, value: float) -> bool:
        return value >= self.threshold if self.op == ">=" else value <= self.threshold


class Tiers(_Strict):
    basic: list[Criterion] = Field(min_length=1)
    enhanced: list[Criterion] = Field(min_length=1)
    advanced: list[Criterion] = Field(min_length=1)


class Review(Provenance):
    """The yearly review day."""

    month: int = Field(11, ge=1, le=12)
    day: int = Field(25, ge=1, le=28)


class Leading(Provenance):
    """Who is recommended as a leading county (领跑县), and from which year."""

    min_tier: int = Field(3, ge=1, le=3)
    first_year: int = Field(2023, ge=2000, le=2100)


class PlanTarget(Provenance):
    """One of the plan's 2025 targets, read for one county."""

    name: str = Field(min_length=1)
    goal: str = Field(min_length=1)
    indicator: str
    op: Literal[">=", "<=", "increase"] = ">="
    threshold: float | None = None

    @model_validator(mode="after")
    def _threshold_fits_op(self) -> PlanTarget:
        if self.op == "increase" and self.threshold is not None:
            raise ValueError("op 'increase' compares with the run's start value and takes no threshold")
        if self.op != "increase" and self.threshold is None:
            raise ValueError(f"op '{self.op}' needs a threshold")
        return self

    def holds(self, values: np.ndarray, start: float) -> np.ndarray:
        if self.op == "increase":
            return values > start
        return values >= self.threshold if self.op == ">=" else values <= self.threshold


class PlanTargets(_Strict):
    by: dt.date
    items: list[PlanTarget] = Field(min_length=1)


class Criteria(_Strict):
    """A criteria file: tiers, review day, leading-county rule and the 2025 targets."""

    name: str = Field(min_length=1)
    description: str = ""
    review: Review
    leading: Leading
    tiers: Tiers
    targets_2025: PlanTargets

    def criteria(self) -> list[tuple[int, Criterion]]:
        """Every criterion with its tier number (1..3)."""
        return [(k, c) for k, tier in enumerate(TIERS, start=1) for c in getattr(self.tiers, tier)]


@dataclass(frozen=True)
class LoadedCriteria:
    """A validated criteria file with where it came from."""

    criteria: Criteria
    path: Path
    sha256: str


_CACHE: dict[tuple[str, int, int], LoadedCriteria] = {}


def _error(err: ValidationError, source: Path) -> InputError:
    parts = []
    for e in err.errors():
        loc = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in e["loc"]).replace(".[", "[")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        parts.append(f"{loc or '(top level)'}: {msg}")
    return InputError("; ".join(parts), source=source)


@dataclass
class _Indicators:
    """The indicator names a criteria file may use (declared by :mod:`sim`)."""

    measured: frozenset[str] = frozenset()
    every: frozenset[str] = frozenset()
    declared: bool = False


_KNOWN = _Indicators()


def declare_indicators(measured: Iterable[str], every: Iterable[str]) -> None:
    """Tell the criteria check which indicators exist (the :mod:`sim` package does, on import).

    Args:
        measured: Indicators read off the county's state: what a tier criterion may test.
        every: Every indicator, the ones rated from the tiers included: what a 2025
            target may read.
    """
    _KNOWN.measured = frozenset(measured)
    _KNOWN.every = frozenset(every)
    _KNOWN.declared = True


def _check_indicators(c: Criteria, source: Path) -> None:
    if not _KNOWN.declared:
        raise RuntimeError("the indicator names are not declared: import sim before loading criteria")

    def unknown(name: str, allowed: list[str], where: str) -> None:
        close = difflib.get_close_matches(name, allowed, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        if name in _KNOWN.every:
            raise InputError(f"'{name}' is rated from the tiers, so it cannot be a tier criterion{hint}", source, where)
        raise InputError(f"unknown indicator '{name}'{hint} (`countysim indicators` lists them)", source, where)

    for tier in TIERS:
        for i, crit in enumerate(getattr(c.tiers, tier)):
            if crit.indicator not in _KNOWN.measured:
                unknown(crit.indicator, sorted(_KNOWN.measured), f"tiers.{tier}[{i}].indicator")
    for i, t in enumerate(c.targets_2025.items):
        if t.indicator not in _KNOWN.every:
            unknown(t.indicator, sorted(_KNOWN.every), f"targets_2025.items[{i}].indicator")


def load_criteria(path: str | Path | None = None) -> LoadedCriteria:
    """Read and validate a criteria file (cached by path, size and modification time).

    Raises:
        InputError: The file is missing or malformed, or names an unknown indicator;
            the message names the file and the field.
    """
    p = Path(path) if path is not None else DEFAULT_CRITERIA
    stat = p.stat() if p.is_file() else None
    key = (str(p.resolve()), stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)
    if stat is not None and key in _CACHE:
        return _CACHE[key]
    data = read_yaml(p)
    try:
        criteria = Criteria.model_validate(data)
    except ValidationError as err:
        raise _error(err, p) from None
    _check_indicators(criteria, p)
    text = yaml.safe_dump(data, sort_keys=True, allow_unicode=True)
    loaded = LoadedCriteria(criteria, p, hashlib.sha256(text.encode()).hexdigest())
    _CACHE[key] = loaded
    return loaded


def criteria_for(scenario: Scenario) -> LoadedCriteria:
    """The criteria file a scenario selects (relative paths are relative to the scenario file)."""
    path = scenario.evaluation.criteria
    if path is None:
        return load_criteria(None)
    resolved = scenario.resolve_path(path)
    if not resolved.exists():
        raise InputError(
            f"criteria file {resolved} not found (paths are relative to the scenario file)",
            source=scenario._source,
            location="evaluation.criteria",
        )
    return load_criteria(resolved)
