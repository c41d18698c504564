"""Speed and memory benchmarks (``make bench``); see docs/PERFORMANCE.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from experiments.run import atomic, provenance


def write_results(path: str | Path, **payload: Any) -> None:
    """Write a benchmark's results as JSON, atomically, with the machine, git commit and
    package versions they were measured on (numbers without them cannot be compared)."""
    atomic.write_json(
        path,
        {
            "machine": provenance.machine(),
            "git_commit": provenance.git_commit(),
            "versions": provenance.package_versions(),
            **payload,
        },
    )
