"""Where runs execute: in this process, in local worker processes, or on a Dask cluster.

Every backend takes jobs and yields their outcomes as they finish, in whatever order
they finish. None of them decides anything about a run's numbers (scenario and seed are
fixed in the plan), so all give the same table; they differ only in speed and reach.

- ``inprocess``: one run after another in this process. No start-up cost; the reference.
- ``processes``: a ``ProcessPoolExecutor`` whose workers start with ``forkserver`` (or
  ``spawn`` where there is none), never ``fork``: forking a process that has threads (a
  Jupyter kernel, a Dask client, tqdm's monitor) can deadlock the child, and that is
  the classic hang of sweeps run from notebooks. A worker that dies (out of memory, a
  segfault) breaks the pool; the runs that were in flight are rerun one at a time in a
  fresh pool, and a run that kills its worker alone is recorded as failed, so one bad
  run can neither stop a sweep nor take innocent runs down with it.
- ``dask``: a ``distributed`` LocalCluster of single-threaded worker processes by
  default, or a running scheduler (``--scheduler tcp://host:8786`` or a scheduler file,
  e.g. one started by dask-jobqueue on an HPC cluster). An address that does not answer
  is an input error after ``connect_timeout`` seconds, not a hang.

At most ``2 × workers`` runs are in flight at once (on Dask, the workers present at the
moment, as a batch-queue cluster grows), so memory stays flat for any experiment size
and a killed experiment loses only those runs.
"""

from __future__ import annotations

import abc
import logging
import multiprocessing as mp
import os
import socket
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from experiments.spec.plan import Job, RunOutcome
from sim.errors import InputError

RunFn = Callable[[Job], RunOutcome]


def default_workers() -> int:
    """Worker count when none is given: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _describe_exception(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


class Backend(abc.ABC):
    """Base class: a context manager that maps a run function over jobs, unordered."""

    name = "base"

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:  # noqa: B027 - a no-op by default: only some backends hold resources
        """Release workers and connections."""

    def describe(self) -> dict[str, Any]:
        """What the manifest records about where the runs executed."""
        return {"backend": self.name, "workers": self.workers}

    @abc.abstractmethod
    def run(self, fn: RunFn, jobs: Iterable[Job]) -> Iterator[RunOutcome]:
        """Run ``fn`` on every job, yielding outcomes as they finish."""


class InProcessBackend(Backend):
    """One run after another in this process."""

    name = "inprocess"

    def __init__(self, workers: int | None = None):
        super().__init__(1)

    def run(self, fn: RunFn, jobs: Iterable[Job]) -> Iterator[RunOutcome]:
        for job in jobs:
            yield fn(job)


# --- local processes ---------------------------------------------------------------


def _watch_parent(parent_pid: int) -> None:
    """Exit when the experiment's process is gone (e.g. killed with SIGKILL), instead of lingering."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # the pid was reused by another user's process
            os._exit(1)


def _init_worker(parent_pid: int) -> None:
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="countysim-parent-watch").start()


def start_method() -> str:
    """The multiprocessing start method for worker processes (never fork; see the module docstring)."""
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


class ProcessesBackend(Backend):
    """Local worker processes (``concurrent.futures``), started with forkserver or spawn."""

    name = "processes"

    def __init__(self, workers: int | None = None, method: str | None = None):
        super().__init__(workers)
        self.method = method or start_method()
        self._pool: Any = None

    def _new_pool(self) -> Any:
        ctx = mp.get_context(self.method)
        if self.method == "forkserver":
            # import the model once in the fork server; workers then start in milliseconds
            ctx.set_forkserver_preload(["experiments.run.runner"])
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx, initializer=_init_worker, initargs=(os.getpid(),)
        )

    def __enter__(self) -> ProcessesBackend:
        self._pool = self._new_pool()
        return self

    def close(self) -> None:
        if self._pool is not None:
            self._shutdown(self._pool, wait=True)
            self._pool = None

    @staticmethod
    def _shutdown(pool: Any, wait: bool) -> None:
        pool.shutdown(wait=wait, cancel_futures=True)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "start_method": self.method}

    def run(self, fn: RunFn, jobs: Iterable[Job]) -> Iterator[RunOutcome]:
        if self._pool is None:
            self._pool = self._new_pool()
        source = iter(jobs)
        suspects: deque[Job] = deque()  # in flight when a worker died: rerun one at a time
        pending: dict[Any, Job] = {}
        alone = False  # whether the single pending job is a suspect running by itself
        window = 2 * self.workers
        try:
            while True:
                if suspects:
                    if not pending:
                        job = suspects.popleft()
                        pending[self._pool.submit(fn, job)] = job
                        alone = True
                else:
                    while len(pending) < window and (job := next(source, None)) is not None:
                        pending[self._pool.submit(fn, job)] = job
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    job = pending.pop(fut)
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        broken = True
                        if alone:  # it broke a pool by itself: this run kills its worker
                            yield RunOutcome.failed(
                                job.run_id,
                                "the worker process died while running this run (alone in its pool): "
                                "out of memory, or a crash in native code?",
                            )
                        else:
                            suspects.append(job)
                    except Exception as exc:  # e.g. a job that cannot be pickled
                        yield RunOutcome.failed(job.run_id, _describe_exception(exc), traceback.format_exc())
                alone = False
                if broken:
                    for fut, job in pending.items():
                        if fut.done() and not fut.cancelled() and fut.exception() is None:
                            yield fut.result()
                        else:
                            suspects.append(job)
                    pending.clear()
                    self._shutdown(self._pool, wait=False)
                    self._pool = self._new_pool()
        finally:
            if pending:  # interrupted (KeyboardInterrupt, generator closed): stop the workers now
                self._kill_workers()

    def _kill_workers(self) -> None:
        pool = self._pool
        if pool is None:
            return
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        self._shutdown(pool, wait=False)
        self._pool = None


# --- Dask distributed ----------------------------------------------------------------


class DaskBackend(Backend):
    """A Dask distributed cluster: a LocalCluster by default, or a running scheduler.

    Args:
        workers: Workers of the LocalCluster (ignored with ``scheduler``).
        scheduler: ``tcp://host:port`` of a running scheduler, or the path of a scheduler file.
        connect_timeout: Seconds to wait for the scheduler (and for its first worker).
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None, connect_timeout: float = 10.0):
        super().__init__(workers)
        self.scheduler = scheduler
        self.connect_timeout = connect_timeout
        self.client: Any = None
        self.cluster: Any = None
        self._present = 0  # workers the scheduler had when last asked
        self._counted_at = -float("inf")

    def __enter__(self) -> DaskBackend:
        # distributed: heavy to import (~0.5 s), and only Dask runs need it
        from distributed import Client, LocalCluster

        if self.scheduler:
            self.client = self._connect(Client)
            self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        else:
            self.cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                # no dashboard, and its HTTP server on a free local port, never a fixed public one
                dashboard_address="127.0.0.1:0",
                scheduler_kwargs={"dashboard": False},
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster, set_as_default=False)
        return self

    def _connect(self, client_cls: Any) -> Any:
        address = self.scheduler
        assert address is not None
        kwargs: dict[str, Any] = {"timeout": self.connect_timeout, "set_as_default": False}
        if Path(address).is_file():
            kwargs["scheduler_file"] = address
        else:
            kwargs["address"] = address
        try:
            client = client_cls(**kwargs)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"no Dask scheduler answered at {address} within {self.connect_timeout:g} s ({_describe_exception(exc)}); "
                "check the address (tcp://host:8786) or scheduler file, and that the scheduler is running",
                source="command line",
                location="--scheduler",
            ) from None
        try:
            client.wait_for_workers(1, timeout=self.connect_timeout)
        except (TimeoutError, OSError):
            client.close()
            raise InputError(
                f"the Dask scheduler at {address} has no workers (waited {self.connect_timeout:g} s); start some, "
                "e.g. with dask-jobqueue's cluster.scale(...) or `dask worker {address}`",
                source="command line",
                location="--scheduler",
            ) from None
        return client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "scheduler": self.scheduler or "LocalCluster"}

    #: Seconds between asking the scheduler how many workers it has (a round trip each).
    WINDOW_REFRESH_S = 2.0

    def window(self) -> int:
        """Runs to keep in flight: twice the workers the scheduler has now, never fewer
        than twice ``workers``; the count is asked for at most every ``WINDOW_REFRESH_S``."""
        assert self.client is not None, "use the backend as a context manager"
        now = time.monotonic()
        if now - self._counted_at >= self.WINDOW_REFRESH_S:
            self._present = len(self.client.scheduler_info().get("workers", {}))
            self._counted_at = now
        return 2 * max(self.workers, self._present)

    def run(self, fn: RunFn, jobs: Iterable[Job]) -> Iterator[RunOutcome]:
        from distributed import as_completed  # heavy, Dask runs only (see __enter__)

        assert self.client is not None, "use the backend as a context manager"
        tag = uuid.uuid4().hex[:8]
        source = iter(jobs)
        pending: dict[str, tuple[Job, Any]] = {}
        ac = as_completed(loop=self.client.loop)

        def submit() -> bool:
            job = next(source, None)
            if job is None:
                return False
            fut = self.client.submit(fn, job, key=f"countysim-{tag}-run-{job.run_id}", pure=False)
            pending[fut.key] = (job, fut)
            ac.add(fut)
            return True

        def top_up() -> None:
            # the window follows the workers present now: on a batch-queue cluster
            # (dask-jobqueue) they join one job at a time long after the first
            while len(pending) < self.window() and submit():
                pass

        top_up()
        try:
            for fut in ac:
                job, _ = pending.pop(fut.key)
                try:
                    yield fut.result()
                except Exception as exc:  # KilledWorker, lost connection, unpicklable job
                    yield RunOutcome.failed(job.run_id, _describe_exception(exc), traceback.format_exc())
                finally:
                    fut.release()
                top_up()
        finally:
            if pending:  # interrupted: do not leave runs queued on a shared cluster
                self.client.cancel([f for _, f in pending.values()])


def make_backend(
    name: str, workers: int | None = None, scheduler: str | None = None, connect_timeout: float = 10.0
) -> Backend:
    """The backend called ``name`` (inprocess | processes | dask)."""
    if scheduler and name != "dask":
        raise InputError(
            f"--scheduler needs the dask backend (the backend is {name}); add --backend dask",
            source="command line",
            location="--scheduler",
        )
    if name == "inprocess":
        return InProcessBackend()
    if name == "processes":
        return ProcessesBackend(workers)
    if name == "dask":
        return DaskBackend(workers, scheduler, connect_timeout)
    raise InputError(
        f"unknown backend '{name}'; choose inprocess, processes or dask", source="command line", location="--backend"
    )


def worker_name() -> str:
    """host:pid of the process running a job, recorded with each run."""
    return f"{socket.gethostname()}:{os.getpid()}"
