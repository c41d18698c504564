"""Running experiments: backends agree, the store survives kills, failures are data.

The runs here use tiny settings (small map, five households per agent, eight months):
a fraction of a second a run, so each test runs a real experiment end to end.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from experiments import read_runs, read_timeseries, run_experiment
from experiments.cli.main import main
from experiments.run import store
from experiments.run.backends import DaskBackend, InProcessBackend, ProcessesBackend, start_method
from experiments.run.runner import execute, run_job
from experiments.spec.experiment import load_spec
from experiments.spec.plan import RunOutcome, build_plan
from sim.config import load_scenario
from tests.helpers import RESULT_COLUMNS_EXCLUDED, TINY_GRID_OVERRIDES

ROOT = Path(__file__).absolute().parents[2]
BASELINE = ROOT / "configs" / "scenarios" / "baseline.yaml"


def results(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=RESULT_COLUMNS_EXCLUDED).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tiny_spec, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The tiny grid run in-process, uninterrupted: the table every other execution must match."""
    tmp = tmp_path_factory.mktemp("reference")
    spec = tiny_spec(
        tmp, replicates=2, levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.0, 0.2, 0.4, 0.6, 0.8]}]
    )
    table = run_experiment(spec, out=tmp / "out", backend="inprocess", progress=False)
    return spec, table


# --- one run -------------------------------------------------------------------------------


def test_a_run_in_the_runner_equals_a_direct_model_run(reference: tuple[Path, pd.DataFrame]) -> None:
    """Map caching, seeds and metrics change nothing: row = CountyModel(scenario, seed).run()."""
    spec_path, table = reference
    plan = build_plan(load_spec(spec_path))
    assert (table["status"] == "ok").all() and len(table) == 10
    for run in (plan.runs[0], plan.runs[7]):
        scenario = load_scenario(BASELINE, {**TINY_GRID_OVERRIDES, **plan.points[run.point].values})
        direct = sim.CountyModel(scenario, seed=run.seed).run(progress=False)
        row = table.set_index("run_id").loc[run.run_id]
        assert row["seed"] == run.seed
        for name in ("store_village_coverage", "newtype_store_share", "subsidy_spent"):
            assert row[name] == direct.summary[name]
        ts = direct.timeseries
        assert row["online_share.mean_2024"] == ts.loc[ts["date"].dt.year == 2024, "online_share"].mean()


def test_common_random_numbers_make_replicates_share_draws(reference: tuple[Path, pd.DataFrame]) -> None:
    _, table = reference
    assert table.groupby("replicate")["seed"].nunique().eq(1).all()
    assert table["seed"].nunique() == 2
    # the replicates' own noise is visible: same point, different seed, different outcome
    wide = table.pivot(index="point", columns="replicate", values="newtype_store_share")
    assert (wide[0] != wide[1]).any()


# --- backends agree -------------------------------------------------------------------------------


@pytest.mark.slow
def test_inprocess_processes_and_dask_give_identical_tables(
    reference: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    from distributed import LocalCluster

    spec_path, expected = reference
    plan = build_plan(load_spec(spec_path))
    shuffled = list(plan.runs)
    random.Random(4).shuffle(shuffled)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR
    ) as cluster:
        backends = [
            ("inprocess-reversed", InProcessBackend(), list(reversed(plan.runs))),
            ("processes-1", ProcessesBackend(1), shuffled),
            ("processes-2", ProcessesBackend(2), shuffled),
            # a running cluster joined by address (as with --scheduler), one worker
            ("dask-scheduler-1", DaskBackend(scheduler=cluster.scheduler_address), plan.runs),
            ("dask-2", DaskBackend(2), shuffled),
        ]
        for name, backend, order in backends:
            with backend:
                table = execute(plan, tmp_path / name, backend, runs=order)
            pd.testing.assert_frame_equal(results(table), results(expected), check_exact=True, obj=name)
            assert table["worker"].nunique() == backend.workers, f"{name}: every worker should have run something"


def test_worker_processes_never_fork() -> None:
    assert start_method() in ("forkserver", "spawn")


# --- failures are data --------------------------------------------------------------------------------


def test_a_run_that_raises_is_recorded_and_the_others_complete(
    tiny_spec, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a small map has 4 townships: 2 villages cannot be shared among them, which only the
    # map generator finds out, inside the run
    spec = tiny_spec(tmp_path, levers=[{"path": "map.n_villages", "values": [None, 2, 40]}], replicates=1)
    assert main(["experiment", str(spec), "--out", str(tmp_path / "out"), "--progress", "off"]) == 0
    captured = capsys.readouterr()
    assert "2 ok, 1 failed of 3 runs" in captured.out
    assert "villages cannot be shared among 4 townships" in captured.err
    table = read_runs(tmp_path / "out")
    assert table["status"].tolist() == ["ok", "failed", "ok"]
    bad = table.iloc[1]
    assert bad["error"].startswith("InputError:") and "Traceback" in bad["traceback"]
    assert np.isnan(bad["store_village_coverage"]) and pd.isna(bad["newtype_store_share.first_reaching_0.25"])
    assert table.loc[[0, 2], "store_village_coverage"].notna().all()
    manifest = store.read_manifest(tmp_path / "out")
    assert manifest["status"] == "complete" and manifest["counts"] == {"ok": 2, "failed": 1}
    # failed runs count as finished on --resume; --retry-failed redoes them (without duplicating rows)
    assert main(["experiment", str(spec), "--out", str(tmp_path / "out"), "--resume", "--progress", "off"]) == 0
    assert store.read_manifest(tmp_path / "out")["sessions"][-1]["runs_to_do"] == 0
    assert (
        main(
            ["experiment", str(spec), "--out", str(tmp_path / "out"), "--resume", "--retry-failed", "--progress", "off"]
        )
        == 0
    )
    assert store.read_manifest(tmp_path / "out")["sessions"][-1]["runs_to_do"] == 1
    assert read_runs(tmp_path / "out")["run_id"].tolist() == [0, 1, 2]


def _exit_on_run_one(job):
    if job.run_id == 1:
        os._exit(1)
    return run_job(job)


@pytest.mark.slow
def test_a_dying_worker_fails_only_its_run(tiny_spec, tmp_path: Path) -> None:
    plan = build_plan(load_spec(tiny_spec(tmp_path)))
    with ProcessesBackend(2) as backend:
        outcomes: list[RunOutcome] = list(backend.run(_exit_on_run_one, (plan.job(r) for r in plan.runs)))
    by_id = {o.run_id: o for o in outcomes}
    assert sorted(by_id) == [r.run_id for r in plan.runs] and len(outcomes) == len(plan.runs)
    assert by_id[1].status == "failed" and "worker process died while running this run (alone" in (by_id[1].error or "")
    assert all(o.status == "ok" for i, o in by_id.items() if i != 1)


# --- the store: resume, kill, refusals ------------------------------------------------------------------


def test_refuses_an_existing_experiment_without_resume(
    tiny_spec, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tiny_spec(tmp_path, levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.3]}], replicates=1)
    out = tmp_path / "out"
    assert main(["experiment", str(spec), "--out", str(out), "--progress", "off"]) == 0
    capsys.readouterr()
    assert main(["experiment", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already holds an experiment; pass --resume" in err and "Traceback" not in err
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    assert main(["experiment", str(spec), "--out", str(tmp_path / "other")]) == 2
    assert "holds no experiment" in capsys.readouterr().err
    assert main(["experiment", str(spec), "--out", str(tmp_path / "other" / "notes.txt" / "x")]) == 2
    assert "cannot create the experiment folder" in capsys.readouterr().err


def test_resume_refuses_a_changed_spec(tiny_spec, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tiny_spec(tmp_path, levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.3]}], replicates=1)
    out = tmp_path / "out"
    assert main(["experiment", str(spec), "--out", str(out), "--progress", "off"]) == 0
    tiny_spec(tmp_path, levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.3]}], replicates=2)
    capsys.readouterr()
    assert main(["experiment", str(spec), "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "levers, design, replicates" in err
    # options that only say where to run may change between sessions
    tiny_spec(tmp_path, levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.3]}], replicates=1, workers=3)
    assert main(["experiment", str(spec), "--out", str(out), "--resume", "--progress", "off"]) == 0


def test_consolidation_keeps_every_run_once(tiny_spec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "CONSOLIDATE_EVERY", 2)
    spec = tiny_spec(tmp_path)
    out = tmp_path / "out"
    table = run_experiment(spec, out=out, progress=False)
    assert table["run_id"].tolist() == list(range(6))
    assert not list((out / "runs").glob("part-*"))  # all folded into runs.parquet
    # a kill between writing runs.parquet and removing the parts leaves both: still one row per run
    shutil.copy(out / "runs.parquet", tmp_path / "copy.parquet")
    one = pd.read_parquet(tmp_path / "copy.parquet").iloc[[3]]
    one.to_parquet(out / "runs" / store.part_name(3), index=False)
    pd.testing.assert_frame_equal(read_runs(out), table)
    # a write killed half-way leaves a hidden temporary: never read as a run, removed on resume
    stale = out / "runs" / ".part-000004.parquet.abc123.tmp"
    stale.write_bytes(b"PAR1 half a file")
    pd.testing.assert_frame_equal(read_runs(out), table)
    resumed = run_experiment(spec, out=out, resume=True, progress=False)
    assert not stale.exists()
    pd.testing.assert_frame_equal(resumed, table)


def test_timeseries_are_kept_per_run(tiny_spec, tmp_path: Path) -> None:
    spec = tiny_spec(
        tmp_path,
        keep_timeseries=True,
        replicates=1,
        levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.1, 0.7]}],
    )
    table = run_experiment(spec, out=tmp_path / "out", progress=False)
    ts = read_timeseries(tmp_path / "out")
    assert sorted(ts["run_id"].unique()) == [0, 1]
    one = read_timeseries(tmp_path / "out", run_ids=[1])
    scenario = load_scenario(BASELINE, {**TINY_GRID_OVERRIDES, "policy.store_upgrade_subsidy": 0.7})
    direct = sim.CountyModel(scenario, seed=int(table.loc[1, "seed"])).run(progress=False).timeseries
    pd.testing.assert_frame_equal(one.drop(columns="run_id"), direct, check_dtype=False)


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_uninterrupted_table(
    tiny_spec, reference: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    _, expected = reference
    # 10 runs are too quick to kill in the middle: the same design with 4 replicates, 20 runs
    spec = tiny_spec(
        tmp_path, replicates=4, levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.0, 0.2, 0.4, 0.6, 0.8]}]
    )
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "experiments.cli.main", "experiment", str(spec), "--out", str(out),
           "--backend", "processes", "--workers", "2", "--progress", "off"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(list((out / "runs").glob("part-*.parquet"))) < 3:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no runs finished within 60 s"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        # only the experiment's process was killed: its workers notice and exit by themselves
        deadline = time.monotonic() + 10
        while _live_group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _live_group_members(proc.pid), "worker processes outlived the killed experiment"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    done = len(read_runs(out))
    assert 3 <= done < 20, f"the kill came too late to test resume ({done} runs done)"
    assert store.read_manifest(out)["status"] == "running"  # it never got to say otherwise
    # a write cut short leaves at most a hidden temporary, which is never read as a run
    assert all(p.name.startswith(".") for p in out.rglob("*.tmp"))
    table = run_experiment(spec, out=out, backend="inprocess", resume=True, progress=False)
    full = run_experiment(spec, out=tmp_path / "uninterrupted", backend="inprocess", progress=False)
    pd.testing.assert_frame_equal(results(table), results(full), check_exact=True)
    assert not list(out.rglob("*.tmp"))  # resuming cleared them
    sessions = store.read_manifest(out)["sessions"]
    assert [s["resumed"] for s in sessions] == [False, True] and sessions[1]["runs_to_do"] == 20 - done
    # replicates 0-1 of this spec are the reference experiment's runs, seeds and all
    first_two = results(table[table["replicate"] < 2]).drop(columns=["run_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(first_two, results(expected).drop(columns=["run_id"]), check_exact=True)


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_says_how_to_resume(tiny_spec, tmp_path: Path) -> None:
    """A batch scheduler's SIGTERM at the time limit: finished runs kept, session recorded, exit 130."""
    spec = tiny_spec(tmp_path, replicates=6)
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "experiments.cli.main",
        "experiment",
        str(spec),
        "--out",
        str(out),
        "--progress",
        "off",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(list((out / "runs").glob("part-*.parquet"))) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted; finished runs are kept" in err and "--resume" in err and "Traceback" not in err
    manifest = store.read_manifest(out)
    assert manifest["status"] == "incomplete" and manifest["sessions"][0]["status"] == "interrupted"
    done = len(read_runs(out))
    assert 2 <= done < 18 and (out / "runs.parquet").exists()
    assert main(["experiment", str(spec), "--out", str(out), "--resume", "--progress", "off"]) == 0
    assert len(read_runs(out)) == 18 and store.read_manifest(out)["status"] == "complete"


def _live_group_members(pgid: int) -> list[int]:
    """Processes of a process group that are still running (zombies awaiting their reaper excluded)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    alive = []
    for d in proc.iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(d.name))
    return alive


# --- manifest --------------------------------------------------------------------------------------------


def test_manifest_hashes_follow_the_input_files(tiny_spec, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "configs" / "data", data)
    scenario = tmp_path / "county.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "name": "file county",
                "map": {
                    "source": "file",
                    "settlements_file": "data/example_county_settlements.csv",
                    "roads_file": "data/example_county_roads.csv",
                },
                "population": {"households_per_agent": 5},
                "timeline": {"end": "2024-03-31"},
                "outputs": {"figures": False, "progress": "off"},
            }
        )
    )
    spec = tiny_spec(
        tmp_path,
        base={"scenario": "county.yaml"},
        replicates=1,
        levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.3]}],
    )
    run_experiment(spec, out=tmp_path / "a", progress=False)
    a = store.read_manifest(tmp_path / "a")
    settlements = str((data / "example_county_settlements.csv").resolve())
    assert set(a["inputs"]["map_data"]) == {settlements, str((data / "example_county_roads.csv").resolve())}
    assert a["inputs"]["spec"] == {str(spec.resolve()): _sha(spec)}
    assert a["inputs"]["scenarios"] == {str(scenario.resolve()): _sha(scenario)}
    for key in ("versions", "git_commit", "seed_tree", "machine", "spec"):
        assert a[key]
    assert a["versions"]["SALib"] != "not installed" and a["versions"]["distributed"] != "not installed"

    # change one population in the settlements file: its hash and the experiment's change, nothing else
    rows = (data / "example_county_settlements.csv").read_text().splitlines()
    fields = rows[-1].split(",")
    header = rows[0].split(",")
    col = header.index("population")
    fields[col] = str(int(fields[col]) + 1)
    rows[-1] = ",".join(fields)
    (data / "example_county_settlements.csv").write_text("\n".join(rows) + "\n")
    run_experiment(spec, out=tmp_path / "b", progress=False)
    b = store.read_manifest(tmp_path / "b")
    assert b["inputs"]["map_data"][settlements] != a["inputs"]["map_data"][settlements]
    assert b["inputs"]["scenarios"] == a["inputs"]["scenarios"] and b["inputs"]["spec"] == a["inputs"]["spec"]
    assert b["hashes"]["experiment"] != a["hashes"]["experiment"]
    assert main(["experiment", str(spec), "--out", str(tmp_path / "a"), "--resume"]) == 2
    assert "a map data file changed" in capsys.readouterr().err

    # a comment in the scenario changes its file hash, not what runs: resuming is allowed
    scenario.write_text("# a note\n" + scenario.read_text())
    run_experiment(spec, out=tmp_path / "c", progress=False)
    c = store.read_manifest(tmp_path / "c")
    assert c["inputs"]["scenarios"] != b["inputs"]["scenarios"]
    assert c["hashes"]["experiment"] == b["hashes"]["experiment"]
    # a real change to the scenario is refused on resume
    scenario.write_text(scenario.read_text().replace("households_per_agent: 5", "households_per_agent: 6"))
    assert main(["experiment", str(spec), "--out", str(tmp_path / "c"), "--resume"]) == 2
    assert "the base scenario changed" in capsys.readouterr().err


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_design_and_manifest_describe_a_sampling_design(tiny_spec, tmp_path: Path) -> None:
    spec = tiny_spec(
        tmp_path,
        levers=[
            {"path": "policy.store_upgrade_subsidy", "range": [0.0, 0.8]},
            {"path": "retailers.count", "values": [1, 2]},
        ],
        design={"method": "lhs", "samples": 3},
        replicates=1,
    )
    table = run_experiment(spec, out=tmp_path / "out", progress=False)
    design = pd.read_parquet(tmp_path / "out" / "design.parquet")
    assert design["point"].tolist() == [0, 1, 2]
    np.testing.assert_allclose(
        design["policy.store_upgrade_subsidy"], 0.8 * design["unit:policy.store_upgrade_subsidy"]
    )
    pd.testing.assert_series_equal(table["policy.store_upgrade_subsidy"], design["policy.store_upgrade_subsidy"])
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert m["design"]["salib_problem"]["names"] == ["policy.store_upgrade_subsidy", "retailers.count"]
    assert m["runs"] == {"total": 3, "replicates": 1}


# --- Dask ------------------------------------------------------------------------------------------------


def test_an_unreachable_scheduler_is_a_clear_error_within_the_timeout(
    tiny_spec, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = tiny_spec(tmp_path)
    start = time.monotonic()
    code = main(
        [
            "experiment",
            str(spec),
            "--out",
            str(tmp_path / "out"),
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
            "--connect-timeout",
            "2",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - start < 15
    assert f"no Dask scheduler answered at tcp://127.0.0.1:{port} within 2 s" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# --- the example spec, through the command line --------------------------------------------------------------


@pytest.mark.slow
def test_lhs_screen_runs_from_the_command_line(tmp_path: Path) -> None:
    spec_path = ROOT / "configs/experiments/lhs_screen.yaml"
    n = len(build_plan(load_spec(spec_path)).runs)
    out = tmp_path / "lhs"
    cmd = [sys.executable, "-m", "experiments.cli.main", "experiment", str(spec_path),
           "--out", str(out), "--workers", "2", "--progress", "off"]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{n} ok, 0 failed of {n} runs" in done.stdout
    table = read_runs(out)
    assert len(table) == n and (table["status"] == "ok").all()
    assert table["worker"].nunique() == 2
    # the screen sees its levers: more upgrade subsidy, more new-type stores (rank correlation over points)
    by_point = table.groupby("point")[["policy.store_upgrade_subsidy", "newtype_store_share"]].mean()
    assert by_point.corr(method="spearman").iloc[0, 1] > 0.5
