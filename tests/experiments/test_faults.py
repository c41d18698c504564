"""Fault injection: an experiment killed at many points, including mid-write, or hitting a
full disk, resumes to exactly the table an uninterrupted experiment gives.

Each case runs the experiment in a subprocess (tests/experiments/fault_driver.py) that dies at its
K-th atomic write — before it, half-way through the temporary file, or just after the
rename — or whose K-th write fails with ENOSPC. The store must stay readable, nothing
half-written may be read as a run, and ``--resume`` must finish the experiment without
redoing or duplicating a run.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments import run_experiment
from experiments.run.store import read_runs
from tests.helpers import RESULT_COLUMNS_EXCLUDED

ROOT = Path(__file__).resolve().parents[2]
# the tiny grid makes 6 runs and about a dozen atomic writes (manifest, design, 6 parts,
# the consolidated table, the final manifest): eleven kill points cover all of them
POINTS = [(1, "kill-mid"), (2, "kill-before"), (3, "kill-mid"), (4, "kill-after"), (5, "kill-mid"),
          (6, "kill-before"), (7, "kill-mid"), (8, "kill-after"), (9, "kill-mid"), (10, "kill-mid"),
          (11, "kill-after"), (4, "enospc"), (7, "enospc")]  # fmt: skip


def results(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=RESULT_COLUMNS_EXCLUDED).sort_values("run_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def uninterrupted(tiny_spec, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    base = tmp_path_factory.mktemp("faults")
    spec = tiny_spec(base)
    return spec, results(run_experiment(spec, out=base / "clean", progress=False))


@pytest.mark.slow
@pytest.mark.parametrize(("k", "mode"), POINTS, ids=[f"write{k}-{m}" for k, m in POINTS])
def test_fault_then_resume_gives_the_uninterrupted_table(uninterrupted, tmp_path, k, mode):
    spec, expected = uninterrupted
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "experiments" / "fault_driver.py"), str(spec), str(out), str(k), mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if mode.startswith("kill"):
        assert proc.returncode == -signal.SIGKILL, proc.stderr
    else:  # a full disk is reported in one paragraph, not a traceback
        assert proc.returncode == 74, proc.stderr
        assert "No space left on device" in proc.stderr and "--resume" in proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
    # whatever was finished is readable, and nothing half-written reads as a run
    if list((out / "runs").glob("part-*.parquet")) if (out / "runs").exists() else []:
        done = read_runs(out)
        assert done["run_id"].is_unique
        assert len(done) <= len(expected)
    table = (
        run_experiment(spec, out=out, resume=True, progress=False)
        if out.exists()
        else run_experiment(spec, out=out, progress=False)
    )
    pd.testing.assert_frame_equal(results(table), expected, check_exact=True)
    assert not list(out.rglob("*.tmp")), "resuming clears the temporaries a kill left"
