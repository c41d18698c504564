"""Running an experiment: one run → a row; many runs → the runs table, resumable.

:func:`run_job` is what a worker executes: build (or reuse) the map, run the model with
the run's seed, compute the metrics, and turn any exception into a failed row, so one
bad run never stops a sweep. :func:`execute` feeds a plan's unfinished runs to a backend
and writes each outcome as it arrives; :func:`run_experiment` is the public entry point
used by the command line and by notebooks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
import time
import traceback
from collections import OrderedDict
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from experiments.run import provenance
from experiments.run.backends import Backend, make_backend, worker_name
from experiments.run.store import ExperimentStore, read_manifest, read_runs, target_state
from experiments.spec.experiment import ExperimentSpec, load_spec, spec_from_dict
from experiments.spec.metrics import compute_all
from experiments.spec.plan import Job, Run, RunOutcome, RunPlan, build_plan
from sim.config import Scenario
from sim.errors import InputError
from sim.geography import CountyMap, build_map, source_files
from sim.model import CountyModel
from sim.policy.indicators import BY_NAME

#: Built maps kept per worker process. Maps depend only on the scenario's ``map`` section
#: (and the files it names), so a sweep over policy levers builds its map once per worker.
MAP_CACHE_SIZE = 8
_MAPS: OrderedDict[str, CountyMap] = OrderedDict()

EXTRA_PACKAGES = ("SALib", "dask", "distributed", "tqdm")


def _map_key(scenario: Scenario) -> str:
    m = scenario.map
    key: dict[str, Any] = {"map": m.model_dump(mode="json")}
    if m.source == "file":
        files = [scenario.resolve_path(f) for f in (m.settlements_file, m.roads_file) if f is not None]
        # a file edited between two experiments in one long-lived process must not hit a stale map
        parts = [p for f in files for p in source_files(f.resolve())]
        key["files"] = [(str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in parts]
    return json.dumps(key, sort_keys=True)


def cached_map(scenario: Scenario) -> CountyMap:
    """The scenario's county map, built once per process and shared read-only by later runs.

    The map's arrays are made read-only: a model that wrote into a shared map would make
    a run's numbers depend on which runs its worker did before, so it must fail loudly.
    """
    key = _map_key(scenario)
    county = _MAPS.get(key)
    if county is None:
        county = build_map(scenario.map, scenario._base_dir)
        for f in fields(county):
            value = getattr(county, f.name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        _MAPS[key] = county
        while len(_MAPS) > MAP_CACHE_SIZE:
            _MAPS.popitem(last=False)
    else:
        _MAPS.move_to_end(key)
    return county


def run_job(job: Job) -> RunOutcome:
    """Run one job and return its metrics, or the error it raised (never raises an Exception)."""
    start = time.perf_counter()
    try:
        county = cached_map(job.scenario)
        result = CountyModel(job.scenario, seed=job.seed, county=county).run(progress=False)
        values = compute_all(job.metrics, result.timeseries, result.summary)
        return RunOutcome(
            job.run_id,
            "ok",
            values,
            wall_seconds=time.perf_counter() - start,
            worker=worker_name(),
            timeseries=result.timeseries if job.keep_timeseries else None,
        )
    except Exception as exc:
        out = RunOutcome.failed(job.run_id, f"{type(exc).__name__}: {exc}", traceback.format_exc(), worker_name())
        out.wall_seconds = time.perf_counter() - start
        return out


# --- the runs table ------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """A metric value as Arrow takes it (NaT → null, Timestamp → datetime)."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def make_row(plan: RunPlan, run: Run, outcome: RunOutcome) -> dict[str, Any]:
    """The runs-table row of a finished run."""
    row: dict[str, Any] = {
        "run_id": run.run_id,
        "point": run.point,
        "replicate": run.replicate,
        "base": run.base,
        "seed": run.seed,
    }
    row.update(plan.lever_row(run.point))
    for m in plan.metrics:
        row[m.column] = _cell(outcome.metrics.get(m.column)) if outcome.status == "ok" else None
    row.update(
        status=outcome.status,
        error=outcome.error,
        wall_seconds=float(outcome.wall_seconds),
        worker=outcome.worker,
        traceback=outcome.traceback,
    )
    return row


# --- manifest --------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _versions() -> dict[str, str]:
    return provenance.package_versions() | provenance.versions(EXTRA_PACKAGES)


def new_manifest(plan: RunPlan) -> dict[str, Any]:
    """The manifest ("scenario card") of a new experiment."""
    spec = plan.spec
    return {
        "kind": "experiment",
        "format": 1,
        "name": spec.name,
        "description": spec.description,
        "created": _now(),
        "status": "running",
        "spec_file": spec._source,
        "spec": spec.canonical(),
        "bases": plan.bases,
        "design": {
            "method": spec.design.method,
            "settings": json.loads(spec.design.model_dump_json()),
            "design_points": len(plan.design.values),
            "points": len(plan.points),
            "salib_problem": plan.design.problem,
        },
        "runs": {"total": len(plan.runs), "replicates": spec.replicates},
        "columns": {
            "levers": plan.lever_kinds,
            "metrics": {m.column: {**m.describe(), "unit": BY_NAME[m.indicator].unit} for m in plan.metrics},
        },
        "inputs": plan.inputs,
        "hashes": plan.hashes,
        "seed_tree": plan.seed_tree,
        "versions": _versions(),
        "git_commit": provenance.git_commit(),
        "machine": provenance.machine(),
        "sessions": [],
    }


def _explain_mismatch(old: dict[str, Any], plan: RunPlan) -> str:
    """Why a folder's experiment is not the one the spec now describes."""
    oh, nh = old.get("hashes", {}), plan.hashes
    if oh.get("spec") != nh["spec"]:
        return "the spec's levers, design, replicates, metrics or seed changed"
    if oh.get("points") != nh["points"]:
        changed = [
            f for f, h in plan.inputs["scenarios"].items() if old.get("inputs", {}).get("scenarios", {}).get(f) != h
        ]
        if changed:
            return f"the base scenario changed ({', '.join(changed)})"
        was = {k: old.get("versions", {}).get(k) for k in ("SALib", "scipy", "countysim")}
        return f"the design produced different points (library versions then: {was})"
    if oh.get("map_data") != nh["map_data"]:
        changed = [
            f for f, h in plan.inputs["map_data"].items() if old.get("inputs", {}).get("map_data", {}).get(f) != h
        ]
        return f"a map data file changed ({', '.join(changed) or 'files added or removed'})"
    return "the run seeds changed"


# --- running ---------------------------------------------------------------------------


def _progress_bar(total: int, initial: int, name: str, enabled: bool) -> Any:
    if not enabled:
        return None
    return tqdm(total=total, initial=initial, desc=name, unit="run", dynamic_ncols=True, mininterval=0.5)


def execute(
    plan: RunPlan,
    out: str | Path,
    backend: Backend,
    resume: bool = False,
    retry_failed: bool = False,
    progress: bool = False,
    runs: list[Run] | None = None,
) -> pd.DataFrame:
    """Run a plan's unfinished runs on ``backend`` and write them into ``out``.

    Args:
        plan: The resolved experiment.
        out: The experiment folder.
        backend: An entered backend (its context is managed by the caller).
        resume: Finish the experiment already in ``out`` (refused if it is another experiment).
        retry_failed: With ``resume``, also redo runs recorded as failed.
        progress: Show a progress bar (done, failed, rate, time left).
        runs: Submit these runs in this order instead of all of them by run id (the
            table never depends on the order; the tests use this to prove it).

    Returns:
        The runs table (every recorded run, sorted by run id).
    """
    out = Path(out)
    state = target_state(out, resume)
    if state == "resume":
        _refuse_another_experiment(out, plan)
    with ExperimentStore(out, plan.schema()) as store:
        manifest = _open_manifest(store, plan, state)
        done = store.finished(include_failed=not retry_failed)
        todo = [r for r in (runs if runs is not None else plan.runs) if r.run_id not in done]
        session = _start_session(manifest, backend, state, retry_failed, len(done), len(todo))
        store.write_manifest(manifest)
        bar = _progress_bar(len(plan.runs), len(plan.runs) - len(todo), plan.spec.name, progress)
        tally = {"ok": 0, "failed": 0}
        start = time.perf_counter()
        status = "interrupted"
        try:
            _record_outcomes(plan, store, backend, todo, tally, bar)
            status = "complete"
        finally:
            if bar is not None:
                bar.close()
            table = _end_session(store, plan, manifest, session, status, tally, start)
    return table


def _refuse_another_experiment(out: Path, plan: RunPlan) -> None:
    """Refuse to resume a folder whose experiment is not the one the plan describes."""
    old = read_manifest(out)
    if old.get("hashes", {}).get("experiment") != plan.hashes["experiment"]:
        raise InputError(
            f"cannot resume: this folder holds a different experiment ({_explain_mismatch(old, plan)}); "
            "start it in a new --out folder",
            source=out,
            location="--resume",
        )


def _open_manifest(store: ExperimentStore, plan: RunPlan, state: str) -> dict[str, Any]:
    """The folder's manifest: written with the design table for a new experiment, read for a resumed one."""
    if state == "new":
        manifest = new_manifest(plan)
        store.write_manifest(manifest)
        store.write_design(plan.design_table())
        return manifest
    return read_manifest(store.folder)


def _start_session(
    manifest: dict[str, Any], backend: Backend, state: str, retry_failed: bool, before: int, to_do: int
) -> dict[str, Any]:
    """Add this session (what it will run, where, with which code) to the manifest, and return it."""
    session: dict[str, Any] = {
        "started": _now(),
        "resumed": state == "resume",
        "retry_failed": retry_failed,
        "runs_before": before,
        "runs_to_do": to_do,
        "git_commit": provenance.git_commit(),
        **backend.describe(),
    }
    if session["git_commit"] != manifest.get("git_commit"):
        session["note"] = "code version differs from the experiment's first session"
    manifest["sessions"].append(session)
    manifest["status"] = "running"
    return session


def _record_outcomes(
    plan: RunPlan, store: ExperimentStore, backend: Backend, todo: list[Run], tally: dict[str, int], bar: Any
) -> None:
    """Run ``todo`` on the backend and write each outcome as it arrives, counting ok and failed runs."""
    by_id = {r.run_id: r for r in plan.runs}
    # closing(): on an interrupt the backend stops its workers at once, not at garbage collection
    with contextlib.closing(backend.run(run_job, (plan.job(r) for r in todo))) as outcomes:
        for outcome in outcomes:
            store.write_run(make_row(plan, by_id[outcome.run_id], outcome), outcome.timeseries)
            tally["ok" if outcome.status == "ok" else "failed"] += 1
            if bar is not None:
                bar.set_postfix(failed=tally["failed"], refresh=False)
                bar.update(1)


def _end_session(
    store: ExperimentStore,
    plan: RunPlan,
    manifest: dict[str, Any],
    session: dict[str, Any],
    status: str,
    tally: dict[str, int],
    start: float,
) -> pd.DataFrame:
    """Consolidate the runs, close the session in the manifest (counts, timings) and return the runs table."""
    store.consolidate()
    table = read_runs(store.folder)
    session.update(
        finished=_now(),
        status=status,
        runs_ok=tally["ok"],
        runs_failed=tally["failed"],
        wall_seconds=round(time.perf_counter() - start, 3),
    )
    counts = {s: int((table["status"] == s).sum()) if len(table) else 0 for s in ("ok", "failed")}
    manifest["status"] = "complete" if len(table) == len(plan.runs) else "incomplete"
    manifest["counts"] = counts
    manifest["timings"] = {
        "sessions_wall_seconds": round(sum(s.get("wall_seconds", 0.0) for s in manifest["sessions"]), 3),
        "run_seconds_total": round(float(table["wall_seconds"].sum()), 3) if len(table) else 0.0,
        "run_seconds_median": round(float(table["wall_seconds"].median()), 4) if len(table) else None,
    }
    store.write_manifest(manifest)
    return table


def _load(spec_or_path: str | Path | ExperimentSpec | dict[str, Any]) -> ExperimentSpec:
    if isinstance(spec_or_path, ExperimentSpec):
        return spec_or_path
    if isinstance(spec_or_path, dict):
        return spec_from_dict(spec_or_path, source="experiment spec (dict)", base_dir=Path.cwd())
    return load_spec(spec_or_path)


def default_out(spec: ExperimentSpec) -> Path:
    """Where an experiment is written when no folder is given."""
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in spec.name)[:80] or "experiment"
    return Path("results") / "experiments" / slug


def run_experiment(
    spec_or_path: str | Path | ExperimentSpec | dict[str, Any],
    out: str | Path | None = None,
    *,
    backend: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    retry_failed: bool = False,
    progress: bool | None = None,
    connect_timeout: float | None = None,
) -> pd.DataFrame:
    """Run an experiment and return its runs table.

    Args:
        spec_or_path: A spec file, a loaded :class:`ExperimentSpec`, or a dict (base
            scenario paths then relative to the current directory).
        out: The experiment folder (default ``results/experiments/<name>``). It must not
            hold an experiment already unless ``resume`` is set.
        backend: ``inprocess``, ``processes`` or ``dask`` (default: the spec's; ``dask``
            when a scheduler is given).
        workers: Worker processes (default: the spec's, else the machine's CPUs).
        scheduler: Address or scheduler file of a running Dask scheduler.
        resume: Finish an interrupted experiment in ``out``: finished runs are kept, the
            others run; refused if the spec or its inputs changed.
        retry_failed: With ``resume``, also redo the runs recorded as failed.
        progress: Progress bar (None: only when standard error is a terminal).
        connect_timeout: Seconds to wait for a Dask scheduler (default: the spec's, 10 s).

    Returns:
        One row per run: run_id, point, replicate, base, seed, each lever, each metric,
        status (ok/failed), error, wall_seconds, worker, traceback.

    Raises:
        InputError: The spec, its scenarios or maps are invalid, the folder holds another
            experiment, or the scheduler does not answer.
    """
    plan, out_path, be = prepare(spec_or_path, out, backend, workers, scheduler, resume, connect_timeout)
    show = sys.stderr.isatty() if progress is None else progress
    with be:
        return execute(plan, out_path, be, resume=resume, retry_failed=retry_failed, progress=show)


def prepare(
    spec_or_path: str | Path | ExperimentSpec | dict[str, Any],
    out: str | Path | None = None,
    backend: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    connect_timeout: float | None = None,
) -> tuple[RunPlan, Path, Backend]:
    """Validate everything an experiment needs before any worker starts.

    Returns:
        The plan, the output folder and the (not yet entered) backend.

    Raises:
        InputError: See :func:`run_experiment`.
    """
    spec = _load(spec_or_path)
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1 (got {workers})", source="command line", location="--workers")
    if connect_timeout is not None and connect_timeout <= 0:
        raise InputError("--connect-timeout must be positive", source="command line", location="--connect-timeout")
    plan = build_plan(spec)
    out_path = Path(out) if out is not None else default_out(spec)
    target_state(out_path, resume)  # refuse early, before starting any workers
    name = backend or ("dask" if scheduler else spec.backend)
    if scheduler is None and name == "dask":
        scheduler = spec.scheduler
    be = make_backend(name, workers or spec.workers, scheduler, connect_timeout or spec.connect_timeout)
    return plan, out_path, be
