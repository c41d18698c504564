"""``countysim experiment SPEC`` and ``countysim analyze DIR``: run and analyse experiments.

Input problems raise :class:`~sim.errors.InputError`, which :mod:`experiments.cli.main`
reports with exit status 2; an interruption (Ctrl-C, or SIGTERM from a batch scheduler at
its time limit) keeps every finished run and says how to resume.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from experiments.report.experiment_analysis import analyze_experiment
from experiments.run.backends import Backend
from experiments.run.runner import execute, prepare
from experiments.run.store import RUNS
from experiments.spec.methods import ANALYSIS_METHODS
from experiments.spec.plan import RunPlan
from sim.errors import InputError

EXIT_INTERRUPTED = 130


def _sigterm_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _plan_summary(plan: RunPlan, out: Path, backend: Backend) -> str:
    spec = plan.spec
    levers = ", ".join(f"{p} ({k})" for p, k in plan.lever_kinds.items()) or "none"
    return (
        f"{spec.name}: {spec.design.method} design, {len(plan.design.values)} point(s) x {len(plan.bases)} base(s) "
        f"x {spec.replicates} replicate(s) = {len(plan.runs)} runs\n"
        f"levers: {levers}\n"
        f"metrics: {', '.join(m.column for m in plan.metrics)}\n"
        f"backend: {backend.name}, {backend.workers} worker(s); output: {out}"
    )


def experiment_command(args: argparse.Namespace) -> int:
    """Run (or with --dry-run, only plan) the experiment described by ``args``."""
    plan, out, backend = prepare(
        args.spec, args.out, args.backend, args.workers, args.scheduler, args.resume, args.connect_timeout
    )
    if args.dry_run:
        print(_plan_summary(plan, out, backend))
        return 0
    progress = {"on": True, "off": False, "auto": sys.stderr.isatty()}[args.progress]
    previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    start = time.perf_counter()
    try:
        with backend:
            print(
                f"{plan.spec.name}: {len(plan.runs)} runs on {backend.name} ({backend.workers} worker(s)) into {out}",
                file=sys.stderr,
            )
            table = execute(plan, out, backend, resume=args.resume, retry_failed=args.retry_failed, progress=progress)
    except KeyboardInterrupt:
        print(
            f"countysim: interrupted; finished runs are kept in {out}. To finish: "
            f"countysim experiment {args.spec} --out {out} --resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    failed = table[table["status"] == "failed"]
    if plan.spec.ensemble is not None and len(failed) < len(table):
        # the national projection is drawn with matplotlib, slow to import: loaded for ensembles only
        from experiments.national.ensemble import write_national

        write_national(plan.spec.ensemble, plan.spec._base_dir, out)
        print(f"{plan.spec.name}: national indicators in {out / 'national.csv'}")
    print(
        f"{plan.spec.name}: {len(table) - len(failed)} ok, {len(failed)} failed of {len(plan.runs)} runs "
        f"({time.perf_counter() - start:.1f} s); table: {out / RUNS}"
    )
    if len(failed):
        errors = failed["error"].value_counts()
        for text, n in errors.head(5).items():
            print(f"  {n} run(s) failed with: {text}", file=sys.stderr)
        print(
            f"  (error and traceback columns of {out / RUNS}; rerun them with --resume --retry-failed)", file=sys.stderr
        )
    if plan.spec.analysed and not getattr(args, "no_analysis", False) and len(failed) < len(table):
        began = time.perf_counter()
        summary = analyze_experiment(out)
        print(summary.text())
        print(f"{plan.spec.name}: analysis in {time.perf_counter() - began:.1f} s; again with: countysim analyze {out}")
    return 0


def analyze_command(args: argparse.Namespace) -> int:
    """``countysim analyze DIR``: sensitivity, attainment, PRIM and frontier of an experiment folder."""
    methods = None
    if args.methods is not None:
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
        bad = [m for m in methods if m not in ANALYSIS_METHODS]
        if bad:
            raise InputError(
                f"unknown method(s) {', '.join(bad)}; choose from {', '.join(ANALYSIS_METHODS)}",
                "command line",
                "--methods",
            )
    if args.resamples is not None and args.resamples < 10:
        raise InputError(f"--resamples must be at least 10 (got {args.resamples})", "command line", "--resamples")
    if args.tolerance is not None and not 0 < args.tolerance <= 1:
        raise InputError(f"--tolerance must lie in (0, 1] (got {args.tolerance})", "command line", "--tolerance")
    summary = analyze_experiment(
        args.folder,
        methods=methods,
        resamples=args.resamples,
        tolerance=args.tolerance,
        targets=False if args.no_targets else None,
        figures=not args.no_figures,
    )
    print(summary.text())
    return 0
