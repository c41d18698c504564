"""One BLAS thread for the analyses' many tiny fits (sensitivity, attainment, PRIM)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from threadpoolctl import threadpool_limits


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run tiny linear algebra on one BLAS thread.

    The estimators here make thousands of very small BLAS calls (a kernel density per
    class and resample in delta, a logistic fit per bootstrap resample); waking a pool of
    BLAS threads for each costs far more than the work itself, up to a hundredfold on a
    busy two-core machine.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield
