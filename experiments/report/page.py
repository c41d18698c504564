"""``countysim report DIR``: one self-contained HTML page for a run or an experiment folder.

A researcher mails the page to a colleague who has no countysim, so everything is inside
it: figures as base64 PNG, the scenario card (what was run, what differs from the
defaults, where it came from), the table of the plan's 2025 lines and the key numbers.
No script, stylesheet or image is fetched from anywhere.

The run page is :mod:`experiments.report.run_page`, the experiment page
:mod:`experiments.report.experiment_page`, the pieces both are built from
:mod:`experiments.report.page_parts`; this module writes the one the folder asks for, and
names the functions scripts and notebooks use.
"""

from __future__ import annotations

from pathlib import Path

from experiments.report.experiment_page import experiment_figures, experiment_report, read_sensitivity, sobol_rows
from experiments.report.page_parts import Figure, cjk_font_face, folder_kind
from experiments.report.run_page import criteria_file, run_figures_for_report, run_report, run_targets
from experiments.run import atomic
from sim.errors import InputError

__all__ = [
    "REPORT",
    "Figure",
    "cjk_font_face",
    "criteria_file",
    "experiment_figures",
    "experiment_report",
    "folder_kind",
    "read_sensitivity",
    "run_figures_for_report",
    "run_report",
    "run_targets",
    "sobol_rows",
    "write_report",
]

REPORT = "report.html"


def write_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of a run or experiment folder (atomically) and return its path.

    Args:
        folder: A run folder or an experiment folder.
        out: The HTML file (default ``folder/report.html``).

    Raises:
        InputError: The folder is not a complete run or experiment folder, or ``out`` is a folder.
    """
    folder = Path(folder)
    kind = folder_kind(folder)
    target = Path(out) if out is not None else folder / REPORT
    if target.is_dir():
        raise InputError("is a folder; give a file name for the report, e.g. report.html", source=target)
    page = run_report(folder) if kind == "run" else experiment_report(folder)
    atomic.write_text(target, page)
    return target
