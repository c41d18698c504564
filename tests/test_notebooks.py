"""The worked notebooks execute top to bottom in the project's own Python, so they cannot rot.

Each notebook runs in a fresh kernel of this virtual environment (ipykernel's ``python3``
spec resolves to the interpreter running the tests) with its result folders redirected to
a temporary folder; a cell that raises fails the test with the cell's traceback.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).absolute().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: A guard against a notebook growing slow: each takes well under two minutes on an idle two-core
#: machine (CI has the machine to itself), with headroom for a developer machine shared with others.
BUDGET_SECONDS = 180

pytestmark = pytest.mark.slow


def test_the_four_worked_analyses_are_there() -> None:
    names = [p.stem for p in NOTEBOOKS]
    for topic in (
        "explore_one_county",
        "compare_policy_packages",
        "read_a_sensitivity_analysis",
        "national_projection",
    ):
        assert any(topic in n for n in names), f"no notebook on {topic}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("COUNTYSIM_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the inline backend, as in Jupyter
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{path.name} failed:\n{err}")
    took = time.perf_counter() - start
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 1, f"{path.name} showed no figure"
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs).strip()
    assert Path(printed).resolve() == Path(sys.executable).resolve(), f"kernel ran {printed}, not the project's Python"
    assert took < BUDGET_SECONDS, f"{path.name} took {took:.0f} s"
