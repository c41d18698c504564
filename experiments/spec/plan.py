"""From a spec to the list of runs: design points, validated scenarios, seeds, hashes.

Everything that decides a run's numbers is fixed here, in the parent process and
before anything runs: the scenario of every design point (validated, so a value outside
a field's range is an input error, not a failed run), and every run's seed, spawned from
the experiment seed by replicate (or by point and replicate) — never by scheduling
order. The backend then only decides where a run executes, so serial, process and Dask
execution give the same table.

Seed tree (numpy ``SeedSequence``, entropy = the experiment seed)::

    spawn key (0,)                  the design sampler (LHS, Sobol', Morris)
    spawn key (1, r)                run seed of replicate r at every point (common random numbers)
    spawn key (1, point, r)         run seed of (point, r) when common_random_numbers is false

A run seed is the first 64-bit word of its SeedSequence's state shifted right by one bit
(a non-negative int64, as parquet and the scenario schema want).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from experiments.run.store import table_schema
from experiments.spec.design import DesignPoints, sample
from experiments.spec.experiment import ExperimentSpec
from experiments.spec.metrics import Metric
from sim.config import Scenario, apply_overrides, read_yaml, scenario_from_dict
from sim.errors import InputError

#: Arrow type of each lever column kind; "json" holds mixed values as JSON text.
LEVER_TYPES: dict[str, pa.DataType] = {
    "bool": pa.bool_(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "str": pa.string(),
    "date": pa.string(),
    "json": pa.string(),
}


def run_seed(experiment_seed: int, point: int, replicate: int, common_random_numbers: bool = True) -> int:
    """The seed of one run, spawned from the experiment seed (see the module docstring)."""
    key = (1, replicate) if common_random_numbers else (1, point, replicate)
    state = np.random.SeedSequence(experiment_seed, spawn_key=key).generate_state(1, dtype=np.uint64)[0]
    return int(state >> np.uint64(1))


def design_rng(experiment_seed: int) -> np.random.Generator:
    """The random stream of the design sampler."""
    return np.random.default_rng(np.random.SeedSequence(experiment_seed, spawn_key=(0,)))


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
class Outcome:
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
    def failed(cls, run_id: int, error: str, traceback: str | None = None, worker: str = "") -> Outcome:
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
class Plan:
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


def _load_base(spec: ExperimentSpec, index: int) -> tuple[dict[str, Any], Scenario, Path]:
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
    from sim.geography import build_map
    from sim.model import CountyModel

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


def build_plan(spec: ExperimentSpec, check_maps: bool = True) -> Plan:
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
    try:
        design = sample(spec.design, list(spec.levers), design_rng(spec.seed))
    except ValueError as err:
        raise InputError(str(err), source=spec.source, location="design") from None

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

    if check_maps:
        _check_worlds([s for _, s, _ in bases], [p.scenario for p in points if p.scenario.map.source == "file"])

    crn = spec.common_random_numbers
    reps = spec.replicates
    runs = [
        Run(p.index * reps + r, p.index, r, p.base, run_seed(spec.seed, p.index, r, crn))
        for p in points
        for r in range(reps)
    ]
    lever_kinds = {lv.path: _lever_kind([p.values[lv.path] for p in points], lv.info.kind) for lv in spec.levers}

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
                    if not full.is_file():
                        raise InputError(f"map data file {full} does not exist", source=spec.source, location="levers")
                    inputs["map_data"][key] = file_sha256(full)

    digests = [p.scenario.digest() for p in points]
    hashes = {
        "spec": spec.content_hash(),
        "points": _hash(digests),
        "seeds": _hash([r.seed for r in runs]),
        "map_data": _hash(sorted(inputs["map_data"].values())),
        "scenario_files": _hash(sorted(inputs["scenarios"].values())),
    }
    hashes["experiment"] = _hash([hashes[k] for k in ("spec", "points", "seeds", "map_data")])

    if crn:
        tree_runs = [
            {"replicate": r, "spawn_key": [1, r], "seed": run_seed(spec.seed, 0, r, True)} for r in range(reps)
        ]
    else:
        tree_runs = [
            {"point": r.point, "replicate": r.replicate, "spawn_key": [1, r.point, r.replicate], "seed": r.seed}
            for r in runs
        ]
    seed_tree = {
        "entropy": spec.seed,
        "generator": "numpy.random.SeedSequence",
        "common_random_numbers": crn,
        "design": {"spawn_key": [0]},
        "run_seed": "SeedSequence(entropy, spawn_key).generate_state(1, uint64)[0] >> 1",
        "runs": tree_runs,
    }
    base_info = [
        {"label": spec.base[i].name, "scenario_file": str(path.resolve()), "overrides": spec.base[i].overrides,
         "scenario_digest": sc.digest()}
        for i, (_, sc, path) in enumerate(bases)
    ]  # fmt: skip
    return Plan(spec, design, points, runs, lever_kinds, base_info, inputs, hashes, seed_tree)
