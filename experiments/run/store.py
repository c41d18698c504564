"""Experiment results on disk: a folder of Parquet parts, a consolidated table and a manifest.

Layout of an experiment folder::

    manifest.json              resolved spec, input file hashes, versions, git commit, seed tree, sessions
    design.parquet             design points: lever values (and unit coordinates of sampling designs)
    runs/part-000017.parquet   one row per finished run, written atomically as the run finishes
    runs.parquet               all rows so far, consolidated from the parts (at the end, and every
                               few hundred runs so the folder does not fill with small files)
    timeseries/part-000017.parquet   the run's weekly series, when the spec keeps them
    .lock                      held while a process writes the experiment

A part's presence proves its run finished (parts are renamed into place complete), so a
killed experiment loses at most the runs in flight, and ``--resume`` redoes exactly the
runs without a row. A row that appears both in ``runs.parquet`` and as a part (a kill
between consolidating and removing parts, or a retried failed run) is read from the part.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from experiments.run import atomic
from sim.errors import InputError

MANIFEST, DESIGN, RUNS, PARTS, TIMESERIES, LOCK = (
    "manifest.json",
    "design.parquet",
    "runs.parquet",
    "runs",
    "timeseries",
    ".lock",
)

#: Consolidate parts into runs.parquet after this many new parts.
CONSOLIDATE_EVERY = 500


def part_name(run_id: int) -> str:
    return f"part-{run_id:06d}.parquet"


def _parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _part_ids(folder: Path) -> dict[int, Path]:
    out = {}
    for p in folder.glob("part-*.parquet"):
        with contextlib.suppress(ValueError):
            out[int(p.name[5:-8])] = p
    return out


def _is_temporary(name: str) -> bool:
    """Whether a name is one of atomic's hidden temporaries (never read as output)."""
    return name.startswith(".") and (name.endswith(".tmp") or ".staging." in name)


def _empty_dir(path: Path) -> bool:
    """A folder holding nothing but hidden temporaries (created before the first run finished)."""
    return path.is_dir() and all(_is_temporary(q.name) for q in path.iterdir())


def target_state(folder: Path, resume: bool) -> Literal["new", "resume"]:
    """Decide whether ``folder`` starts a new experiment or resumes one, or refuse.

    Raises:
        InputError: The folder holds an experiment and ``resume`` is false, or holds
            something that is not an experiment, or is a file.
    """
    if not folder.exists():
        parent = folder.parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(
                f"cannot create the experiment folder: {parent} is not a writable folder",
                source=folder,
                location="--out",
            )
        return "new"
    if not folder.is_dir():
        raise InputError("exists and is not a folder; give a folder path for --out", source=folder, location="--out")
    # a kill during the very first write leaves only hidden temporaries: still a new folder
    entries = [p.name for p in folder.iterdir() if p.name != LOCK and not _is_temporary(p.name) and not _empty_dir(p)]
    if not entries:
        return "new"
    if MANIFEST not in entries:
        raise InputError(
            "is not empty and holds no experiment (no manifest.json); choose another --out",
            source=folder,
            location="--out",
        )
    if not resume:
        raise InputError(
            "already holds an experiment; pass --resume to finish it, or choose another --out",
            source=folder,
            location="--out",
        )
    return "resume"


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The experiment's manifest."""
    p = Path(folder) / MANIFEST
    if not p.is_file():
        raise InputError("holds no experiment (no manifest.json)", source=folder)
    return json.loads(p.read_text(encoding="utf-8"))


class ExperimentStore:
    """Writes one experiment's folder; one writer at a time (an exclusive lock on ``.lock``).

    Args:
        folder: The experiment folder.
        schema: The runs table's Arrow schema.
    """

    def __init__(self, folder: str | Path, schema: pa.Schema):
        self.folder = Path(folder)
        self.schema = schema
        self._lock_fd: int | None = None
        self._since_consolidation = 0

    # --- lifecycle -------------------------------------------------------------------

    def open(self) -> None:
        """Create the folder if needed and take the writer's lock."""
        (self.folder / PARTS).mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise InputError(
                f"another countysim process (pid {other}) is writing this experiment; wait for it or stop it",
                source=self.folder,
                location="--out",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd
        # a writer killed mid-write leaves its hidden temporary file; with the lock held, none is live
        for sub in (self.folder, self.folder / PARTS, self.folder / TIMESERIES):
            for stale in sub.glob(".*.tmp") if sub.is_dir() else ():
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()

    def close(self) -> None:
        """Release the lock."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> ExperimentStore:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        atomic.write_json(self.folder / MANIFEST, manifest)

    def write_design(self, table: pa.Table) -> None:
        atomic.write_bytes(self.folder / DESIGN, _parquet_bytes(table))

    def write_run(self, row: dict[str, Any], timeseries: pd.DataFrame | None = None) -> None:
        """Record one finished run (its series first, so a present row implies its series)."""
        run_id = int(row["run_id"])
        if timeseries is not None:
            ts = timeseries.copy()
            ts.insert(0, "run_id", run_id)
            atomic.write_bytes(
                self.folder / TIMESERIES / part_name(run_id),
                _parquet_bytes(pa.Table.from_pandas(ts, preserve_index=False)),
            )
        table = pa.Table.from_pylist([row], schema=self.schema)
        atomic.write_bytes(self.folder / PARTS / part_name(run_id), _parquet_bytes(table))
        self._since_consolidation += 1
        if self._since_consolidation >= CONSOLIDATE_EVERY:
            self.consolidate()

    def consolidate(self) -> None:
        """Fold the parts into runs.parquet (atomically), then remove the parts it holds."""
        parts = _part_ids(self.folder / PARTS)
        self._since_consolidation = 0
        if not parts and (self.folder / RUNS).exists():
            return
        table = _read_table(self.folder, self.schema)
        atomic.write_bytes(self.folder / RUNS, _parquet_bytes(table))
        for p in parts.values():
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    # --- reading ---------------------------------------------------------------------

    def finished(self, include_failed: bool = True) -> set[int]:
        """Run ids that have a row (only the successful ones when ``include_failed`` is false)."""
        table = _read_table(self.folder, self.schema, columns=["run_id", "status"])
        ids = table.column("run_id").to_pylist()
        if include_failed:
            return set(ids)
        return {i for i, s in zip(ids, table.column("status").to_pylist(), strict=True) if s == "ok"}


def _read_table(folder: Path, schema: pa.Schema | None = None, columns: list[str] | None = None) -> pa.Table:
    """runs.parquet plus the parts, a part replacing a consolidated row of the same run, sorted by run id."""
    for attempt in range(3):
        try:
            return _read_table_once(folder, schema, columns)
        except FileNotFoundError:
            # a writer consolidated between our listing and our read: list again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _read_table_once(folder: Path, schema: pa.Schema | None, columns: list[str] | None) -> pa.Table:
    parts = sorted(_part_ids(folder / PARTS).values())
    consolidated = folder / RUNS
    if schema is None:
        first = consolidated if consolidated.exists() else (parts[0] if parts else None)
        if first is None:
            raise InputError("holds no finished runs yet", source=folder)
        schema = pq.read_schema(first)
    cols = columns if columns is not None else schema.names
    sub = pa.schema([schema.field(c) for c in cols])
    tables = []
    part_table = (
        ds.dataset([str(p) for p in parts], schema=schema, format="parquet").to_table(columns=cols)
        if parts
        else sub.empty_table()
    )
    if consolidated.exists():
        old = pq.read_table(consolidated, columns=cols, schema=schema)
        if part_table.num_rows:
            keep = pc.invert(pc.is_in(old.column("run_id"), value_set=part_table.column("run_id")))
            old = old.filter(keep)
        tables.append(old)
    tables.append(part_table)
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    return table.sort_by("run_id") if table.num_rows else table


def read_runs(folder: str | Path) -> pd.DataFrame:
    """The runs table of an experiment folder (finished runs so far, sorted by run id)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("is not an experiment folder", source=folder)
    return _read_table(folder).to_pandas()


def read_timeseries(folder: str | Path, run_ids: list[int] | None = None) -> pd.DataFrame:
    """The kept weekly series of an experiment, one block of rows per run (``run_id`` column).

    Args:
        folder: The experiment folder.
        run_ids: Only these runs (default: every run with a kept series).
    """
    folder = Path(folder) / TIMESERIES
    parts = _part_ids(folder) if folder.is_dir() else {}
    if run_ids is not None:
        missing = sorted(set(run_ids) - set(parts))
        if missing:
            raise InputError(f"no time series kept for run(s) {missing[:10]}", source=folder)
        parts = {i: parts[i] for i in run_ids}
    if not parts:
        raise InputError("holds no time series (set keep_timeseries: true in the spec)", source=folder)
    return pd.concat([pd.read_parquet(parts[i]) for i in sorted(parts)], ignore_index=True)
