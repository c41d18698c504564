"""The ``countysim`` command: run | validate | schema | indicators | experiment | analyze | report | viz | calibrate.

Input problems (a bad scenario, map file, override or path) are reported as one
paragraph naming the file and field, with exit status 2 and no traceback; anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from experiments.cli.experiment import analyze_command, experiment_command
from experiments.cli.figures import figure_drawer
from experiments.run import atomic
from experiments.run.single import evaluation_table, run_to_folder, summary_table
from experiments.spec.experiment import BACKEND_NAMES
from experiments.viz.server import serve
from sim.config import json_schema, load_scenario
from sim.errors import InputError
from sim.geography import build_map
from sim.policy.indicators import describe

EXIT_INPUT = 2
#: Exit status when the machine refuses a write (disk full, read-only, quota): not the
#: user's input, but not a bug either.
EXIT_WRITE = 74  # EX_IOERR of sysexits.h
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}

#: What ``add_subparsers`` returns (argparse does not name its type publicly).
Subparsers = argparse._SubParsersAction


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="countysim",
        description="Agent-based simulation of China's County Commerce Three-Year Action Plan (2023-2025).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for add_arguments in SUBCOMMANDS:
        add_arguments(sub)
    return p


def _add_run(sub: Subparsers) -> None:
    run = sub.add_parser("run", help="run one scenario and write its outputs")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="K=V",
        help="override a field by dotted path, e.g. policy.store_upgrade_subsidy=0.5 (repeatable)",
    )
    run.add_argument("--seed", type=int, default=None, help="run seed (overrides the scenario's seed)")
    run.add_argument("--out", default=None, help="output folder (default results/runs/<scenario name>-seed<seed>)")
    run.add_argument("--no-figures", action="store_true", help="skip figures")
    run.add_argument("--progress", choices=("auto", "on", "off"), default=None, help="progress bar")
    run.add_argument(
        "--counterfactual",
        action="store_true",
        help="also run the scenario with the policy off on the same seed; cost-effectiveness is measured against it",
    )


def _add_validate(sub: Subparsers) -> None:
    val = sub.add_parser("validate", help="check a scenario file (and its map) without running it")
    val.add_argument("scenario")
    val.add_argument("--set", dest="overrides", action="append", default=[], metavar="K=V")


def _add_schema(sub: Subparsers) -> None:
    sch = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    sch.add_argument("--out", default=None, help="write to a file instead of standard output")


def _add_indicators(sub: Subparsers) -> None:
    sub.add_parser("indicators", help="list every indicator with its unit and meaning")


def _add_experiment(sub: Subparsers) -> None:
    exp = sub.add_parser(
        "experiment",
        help="run an experiment spec (many runs) into a results folder",
        description="Run every design point and replicate of an experiment spec, writing each run as it finishes; "
        "--resume finishes an interrupted experiment.",
    )
    exp.add_argument("spec", help="experiment spec YAML file")
    exp.add_argument("--out", default=None, help="results folder (default results/experiments/<spec name>)")
    exp.add_argument("--backend", choices=BACKEND_NAMES, default=None, help="where runs execute (default: spec)")
    exp.add_argument("--workers", type=int, default=None, help="worker processes (default: spec, else CPU count)")
    exp.add_argument(
        "--scheduler", default=None, metavar="ADDR", help="a running Dask scheduler (tcp://host:8786 or scheduler file)"
    )
    exp.add_argument("--connect-timeout", type=float, default=None, metavar="S", help="seconds to wait for --scheduler")
    exp.add_argument("--resume", action="store_true", help="finish the experiment already in --out")
    exp.add_argument("--retry-failed", action="store_true", help="with --resume, also redo runs that failed")
    exp.add_argument("--progress", choices=("auto", "on", "off"), default="auto", help="progress bar")
    exp.add_argument("--dry-run", action="store_true", help="validate and print the plan without running anything")
    exp.add_argument(
        "--no-analysis", action="store_true", help="skip the sensitivity and target analysis of a GSA design at the end"
    )


def _add_analyze(sub: Subparsers) -> None:
    ana = sub.add_parser(
        "analyze",
        help="sensitivity indices, target attainment, PRIM boxes and cost frontier of an experiment folder",
        description="Analyse the runs of an experiment folder (finished or not) and write sensitivity.csv/json, "
        "attainment.csv/json, prim_boxes.json, frontier.csv and figures into it; see docs/USER_GUIDE.md.",
    )
    ana.add_argument("folder", help="an experiment folder")
    ana.add_argument(
        "--methods", default=None, metavar="M,M", help="sobol, morris, efast, pawn, delta (default: by design)"
    )
    ana.add_argument("--resamples", type=int, default=None, help="bootstrap resamples (default: spec, else 200)")
    ana.add_argument("--tolerance", type=float, default=None, help="convergence tolerance (default: spec, else 0.1)")
    ana.add_argument("--no-targets", action="store_true", help="skip attainment, PRIM and frontier")
    ana.add_argument("--no-figures", action="store_true", help="skip figures")


def _add_report(sub: Subparsers) -> None:
    rep = sub.add_parser(
        "report",
        help="write one self-contained HTML page for a run or experiment folder",
        description="Turn a run folder (countysim run) or an experiment folder (countysim experiment) into one HTML "
        "page with its figures embedded, the scenario card, the 2025 targets and the key numbers.",
    )
    rep.add_argument("folder", help="a run folder or an experiment folder")
    rep.add_argument("--out", default=None, help="HTML file to write (default FOLDER/report.html)")


def _add_calibrate(sub: Subparsers) -> None:
    cal = sub.add_parser(
        "calibrate",
        help="fit behaviour parameters so the national ensemble matches official series",
        description="Fit the parameters of a calibration spec (experiments/national/calibration.py); writes the fitted "
        "values (YAML, dated, naming the data) and the fit report (official vs simulated, residuals).",
    )
    cal.add_argument("spec", help="calibration spec YAML")
    cal.add_argument("--out", default="configs/calibrated", help="folder for the outputs (default configs/calibrated)")


def _add_viz(sub: Subparsers) -> None:
    viz = sub.add_parser(
        "viz",
        help="serve the live county page (Mesa SolaraViz) on localhost",
        description="Serve a live page of one county: the map, sliders for the main levers, step/run/reset and "
        "charts of the main indicators. Without a scenario it runs a small county at eight households per agent.",
    )
    viz.add_argument("scenario", nargs="?", default=None, help="base scenario YAML (default: a small quick county)")
    viz.add_argument("--set", dest="overrides", action="append", default=[], metavar="K=V", help="override a field")
    viz.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    viz.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    viz.add_argument("--open", action="store_true", help="open the page in a web browser")


#: Subparsers' arguments, in the order ``countysim --help`` lists them.
SUBCOMMANDS: tuple[Callable[[Subparsers], None], ...] = (
    _add_run,
    _add_validate,
    _add_schema,
    _add_indicators,
    _add_experiment,
    _add_analyze,
    _add_report,
    _add_calibrate,
    _add_viz,
)


def _cmd_run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    seed = scenario.seed if args.seed is None else args.seed
    if seed < 0:
        raise InputError(
            f"--seed must be a non-negative integer (got {seed})", source="command line", location="--seed"
        )
    out = Path(args.out) if args.out else Path("results") / "runs" / f"{_slug(scenario.name)}-seed{seed}"
    _check_writable(out)
    progress = None if args.progress is None else {"on": True, "off": False, "auto": None}[args.progress]
    figures = scenario.outputs.figures and not args.no_figures
    # the figure workers start now, to import matplotlib while this process runs the model
    with figure_drawer() if figures else contextlib.nullcontext() as draw:
        result, folder = run_to_folder(
            scenario, out, seed=seed, progress=progress, figures=figures, counterfactual=args.counterfactual, draw=draw
        )
    print(f"{scenario.name}: {len(result.timeseries)} weeks, seed {seed}, {result.wall_seconds:.1f} s")
    print(summary_table(result))
    print(evaluation_table(json.loads((folder / "summary.json").read_text(encoding="utf-8"))))
    print(f"outputs written to {folder}")
    return 0


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:80] or "run"


def _check_writable(out: Path) -> None:
    """Fail early, before a long run, if the output folder cannot be written."""
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder; give a folder path for --out", source=str(out), location="--out")
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot create the output folder: {parent} is a file", source=str(out), location="--out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(
            f"cannot create the output folder: {parent} is not writable", source=str(out), location="--out"
        )


def _cmd_validate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    county = build_map(scenario.map, scenario._base_dir)
    print(
        f"{args.scenario}: valid ({county.n} settlements: {len(county.townships)} townships, "
        f"{len(county.villages)} villages, {county.total_population:,} people)"
    )
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    text = json.dumps(json_schema(), indent=2, ensure_ascii=False, default=str)
    if args.out:
        atomic.write_text(args.out, text + "\n")
    else:
        print(text)
    return 0


def _cmd_indicators(args: argparse.Namespace) -> int:
    for d in describe():
        print(f"{d['name']:32s} {d['unit']:22s} {d['zh']}  {d['meaning']}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    # the report page embeds figures drawn with matplotlib, slow to import: only this subcommand loads it
    from experiments.report.page import write_report

    print(f"report written to {write_report(args.folder, args.out)}")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    # calibration draws its fit with matplotlib, slow to import: only this subcommand loads it
    from experiments.national.calibration import run_calibration

    def progress(k: int, point: dict[str, float], objective: float) -> None:
        shown = ", ".join(f"{path}={v:.4g}" for path, v in point.items())
        print(f"evaluation {k}: {shown}: objective {objective:.4g}", file=sys.stderr, flush=True)

    fit, values = run_calibration(args.spec, args.out, on_evaluation=progress)
    print(fit.report.to_string(index=False))
    print(f"fitted values in {values} ({fit.evaluations} evaluations, objective {fit.objective:.4g})")
    return 0


def _cmd_viz(args: argparse.Namespace) -> int:
    return serve(args.scenario, args.overrides, args.host, args.port, args.open)


COMMANDS = {
    "run": _cmd_run,
    "validate": _cmd_validate,
    "schema": _cmd_schema,
    "indicators": _cmd_indicators,
    "experiment": experiment_command,
    "analyze": analyze_command,
    "report": _cmd_report,
    "viz": _cmd_viz,
    "calibrate": _cmd_calibrate,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``countysim`` console script."""
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as err:
        print(f"countysim: error: {err.render()}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("countysim: interrupted; no partial output was left behind", file=sys.stderr)
        return 130
    except OSError as err:
        if err.errno not in WRITE_ERRORS:
            raise
        where = f" {err.filename}" if err.filename else ""
        print(
            f"countysim: error: cannot write{where}: {err.strerror}. Everything written before is complete "
            "(files are written atomically); free the space or fix the permission, then run the same command "
            "again (with --resume for an experiment).",
            file=sys.stderr,
        )
        return EXIT_WRITE


if __name__ == "__main__":
    sys.exit(main())
