"""`countysim run`'s figures, drawn by two worker processes started when the command starts.

Why (issue 17): drawn one after another after the model, the five figures of a run took
about 4 s on one core, plus 0.4 s to import matplotlib, next to a 4 s model. Here two
worker processes are started before the model runs; each imports the plotting modules on
the machine's other core while this process builds and runs the model. After the run
each worker is sent the end-of-run map record (:class:`~experiments.report.map_data.MapData`,
a few hundred kB instead of the model) and the weekly series, and draws its half of the
figures into the staged run folder while this process writes the tables. This process
never imports matplotlib.

The run folder stays all-or-nothing: :func:`experiments.run.single.run_to_folder` renames
it into place only after both workers have reported back. An error while drawing is raised
again here (with the worker's traceback as a note), a worker that dies is reported with its
exit code, and in both cases the other worker is stopped and no folder is left. The workers
ignore Ctrl-C; this process stops them. On a machine with one core the figures are drawn in
this process instead, since workers would only add their start-up.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from experiments.report.map_data import map_data
from experiments.run.single import DrawFigures

#: The figures (names of ``experiments.report.run_plots.RUN_FIGURES``) of each worker: two
#: groups of about equal drawing time. Seconds to draw and write PNG + SVG for the median
#: county: targets 1.3 and channel_shares 0.35; county_map 0.55, logistics_map 0.45 and
#: farm_sales 0.5.
GROUPS: tuple[tuple[str, ...], ...] = (("targets", "channel_shares"), ("county_map", "logistics_map", "farm_sales"))


def _serve(conn: Connection) -> None:
    """A worker: import the plotting modules, then draw the one job it is sent, if any."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    # matplotlib is slow to import: the workers load it while the parent runs the model
    from experiments.report.run_plots import draw_figures

    try:
        job = conn.recv()
    except EOFError:  # the parent needs no figures after all (its run failed), or is gone
        return
    try:
        conn.send(("ok", draw_figures(*job)))
    except BaseException as err:
        trace = traceback.format_exc()
        try:
            conn.send(("error", err, trace))
        except Exception:  # the error itself does not pickle: send its text
            conn.send(("error", RuntimeError(repr(err)), trace))


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity where the system tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class FigureProcesses:
    """Two figure workers, started now; :meth:`draw` hands them a finished run.

    Use as a context manager around the run: leaving it stops any worker still running
    (after a failed run, a worker was never sent anything).
    """

    def __init__(self, groups: Sequence[tuple[str, ...]] = GROUPS):
        # spawn, never fork: a fork of this process would copy the model being built, and
        # forking a process with threads can deadlock the child
        ctx = mp.get_context("spawn")
        self.groups = tuple(groups)
        self._workers: list[tuple[Any, Connection]] = []
        for _ in self.groups:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(theirs,), daemon=True, name="countysim-figures")
            proc.start()
            theirs.close()
            self._workers.append((proc, ours))
        #: The worker processes, in the order of ``groups``.
        self.processes = tuple(proc for proc, _ in self._workers)

    def __enter__(self) -> FigureProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def draw(self, model: Any, ts: Any, folder: Path) -> Callable[[], list[Path]]:
        """Send each worker the run and its share of the figures; returns :meth:`wait`."""
        data = map_data(model)
        for (_, conn), names in zip(self._workers, self.groups, strict=True):
            with contextlib.suppress(BrokenPipeError):  # a dead worker is reported by wait
                conn.send((names, data, ts, folder))
        return self.wait

    def wait(self) -> list[Path]:
        """The files the workers wrote, once both are done; re-raises a worker's error.

        On any failure (or Ctrl-C while waiting) every worker is stopped before this
        raises, so nothing is written into the folder after it.
        """
        try:
            return [path for proc, conn in self._workers for path in _result(proc, conn)]
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the workers (those that reported back are already done) and reap them."""
        for proc, conn in self._workers:
            if proc.is_alive():
                proc.terminate()
            proc.join()
            conn.close()
        self._workers = []


def _result(proc: Any, conn: Connection) -> list[Path]:
    """One worker's answer: its files, or its error raised here."""
    wait([conn, proc.sentinel])
    try:
        status, *answer = conn.recv()  # what it sent before it stopped, if anything
    except EOFError:
        proc.join()
        raise RuntimeError(
            f"a figure worker process stopped with exit code {proc.exitcode} before it finished "
            "(its own error, if any, is printed above); the run folder was not written"
        ) from None
    if status == "ok":
        return answer[0]
    err, trace = answer
    err.add_note(f"raised while drawing figures in a worker process:\n{trace}")
    raise err


def draw_here(model: Any, ts: Any, folder: Path) -> Callable[[], list[Path]]:
    """Draw every figure in this process (one core: workers would only add their start-up)."""
    # matplotlib is slow to import: only runs that draw here load it
    from experiments.report.run_plots import run_figures

    paths = run_figures(model, ts, folder)
    return lambda: paths


@contextlib.contextmanager
def figure_drawer() -> Iterator[DrawFigures]:
    """What draws a run's figures: worker processes started now (two cores or more), or this process."""
    if usable_cores() < 2:
        yield draw_here
        return
    with FigureProcesses() as workers:
        yield workers.draw
