"""The experiment spec: a YAML file saying what to run many times and what to keep.

Validated like scenarios, before anything runs: unknown keys, wrong types, lever paths
that are not scenario fields, ranges outside a field's valid interval, an unknown design
— each is an :class:`~sim.errors.InputError` naming the spec file and the field, which
the command line reports with exit status 2. An example::

    name: subsidy_screen
    base:
      scenario: ../scenarios/baseline.yaml     # relative to this file
      overrides: {map.size: small}
    levers:
      - {path: policy.store_upgrade_subsidy, range: [0.0, 0.8]}
      - {path: policy.annual_budget, distribution: {kind: loguniform, low: 5.0e5, high: 1.0e7}}
    design: {method: lhs, samples: 32}
    replicates: 2
    metrics:
      - store_village_coverage                 # final-year value
      - {indicator: newtype_store_share, stat: mean, year: 2024}
    seed: 1
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from experiments.spec.columns import RESERVED_COLUMNS
from experiments.spec.design import SAMPLING, Design
from experiments.spec.ensemble import expand_ensemble
from experiments.spec.levers import Distribution, Lever
from experiments.spec.methods import DEFAULT_METHODS, READS, sample_size_error
from experiments.spec.metrics import Metric
from sim.config import read_yaml
from sim.errors import InputError

#: Where runs execute (the backends of :mod:`experiments.run.backends`), by name.
BackendName = Literal["inprocess", "processes", "dask"]
BACKEND_NAMES: tuple[str, ...] = get_args(BackendName)

#: Spec fields that say where and how fast to run, not what: they may change between
#: an interrupted session and its resumption without changing any result.
EXECUTION_FIELDS = ("backend", "workers", "scheduler", "connect_timeout")
#: Spec fields that say how the finished runs are analysed: they change no run either.
ANALYSIS_FIELDS = ("sensitivity",)


class SensitivitySettings(BaseModel):
    """How an experiment's runs are analysed (see :mod:`experiments.analysis.analyze`).

    ``countysim experiment`` analyses a Sobol', Morris or eFAST design when it finishes,
    and any design that has this section; ``countysim analyze DIR`` does it again later.

    Attributes:
        methods: SALib methods (default by design: sobol → sobol, morris → morris,
            efast → efast, lhs → pawn and delta). PAWN and delta read lhs, sobol and efast
            designs; ``[]`` skips the indices and keeps the target analysis.
        metrics: Metric columns to analyse (default: every numeric metric).
        resamples: Bootstrap resamples of the confidence intervals.
        conf_level: Confidence level of the intervals.
        tolerance: Largest change of an index between n/2 and n, and largest interval
            half-width, that the convergence check accepts.
        targets: Also compute attainment of the 2025 targets, PRIM boxes and the cost frontier.
        probability: Frontier: the cheapest setting must meet every target with at least
            this probability (share of its replicates).
        density: PRIM: the share of runs in a box that must meet (or miss) the targets.
        cost: Metric columns added up as the fiscal cost (default: the end values of
            subsidy_spent and funds_leaked when the spec keeps them).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    methods: list[Literal["sobol", "morris", "efast", "pawn", "delta"]] | None = None
    metrics: list[str] | None = Field(None, min_length=1)
    resamples: int = Field(200, ge=10, le=100_000)
    conf_level: float = Field(0.95, gt=0, lt=1)
    tolerance: float = Field(0.1, gt=0, le=1)
    targets: bool = True
    probability: float = Field(0.8, gt=0, le=1)
    density: float = Field(0.8, gt=0, le=1)
    cost: list[str] | None = Field(None, min_length=1)


class BaseScenario(BaseModel):
    """A base scenario the design is applied to.

    Attributes:
        scenario: Scenario YAML, relative to the spec file.
        overrides: Dotted-path overrides applied before the levers (e.g. a small map for screening).
        label: Name of this base in the runs table (default: the scenario file's stem).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: Path
    overrides: dict[str, Any] = Field(default_factory=dict)
    label: str | None = Field(None, min_length=1, max_length=120)

    @property
    def name(self) -> str:
        return self.label or self.scenario.stem


class ExperimentSpec(BaseModel):
    """Everything that defines an experiment.

    Attributes:
        name: Short name, used for the default output folder.
        description: Free text.
        base: One base scenario, or a list of them (the design runs on each; the runs
            table's ``base`` column says which).
        levers: Scenario fields to vary (a list of levers, or a mapping path → values list
            or path → lever fields).
        design: The design method and its settings (or just the method's name).
        replicates: Runs per design point, each with its own seed.
        common_random_numbers: Give replicate r the same seed at every design point, so
            that differences between points are not blurred by different random draws.
        metrics: What to keep from each run (indicator and statistic).
        keep_timeseries: Also keep every run's weekly series (partitioned by run).
        seed: The experiment seed; every run seed and the design sampler's stream are
            spawned from it.
        backend: Where runs execute by default (command-line options override it).
        workers: Worker processes (default: the machine's CPU count).
        scheduler: Address (or scheduler file) of a running Dask scheduler.
        connect_timeout: Seconds to wait for a Dask scheduler before giving up.
        ensemble: A national ensemble (see :mod:`experiments.spec.ensemble`) in place of
            ``base``: expanded, before validation, into one labelled base per simulated
            county, and its yearly national metrics added to ``metrics``.
        sensitivity: How the runs are analysed when they finish (indices, convergence,
            target attainment, PRIM boxes, frontier); see :class:`SensitivitySettings`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    base: list[BaseScenario] = Field(min_length=1)
    levers: list[Lever] = Field(default_factory=list)
    design: Design
    replicates: int = Field(1, ge=1, le=100_000)
    common_random_numbers: bool = True
    metrics: list[Metric] = Field(min_length=1)
    keep_timeseries: bool = False
    seed: int = Field(1, ge=0, le=2**63 - 1)
    backend: BackendName = "processes"
    workers: int | None = Field(None, ge=1, le=4096)
    scheduler: str | None = None
    connect_timeout: float = Field(10.0, gt=0, le=3600)
    ensemble: dict[str, Any] | None = None
    sensitivity: SensitivitySettings | None = None

    #: Folder of the spec file: base scenario paths are relative to it (not part of the schema).
    _base_dir: Path | None = None
    #: The file the spec was read from, for messages (not part of the schema).
    _source: str | None = None

    @field_validator("base", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        # "base: file.yaml" is short for "base: [{scenario: file.yaml}]"; one mapping for a list of one
        items = [v] if isinstance(v, dict | str) else v
        return [{"scenario": b} if isinstance(b, str) else b for b in items] if isinstance(items, list) else items

    @field_validator("levers", mode="before")
    @classmethod
    def _lever_mapping(cls, v: Any) -> Any:
        # "levers: {policy.x: [0.1, 0.3]}" or "{policy.x: {range: [0, 1]}}"
        if isinstance(v, dict):
            return [{"path": p, **(d if isinstance(d, dict) else {"values": d})} for p, d in v.items()]
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentSpec:
        paths = [lv.path for lv in self.levers]
        dupes = sorted({p for p in paths if paths.count(p) > 1})
        if dupes:
            raise ValueError(f"levers: each field may be varied once ({', '.join(dupes)} appear more than once)")
        names = [b.name for b in self.base]
        if len(set(names)) != len(names):
            raise ValueError("base: two base scenarios have the same label; give each a distinct label")
        columns = [m.column for m in self.metrics]
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        if dupes:
            raise ValueError(f"metrics: the column {', '.join(dupes)} is defined twice; give one a name")
        clash = sorted(set(columns) & (set(RESERVED_COLUMNS) | set(paths)))
        if clash:
            raise ValueError(f"metrics: the name {', '.join(clash)} is taken by a column of the runs table")
        if self.design.method in SAMPLING and not self.levers:
            raise ValueError(f"design: the {self.design.method} design samples levers, but none are given")
        if self.sensitivity is not None:
            self._check_sensitivity(self.sensitivity)
        return self

    def _check_sensitivity(self, s: SensitivitySettings) -> None:
        design = self.design.method
        for m in self.analysis_methods():
            if design not in READS[m]:
                raise ValueError(
                    f"sensitivity.methods: {m} cannot read a {design} design (it reads {', '.join(READS[m])} designs)"
                )
            if m in ("pawn", "delta"):
                k = len(self.levers)
                n = self.design.samples or 0
                points = {"lhs": n, "efast": n * k, "sobol": n * (2 * k + 2 if self.design.second_order else k + 2)}
                why = sample_size_error(m, points.get(design, 0))
                if why:
                    raise ValueError(f"sensitivity.methods: {why.replace(' n ', ' the design to have ')}")
        numeric = {m.column for m in self.metrics if not m.is_date}
        dates = {m.column for m in self.metrics if m.is_date}
        for key in ("metrics", "cost"):
            for c in getattr(s, key) or []:
                if c in dates:
                    raise ValueError(f"sensitivity.{key}: {c} is a date, not a number")
                if c not in numeric:
                    raise ValueError(
                        f"sensitivity.{key}: {c} is not a metric of this spec (metrics: {', '.join(sorted(numeric))})"
                    )

    def analysis_methods(self) -> list[str]:
        """The sensitivity methods this experiment is analysed with ([] for none)."""
        if self.sensitivity is not None and self.sensitivity.methods is not None:
            return list(dict.fromkeys(self.sensitivity.methods))
        return list(DEFAULT_METHODS.get(self.design.method, ()))

    @property
    def analysed(self) -> bool:
        """Whether ``countysim experiment`` analyses the runs when they finish: a Sobol',
        Morris or eFAST design, or any design with a ``sensitivity`` section."""
        return self.sensitivity is not None or self.design.method in ("sobol", "morris", "efast")

    def canonical(self) -> dict[str, Any]:
        """The spec as plain JSON data with every default filled in."""
        return json.loads(self.model_dump_json(by_alias=True))

    def content_hash(self) -> str:
        """Hash of what the spec asks to run (execution and analysis settings left out)."""
        data = {k: v for k, v in self.canonical().items() if k not in (*EXECUTION_FIELDS, *ANALYSIS_FIELDS)}
        return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def resolve(self, p: Path) -> Path:
        """A path from the spec, made absolute relative to the spec file's folder."""
        if p.is_absolute() or self._base_dir is None:
            return p
        return self._base_dir / p

    @property
    def source(self) -> str:
        return self._source or "experiment spec"


# ---------------------------------------------------------------------------
# loading and error messages


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and not part.startswith(("function-", "list[", "tagged-union")):
            out += f".{part}" if out else part
    return out or "(top level)"


_MODELS: dict[str, type[BaseModel]] = {
    "base": BaseScenario,
    "levers": Lever,
    "design": Design,
    "metrics": Metric,
    "distribution": Distribution,
    "sensitivity": SensitivitySettings,
}


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    names = [p for p in loc[:-1] if isinstance(p, str)]
    model: type[BaseModel] = _MODELS.get(names[-1], ExperimentSpec) if names else ExperimentSpec
    keys = [(f.alias or n) for n, f in model.model_fields.items()]
    return sorted(keys)


def _error(err: ValidationError, source: str) -> InputError:
    """One readable paragraph naming every bad field of the spec."""
    parts = []
    first = None
    for e in err.errors():
        loc = _loc(tuple(e["loc"]))
        first = first or loc
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = f"unknown key; allowed keys here: {', '.join(_allowed_keys(tuple(e['loc'])))}"
        elif e["type"] == "literal_error":
            msg = msg.replace("Input should be", "must be one of")
        elif e["type"] == "missing":
            msg = "required but missing"
        got = e.get("input")
        show = e["type"] not in ("extra_forbidden", "missing", "value_error") and not isinstance(got, dict | list)
        parts.append(f"{loc}: {msg}" + (f" (got {got!r})" if show else ""))
    return InputError("; ".join(parts), source=source)


def spec_from_dict(
    data: dict[str, Any], source: str = "experiment spec", base_dir: Path | None = None
) -> ExperimentSpec:
    """Validate raw data into an ExperimentSpec, or raise an InputError naming every bad field.

    Args:
        data: The parsed YAML mapping.
        source: Where the data came from, for messages.
        base_dir: Folder that relative base scenario paths are relative to (None: the
            current directory).
    """
    if isinstance(data, dict) and data.get("ensemble") is not None:
        data = expand_ensemble(data, source, base_dir)
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as err:
        raise _error(err, source) from None
    spec._base_dir = base_dir
    spec._source = source
    return spec


def load_spec(path: str | Path) -> ExperimentSpec:
    """Read and validate an experiment spec YAML (safe loader only).

    Raises:
        InputError: The file is missing, not YAML, or not a valid spec.
    """
    p = Path(path)
    try:
        data = read_yaml(p)
    except InputError as err:
        if "is empty" in err.message:
            raise InputError("is empty; an experiment spec needs name, base, design and metrics", source=p) from None
        raise
    return spec_from_dict(data, source=str(p), base_dir=p.resolve().parent)
