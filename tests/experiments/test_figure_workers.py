"""`countysim run`'s figure workers (experiments/cli/figures.py): the same files as drawing in
one process, a worker's error or death reported in the parent, and a failed drawing leaves
no run folder behind."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from experiments.cli.figures import GROUPS, FigureProcesses
from experiments.report.map_data import MapData, map_data
from experiments.report.run_plots import RUN_FIGURES, run_figures
from experiments.run.single import run_to_folder
from sim.model import CountyModel

SHORT = {"timeline.end": "2024-03-31", "population.households_per_agent": 8}


@pytest.fixture(scope="module")
def run(tiny) -> tuple[CountyModel, pd.DataFrame]:
    model = CountyModel(tiny(**SHORT))
    return model, model.run(progress=False).timeseries


def test_the_groups_share_out_every_run_figure_once() -> None:
    names = [name for group in GROUPS for name in group]
    assert sorted(names) == sorted(RUN_FIGURES)
    assert len(names) == len(set(names))


def test_the_map_record_holds_what_the_maps_read(run) -> None:
    model, _ = run
    data = map_data(model)
    assert isinstance(data, MapData)
    assert len(data.x_km) == len(data.stores_per_node) == len(data.door_share) == model.county.n
    assert len(data.has_center) == len(model.county.townships)
    assert data.latest == model.rows[-1]
    assert all(tour[0] == tour[-1] and len(tour) > 2 for tour in data.routes)


def test_workers_write_the_same_files_as_one_process(run, tmp_path: Path) -> None:
    model, ts = run
    here = run_figures(model, ts, tmp_path / "here")
    with FigureProcesses() as workers:
        there = workers.draw(model, ts, tmp_path / "workers")()
    assert sorted(p.name for p in there) == sorted(p.name for p in here)
    assert {p.suffix for p in there} == {".png", ".svg"}
    for p in here:
        assert (tmp_path / "workers" / p.name).read_bytes() == p.read_bytes(), f"{p.name} differs"


def test_a_drawing_error_is_raised_here_and_stops_the_other_worker(run, tmp_path: Path) -> None:
    model, ts = run
    with FigureProcesses(groups=(("targets", "channel_shares"), ("no_such_figure",))) as workers:
        wait = workers.draw(model, ts, tmp_path)
        with pytest.raises(KeyError, match="no_such_figure") as info:
            wait()
        assert all(p.poll() is not None for p in workers.processes)
    assert any("worker process" in note and "draw_figures" in note for note in info.value.__notes__)


def test_a_dead_worker_fails_the_run_and_leaves_no_folder(tiny, tmp_path: Path) -> None:
    out = tmp_path / "run"
    with FigureProcesses() as workers:
        workers.processes[1].kill()
        workers.processes[1].wait()
        with pytest.raises(RuntimeError, match="exit code -9"):
            run_to_folder(tiny(**SHORT), out, progress=False, figures=True, draw=workers.draw)
        assert all(p.poll() is not None for p in workers.processes)
    assert not out.exists()
    assert not list(tmp_path.iterdir()), "no staging folder left"


def test_an_unused_worker_is_stopped_on_leaving(tmp_path: Path) -> None:
    with FigureProcesses() as workers:
        pass
    assert all(p.returncode is not None for p in workers.processes)
