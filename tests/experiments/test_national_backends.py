"""A national ensemble gives the same runs table, bit for bit, on every backend.

The full national ensemble is meant for a Dask cluster (``--scheduler``), so its runs
must not depend on where they execute: a subset (four small counties of two strata, in
the ensemble mode, a few months) is run in this process, on two local worker processes
and on a two-worker Dask LocalCluster joined by its address, as ``--scheduler`` joins a
cluster, and the tables and the national indicators are compared exactly.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from experiments.national.ensemble import national_indicators
from experiments.run.backends import DaskBackend, worker_name
from experiments.run.runner import run_experiment
from experiments.spec.ensemble import counties, parse_ensemble
from experiments.spec.experiment import spec_from_dict
from experiments.spec.plan import RunOutcome
from tests.helpers import RESULT_COLUMNS_EXCLUDED

ROOT = Path(__file__).resolve().parents[2]

#: Two strata of small counties (4 and 3 units): two counties simulated from each.
TYPOLOGY = """stratum,region,map_region,size,county_units,logistics_center_share
e,east,east_plain,small,4,0.8
w,west,west_mountain,small,3,0.3
"""


def _spec(tmp_path: Path) -> object:
    typ = tmp_path / "typ.csv"
    typ.write_text(TYPOLOGY)
    ens = {
        "typology": str(typ),
        "scenario": str(ROOT / "configs" / "scenarios" / "plan.yaml"),
        "national_count": None,
        "sample": "stratified",
        "per_stratum": 2,
        "seed": 11,
        "years": [2023, 2023],
        "fidelity": "screening",
        "overrides": {
            "timeline.start": "2023-09-04",
            "timeline.end": "2023-12-31",
            "outputs.figures": False,
            "outputs.progress": "off",
        },
        "development": {"logistics.cold_storage_at_start": {"above": 0.5, "value": True}},
    }
    return spec_from_dict({"name": "nat_backends", "ensemble": ens, "design": "list", "replicates": 2, "seed": 3})


@pytest.mark.slow
def test_national_ensemble_is_bit_identical_on_serial_process_and_dask_backends(tmp_path: Path) -> None:
    from distributed import LocalCluster

    spec = _spec(tmp_path)
    cs = counties(parse_ensemble(spec.ensemble, "t"))
    weights, strata = {c.label: c.weight for c in cs}, {c.label: c.stratum for c in cs}
    tables: dict[str, pd.DataFrame] = {}
    tables["inprocess"] = run_experiment(spec, tmp_path / "inprocess", backend="inprocess", progress=False)
    tables["processes-2"] = run_experiment(spec, tmp_path / "processes", backend="processes", workers=2, progress=False)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR
    ) as cluster:
        tables["dask-2"] = run_experiment(spec, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    expected = tables["inprocess"]
    assert len(expected) == 8 and (expected["status"] == "ok").all()
    assert expected["base"].nunique() == 4 and expected["seed"].nunique() == 2
    national = national_indicators(expected, weights, strata)
    assert national["indicator"].nunique() > 5 and national["mean"].notna().all()
    for name, table in tables.items():
        got = table.drop(columns=RESULT_COLUMNS_EXCLUDED).sort_values("run_id").reset_index(drop=True)
        want = expected.drop(columns=RESULT_COLUMNS_EXCLUDED).sort_values("run_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=name)
        pd.testing.assert_frame_equal(national_indicators(table, weights, strata), national, check_exact=True, obj=name)
    assert tables["dask-2"]["worker"].nunique() == 2  # both Dask workers ran counties


def _sleepy_run(job: SimpleNamespace) -> RunOutcome:
    """A stand-in run that only takes time, and says when it ran."""
    start = time.time()
    time.sleep(0.4)
    return RunOutcome(job.run_id, "ok", {"start": start, "end": time.time()}, worker=worker_name())


@pytest.mark.slow
def test_dask_keeps_workers_that_join_late_busy() -> None:
    """On a batch-queue cluster workers join one job at a time, after the experiment has
    connected: the runs in flight must follow the workers present, not those at the start."""
    from distributed import LocalCluster

    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        ) as cluster,
        DaskBackend(scheduler=cluster.scheduler_address) as backend,
    ):
        assert backend.workers == 1 and backend.window() == 2
        cluster.scale(3)
        backend.client.wait_for_workers(3, timeout=60)
        backend.WINDOW_REFRESH_S = 0.0  # ask the scheduler at once instead of within 2 s
        outcomes = list(backend.run(_sleepy_run, [SimpleNamespace(run_id=i) for i in range(12)]))
    assert sorted(o.run_id for o in outcomes) == list(range(12)) and all(o.status == "ok" for o in outcomes)
    spans = [(o.metrics["start"], o.metrics["end"]) for o in outcomes]
    most_at_once = max(sum(s <= t < e for s, e in spans) for t, _ in spans)
    assert most_at_once == 3, f"at most {most_at_once} runs ran at once on 3 workers"
