"""From a spec to the list of runs: design points, validated scenarios, seeds, hashes.

Everything that decides a run's numbers is fixed here, in the parent process and
before anything runs: the scenario of every design point (validated, so a value outside
a field's range is an input error, not a failed run), and every run's seed, spawned from
the experiment seed by replicate (or by point and replicate) — never by scheduling
order. The backend then only decides where a run executes, so serial, process and Dask
execution give the same table. The seeds and their tree are :mod:`experiments.spec.seeds`.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from experiments.spec.columns import LEVER_TYPES, table_schema
from experiments.spec.design import DesignPoints, sample
from experiments.spec.experiment import ExperimentSpec
from experiments.spec.metrics import Metric
from experiments.spec.seeds import design_rng, run_seed, seed_tree
from sim.config import Scenario, apply_overrides, read_yaml, scenario_from_dict
from sim.errors import InputError
from sim.geography import build_map, source_files
from sim.model import CountyModel

#: A base scenario as read: its raw data with the base's overrides, the validated scenario, its file.
LoadedBase = tuple[dict[str, Any], Scenario, Path]


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Job:
    """What a worker needs for one run (small and picklable)."""

    run_id: int
    scenario: Scenario
    seed: int
    metrics: tuple[Metric, ...]
    keep_timeseries: bool


@dataclass
class RunOutcome:
    """What comes back from a run: metric values or the error, and where and how long it ran."""

    run_id: int
    status: str
    metrics: dict[str, Any]
    error: str | None = None
    traceback: str | None = None
    wall_seconds: float = 0.0
    worker: str = ""
    timeseries: Any = None

    @classmethod
    def failed(cls, run_id: int, error: str, traceback: str | None = None, worker: str = "") -> RunOutcome:
        return cls(run_id, "failed", {}, error=error, traceback=traceback, worker=worker)


@dataclass(frozen=True)
class Run:
    """One row of the runs table, before it has run."""

    run_id: int
    point: int
    replicate: int
    base: str
    seed: int


@dataclass
class Point:
    """One design point on one base scenario."""

    index: int
    base: str
    values: dict[str, Any]
    scenario: Scenario


@dataclass
class RunPlan:
    """The resolved experiment: every run, its scenario and seed, and the hashes that identify them."""

    spec: ExperimentSpec
    design: DesignPoints
    points: list[Point]
    runs: list[Run]
    lever_kinds: dict[str, str]
    bases: list[dict[str, Any]]
    inputs: dict[str, dict[str, str]]
    hashes: dict[str, str]
    seed_tree: dict[str, Any] = field(default_factory=dict)

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return tuple(self.spec.metrics)

    def job(self, run: Run) -> Job:
        return Job(run.run_id, self.points[run.point].scenario, run.seed, self.metrics, self.spec.keep_timeseries)

    def encode(self, path: str, value: Any) -> Any:
        """A lever value as stored in its table column."""
        kind = self.lever_kinds[path]
        if kind == "date":
            return value.isoformat()
        if kind == "json":
            return json.dumps(value, sort_keys=True, default=str)
        if kind == "float64":
            return float(value)
        return value

    def lever_row(self, point: int) -> dict[str, Any]:
        return {p: self.encode(p, v) for p, v in self.points[point].values.items()}

    def schema(self) -> pa.Schema:
        """The Arrow schema of the runs table."""
        metric_types = {m.column: (pa.timestamp("ns") if m.is_date else pa.float64()) for m in self.metrics}
        return table_schema({p: LEVER_TYPES[k] for p, k in self.lever_kinds.items()}, metric_types)

    def design_table(self) -> pa.Table:
        """Design points with their lever values (and unit coordinates for sampling designs)."""
        cols: dict[str, list[Any]] = {
            "point": [p.index for p in self.points],
            "base": [p.base for p in self.points],
        }
        for path in self.lever_kinds:
            cols[path] = [self.encode(path, p.values[path]) for p in self.points]
        if self.design.unit is not None:
            n = len(self.design.values)
            for j, path in enumerate(self.lever_kinds):
                cols[f"unit:{path}"] = [float(self.design.unit[p.index % n, j]) for p in self.points]
        types = {"point": pa.int64(), "base": pa.string()}
        types.update({p: LEVER_TYPES[k] for p, k in self.lever_kinds.items()})
        return pa.table({k: pa.array(v, type=types.get(k, pa.float64())) for k, v in cols.items()})


def _lever_kind(values: list[Any], field_kind: str) -> str:
    """The column kind of a lever: the narrowest that holds all its values (a float field stays float)."""
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if field_kind != "float" and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int64"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "float64"
    if all(isinstance(v, str) for v in values):
        return "str"
    if all(isinstance(v, dt.date) for v in values):
        return "date"
    return "json"


def _load_base(spec: ExperimentSpec, index: int) -> LoadedBase:
    b = spec.base[index]
    path = spec.resolve(b.scenario)
    loc = f"base[{index}].scenario" if len(spec.base) > 1 else "base.scenario"
    if not path.exists():
        raise InputError(f"the base scenario {path} does not exist (paths are relative to the spec file)",
                         source=spec.source, location=loc)  # fmt: skip
    raw = read_yaml(path)
    try:
        data = apply_overrides(copy.deepcopy(raw), b.overrides)
    except InputError as err:
        raise InputError(err.message, source=spec.source, location=loc.replace("scenario", "overrides")) from None
    where = f"{path} with the overrides of {spec.source}" if b.overrides else str(path)
    scenario = scenario_from_dict(data, source=where, base_dir=path.resolve().parent)
    return data, scenario, path


def _describe(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items()) or "no levers"


#: Above this many generated-map bases (a national ensemble has 1,871), one world per
#: kind of generated county (source, region, size) is set up instead of every one:
#: building every world took minutes and gigabytes before the first run, and a generated
#: map cannot be a bad input file. Every file-based map is still built.
CHECK_EVERY_WORLD_UP_TO = 64


def _check_worlds(bases: list[Scenario], file_maps: list[Scenario]) -> None:
    """Set up the bases' worlds and build each file-based map once (raises what the model raises)."""
    generated = [b for b in bases if b.map.source != "file"]
    if len(generated) > CHECK_EVERY_WORLD_UP_TO:
        kinds: dict[tuple, Scenario] = {}
        for b in generated:
            kinds.setdefault((b.map.source, b.map.region, b.map.size), b)
        bases = [*kinds.values(), *(b for b in bases if b.map.source == "file")]
    maps: dict[str, Any] = {}  # file-based maps only: each is read once
    for sc, is_base in [*((b, True) for b in bases), *((f, False) for f in file_maps)]:
        key = json.dumps(sc.map.model_dump(mode="json"), sort_keys=True) + str(sc._base_dir)
        county = maps.get(key)
        if county is None:
            county = build_map(sc.map, sc._base_dir)
            if sc.map.source == "file":
                maps[key] = county
        if is_base:
            CountyModel(sc, county=county)


def build_plan(spec: ExperimentSpec, check_maps: bool = True) -> RunPlan:
    """Resolve a spec into its runs, validating every scenario before anything runs.

    Args:
        spec: The validated spec.
        check_maps: Build each base scenario's world (map and agents, without running it)
            and every map read from files, so that a bad map file, or anything else the
            model rejects when it sets up, is an input error up front rather than a
            sweep of failed runs.

    Raises:
        InputError: A base scenario, a design point or a map is invalid; the message
            names the spec, the point and its lever values.
    """
    bases = [_load_base(spec, i) for i in range(len(spec.base))]
    design = _sample_design(spec)
    points = _design_points(spec, bases, design)
    if check_maps:
        _check_worlds([s for _, s, _ in bases], [p.scenario for p in points if p.scenario.map.source == "file"])
    runs = _runs(spec, points)
    lever_kinds = {lv.path: _lever_kind([p.values[lv.path] for p in points], lv.info.kind) for lv in spec.levers}
    inputs = _input_files(spec, bases, points)
    hashes = _hashes(spec, points, runs, inputs)
    tree = seed_tree(
        spec.seed, spec.common_random_numbers, spec.replicates, [(r.point, r.replicate, r.seed) for r in runs]
    )
    return RunPlan(spec, design, points, runs, lever_kinds, _base_info(spec, bases), inputs, hashes, tree)


def _sample_design(spec: ExperimentSpec) -> DesignPoints:
    """The design's lever settings, drawn from the design sampler's stream of the seed tree."""
    try:
        return sample(spec.design, list(spec.levers), design_rng(spec.seed))
    except ValueError as err:
        raise InputError(str(err), source=spec.source, location="design") from None


def _design_points(spec: ExperimentSpec, bases: list[LoadedBase], design: DesignPoints) -> list[Point]:
    """Every design point on every base, its scenario validated and its metrics checked against its timeline."""
    points: list[Point] = []
    for b, (data, _, path) in enumerate(bases):
        label = spec.base[b].name
        for d, values in enumerate(design.values):
            index = b * len(design.values) + d
            where = f"design point {index} ({_describe(values)})" + (f" on base {label}" if len(bases) > 1 else "")
            point_data = apply_overrides(copy.deepcopy(data), dict(values))
            try:
                scenario = scenario_from_dict(point_data, source=str(path), base_dir=path.resolve().parent)
            except InputError as err:
                raise InputError(f"{where} is not a valid scenario: {err.render()}", source=spec.source,
                                 location="levers") from None  # fmt: skip
            for m in spec.metrics:
                why = m.check_timeline(scenario.timeline.start, scenario.timeline.end)
                if why:
                    raise InputError(f"metric {m.column}: {why} (at {where})", source=spec.source, location="metrics")
            points.append(Point(index, label, dict(values), scenario))
    return points


def _runs(spec: ExperimentSpec, points: list[Point]) -> list[Run]:
    """Every run: each point's replicates, numbered point by point, each with its seed."""
    crn = spec.common_random_numbers
    reps = spec.replicates
    return [
        Run(p.index * reps + r, p.index, r, p.base, run_seed(spec.seed, p.index, r, crn))
        for p in points
        for r in range(reps)
    ]


def _input_files(spec: ExperimentSpec, bases: list[LoadedBase], points: list[Point]) -> dict[str, dict[str, str]]:
    """The files the experiment reads (spec, base scenarios, map data), each with its SHA-256."""
    inputs: dict[str, dict[str, str]] = {"spec": {}, "scenarios": {}, "map_data": {}}
    if spec._source and Path(spec._source).is_file():
        inputs["spec"][str(Path(spec._source).resolve())] = file_sha256(Path(spec._source))
    for _, _, path in bases:
        inputs["scenarios"][str(path.resolve())] = file_sha256(path)
    for p in points:
        m = p.scenario.map
        for f in (m.settlements_file, m.roads_file):
            if f is not None:
                full = p.scenario.resolve_path(f).resolve()
                key = str(full)
                if key not in inputs["map_data"]:
                    parts = source_files(full)
                    if not parts:
                        raise InputError(f"map data file {full} does not exist", source=spec.source, location="levers")
                    # a Shapefile's sidecars and a geodatabase folder's files are part of the map
                    # (a single file keeps its own hash, so folders written before this still resume)
                    inputs["map_data"][key] = (
                        file_sha256(full) if parts == [full] else _hash([(p.name, file_sha256(p)) for p in parts])
                    )
    return inputs


def _hashes(
    spec: ExperimentSpec, points: list[Point], runs: list[Run], inputs: dict[str, dict[str, str]]
) -> dict[str, str]:
    """The hashes that identify the experiment (``experiment``) and each of its parts."""
    digests = [p.scenario.digest() for p in points]
    hashes = {
        "spec": spec.content_hash(),
        "points": _hash(digests),
        "seeds": _hash([r.seed for r in runs]),
        "map_data": _hash(sorted(inputs["map_data"].values())),
        "scenario_files": _hash(sorted(inputs["scenarios"].values())),
    }
    hashes["experiment"] = _hash([hashes[k] for k in ("spec", "points", "seeds", "map_data")])
    return hashes


def _base_info(spec: ExperimentSpec, bases: list[LoadedBase]) -> list[dict[str, Any]]:
    """What the manifest records of each base scenario."""
    return [
        {"label": spec.base[i].name, "scenario_file": str(path.resolve()), "overrides": spec.base[i].overrides,
         "scenario_digest": sc.digest()}
        for i, (_, sc, path) in enumerate(bases)
    ]  # fmt: skip
