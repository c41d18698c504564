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

The workers are plain subprocesses (``python -c``) talking pickle over their standard input
and a copy of their standard output, not ``multiprocessing`` processes: those re-import the
parent's main module, which breaks a script that calls ``main([...])`` without an
``if __name__ == "__main__"`` guard, and they would load whatever that script loads.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from experiments.report.map_data import map_data
from experiments.run.single import DrawFigures

#: The figures (names of ``experiments.report.run_plots.RUN_FIGURES``) of each worker: two
#: groups of about equal drawing time. CPU seconds to draw and write PNG + SVG for the median
#: county (2 cores under load): targets 0.8 and county_map 0.45; logistics_map 0.4,
#: farm_sales 0.6 and channel_shares 0.4.
GROUPS: tuple[tuple[str, ...], ...] = (("targets", "county_map"), ("logistics_map", "farm_sales", "channel_shares"))

#: The folder holding the ``experiments`` package, first on a worker's path so that it draws
#: with the same code as this process.
CODE_ROOT = Path(__file__).resolve().parents[2]


def serve() -> None:
    """A worker's main: import the plotting modules, draw the one job read from standard
    input (if any) and answer with a pickled ``("ok", paths)`` or ``("error", exception, traceback)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed goes to stderr, not into the answer
    # matplotlib is slow to import: the workers load it while the parent runs the model
    from experiments.report.run_plots import draw_figures

    try:
        job = pickle.load(sys.stdin.buffer)
    except EOFError:  # the parent needs no figures after all (its run failed), or is gone
        return
    try:
        answer = pickle.dumps(("ok", draw_figures(*job)))
    except BaseException as err:
        trace = traceback.format_exc()
        try:
            answer = pickle.dumps(("error", err, trace))
        except Exception:  # the error itself does not pickle: send its text
            answer = pickle.dumps(("error", RuntimeError(repr(err)), trace))
    answers.write(answer)
    answers.flush()


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity where the system tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class FigureProcesses:
    """Two figure workers, started now; :meth:`draw` hands them a finished run.

    Use as a context manager around the run: leaving it stops any worker still running
    (after a failed run, a worker was never sent anything).
    """

    def __init__(self, groups: Sequence[tuple[str, ...]] = GROUPS):
        self.groups = tuple(groups)
        path = os.pathsep.join([str(CODE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
        command = [sys.executable, "-c", "from experiments.cli.figures import serve; serve()"]
        #: The worker processes, in the order of ``groups``.
        self.processes = tuple(
            subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path}
            )
            for _ in self.groups
        )

    def __enter__(self) -> FigureProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def draw(self, model: Any, ts: Any, folder: Path) -> Callable[[], list[Path]]:
        """Send each worker the run and its share of the figures; returns :meth:`wait`."""
        data = map_data(model)
        for proc, names in zip(self.processes, self.groups, strict=True):
            with contextlib.suppress(BrokenPipeError):  # a dead worker is reported by wait
                proc.stdin.write(pickle.dumps((names, data, ts, folder)))
                proc.stdin.close()
        return self.wait

    def wait(self) -> list[Path]:
        """The files the workers wrote, once both are done; re-raises a worker's error.

        On any failure (or Ctrl-C while waiting) every worker is stopped before this
        raises, so nothing is written into the folder after it.
        """
        try:
            return [path for proc in self.processes for path in _answer(proc)]
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the workers (those that answered are done) and reap them."""
        for proc in self.processes:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()


def _answer(proc: subprocess.Popen) -> list[Path]:
    """One worker's answer: its files, or its error raised here."""
    try:
        status, *answer = pickle.load(proc.stdout)
    except (EOFError, pickle.UnpicklingError):  # it stopped before answering
        raise RuntimeError(
            f"a figure worker process stopped with exit code {proc.wait()} before it finished "
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
