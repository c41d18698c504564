"""Statistical equivalence check to pass before the golden reference files are regenerated.

``python -m experiments.run.equivalence --before REV`` runs every reference scenario
(``configs/reference/``) for ``--seeds`` seeds (20 by default) with the code at git
revision ``REV`` and with the working tree (or ``--after REV``), and compares, per scenario
and indicator, the final-year values (``RunResult.summary``) of the two model versions.

* Each version runs in its own worker processes, with its tree alone on ``PYTHONPATH``
  (a revision is unpacked with ``git archive`` into a temporary folder, removed
  afterwards); the two versions are never imported into one process. Each side runs its
  own ``configs/reference/<name>.yaml``.
* The two sides use disjoint seed sets (``BEFORE_SEED0 + i`` and ``AFTER_SEED0 + i``), so
  the samples are independent and the check against an unchanged model is a real test of
  its false-alarm rate, not a comparison of bit-identical runs. A seed's numbers depend
  only on the code, the scenario and the seed: the result does not depend on ``--workers``.
* Per indicator: the difference of means in units of its standard error (Welch's
  ``z = (mean after - mean before) / sqrt(s²_a/n_a + s²_b/n_b)``, with the p-value of
  Welch's t-test), and the two-sample Kolmogorov–Smirnov test, which also sees a change
  of spread or shape that leaves the mean alone (Mann–Whitney would add little to the
  z-test: it too sees mainly a shift of location). The indicator's p-value is
  ``min(1, 2 min(p_Welch, p_KS))`` (Bonferroni over its two tests).
* Multiple testing: Benjamini–Hochberg (:func:`scipy.stats.false_discovery_control`) over
  every compared indicator of every scenario; a real difference is ``q < 0.01``. When
  nothing changed (every null true), BH keeps the chance of even one false flag in the
  whole table at 1%, as Holm would; when something did change, BH finds more of the
  indicators that moved (each must be explained), where Holm's family-wise control would
  hide all but the largest.
* An indicator whose values are all the same on both sides (within the golden files'
  tolerance) is reported as identical, without a test. Constant on each side but at
  different values: z is infinite and the KS p alone decides (20 seeds against 20 others
  all on one side: p about 1e-11). An indicator only one side produces is a real difference.

Exit status: 0 no real difference, 1 real differences (``make reference`` should not be
run before they are explained), 2 bad input (unknown revision, no scenarios) or a failed run.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import stats

from experiments.run import atomic
from experiments.run.backends import default_workers
from experiments.run.reference import ATOL, ROOT, RTOL, SCENARIOS

WORKTREE = "worktree"
WORKER = Path(__file__).with_name("equivalence_worker.py")
SCENARIO_DIR = SCENARIOS.relative_to(ROOT)
DEFAULT_SEEDS = 20
BEFORE_SEED0, AFTER_SEED0 = 10_000, 20_000
#: Seeds per worker process (a process pays its imports once for these runs).
CHUNK = 5
ALPHA = 0.01
DEFAULT_OUT = ROOT / "results" / "equivalence.md"

IDENTICAL, SAME, DIFFERENT = "identical", "same", "DIFFERENT"
ONLY_BEFORE, ONLY_AFTER, TOO_FEW = "only before", "only after", "too few values"
TESTED = "tested"  # before the multiple-testing rule decides SAME or DIFFERENT

#: scenario -> indicator -> final-year values, one per seed (seed order)
Samples = Mapping[str, Mapping[str, Sequence[float]]]


class CheckError(Exception):
    """Bad input or a failed run: printed without a traceback, exit status 2."""


# ---------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Comparison:
    """One indicator of one scenario, before vs after."""

    indicator: str
    status: str
    n_before: int = 0
    n_after: int = 0
    mean_before: float = math.nan
    mean_after: float = math.nan
    z: float = math.nan  # (mean after - mean before) / its standard error (Welch)
    p_welch: float = math.nan
    p_ks: float = math.nan
    p: float = math.nan  # min(1, 2 min(p_welch, p_ks))
    q: float = math.nan  # Benjamini-Hochberg adjusted p over the whole table

    @property
    def different(self) -> bool:
        return self.status not in (IDENTICAL, SAME)


def compare_samples(indicator: str, before: Sequence[float], after: Sequence[float]) -> Comparison:
    """The two-sample statistics of one indicator (status TESTED until :func:`apply_fdr`)."""
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    b, a = b[np.isfinite(b)], a[np.isfinite(a)]
    if len(a) == 0 and len(b) == 0:
        return Comparison(indicator, IDENTICAL)
    base = Comparison(indicator, TESTED, len(b), len(a), float(np.mean(b)) if len(b) else math.nan,
                      float(np.mean(a)) if len(a) else math.nan)  # fmt: skip
    if len(a) < 2 or len(b) < 2:
        return replace(base, status=TOO_FEW)
    both = np.concatenate([a, b])
    if np.allclose(both, both[0], rtol=RTOL, atol=ATOL):
        return replace(base, status=IDENTICAL)
    p_ks = float(stats.ks_2samp(a, b).pvalue)
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        # constant on each side, different between them: no standard error, KS alone
        # (all 20 seeds on one side of all 20 others: p = 2 / C(40, 20), about 1e-11)
        return replace(base, z=math.copysign(math.inf, a[0] - b[0]), p_ks=p_ks, p=p_ks)
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    with warnings.catch_warnings():  # nearly constant samples: scipy warns of precision loss
        warnings.simplefilter("ignore", RuntimeWarning)
        p_welch = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    z = float((a.mean() - b.mean()) / se)
    return replace(base, z=z, p_welch=p_welch, p_ks=p_ks, p=min(1.0, 2 * min(p_welch, p_ks)))


def apply_fdr(rows: Sequence[Comparison], alpha: float = ALPHA) -> list[Comparison]:
    """Benjamini-Hochberg over the TESTED rows: DIFFERENT when q < alpha, else SAME."""
    tested = [i for i, r in enumerate(rows) if r.status == TESTED]
    out = list(rows)
    if tested:
        q = stats.false_discovery_control([rows[i].p for i in tested], method="bh")
        for i, qi in zip(tested, q, strict=True):
            out[i] = replace(rows[i], q=float(qi), status=DIFFERENT if qi < alpha else SAME)
    return out


def compare_runs(before: Samples, after: Samples, alpha: float = ALPHA) -> dict[str, list[Comparison]]:
    """Every indicator of every scenario compared; one multiple-testing family for all."""
    flat: list[tuple[str, Comparison]] = []
    for scenario in after:
        b, a = before[scenario], after[scenario]
        for name in [*a, *(k for k in b if k not in a)]:
            if name not in b:
                row = Comparison(name, ONLY_AFTER, n_after=len(a[name]), mean_after=float(np.mean(a[name])))
            elif name not in a:
                row = Comparison(name, ONLY_BEFORE, n_before=len(b[name]), mean_before=float(np.mean(b[name])))
            else:
                row = compare_samples(name, b[name], a[name])
            flat.append((scenario, row))
    rows = apply_fdr([r for _, r in flat], alpha)
    out: dict[str, list[Comparison]] = {s: [] for s in after}
    for (scenario, _), row in zip(flat, rows, strict=True):
        out[scenario].append(row)
    return out


# ---------------------------------------------------------------------- the code under test


@dataclass(frozen=True)
class Side:
    """One model version: where its code is and which seeds it runs."""

    label: str  # "before" or "after"
    rev: str  # as given on the command line
    commit: str  # the commit it is, or the working tree's HEAD
    tree: Path
    seeds: tuple[int, ...]
    dirty: bool = False  # the working tree, with uncommitted changes

    def describe(self) -> str:
        if self.rev == WORKTREE:
            return f"working tree at `{self.commit[:10]}`" + (" with uncommitted changes" if self.dirty else "")
        return f"`{self.rev}` = `{self.commit[:10]}`"


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)
    except FileNotFoundError as err:
        raise CheckError("git is not installed; the check needs it to unpack a revision") from err


def resolve(rev: str, option: str) -> str:
    """The full commit hash of ``rev``; a CheckError naming ``option`` when there is none."""
    proc = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if rev.startswith("-") or not rev.strip() or proc.returncode != 0:
        raise CheckError(f"{option} {rev!r}: no such git revision in {ROOT} (give a commit, branch, tag or HEAD~N)")
    return proc.stdout.decode().strip()


def unpack(commit: str, dest: Path) -> Path:
    """The tree of ``commit`` extracted into ``dest`` (``git archive``; the repository is untouched)."""
    proc = _git("archive", "--format=tar", commit)
    if proc.returncode != 0:
        raise CheckError(f"git archive {commit[:10]} failed: {proc.stderr.decode().strip()}")
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def make_side(label: str, rev: str, option: str, seeds: tuple[int, ...], tmp: Path) -> Side:
    if rev == WORKTREE:
        head = resolve("HEAD", option)
        dirty = bool(_git("status", "--porcelain").stdout.strip())
        return Side(label, rev, head, ROOT, seeds, dirty)
    commit = resolve(rev, option)
    return Side(label, rev, commit, unpack(commit, tmp / label), seeds)


def scenario_names(sides: Sequence[Side], wanted: Sequence[str] | None) -> list[str]:
    """The reference scenarios to compare: ``wanted`` (or all), each present on both sides."""
    have = [{p.stem for p in (s.tree / SCENARIO_DIR).glob("*.yaml")} for s in sides]
    names = sorted(wanted if wanted else set().union(*have))
    if not names:
        raise CheckError(f"--scenarios: no reference scenarios in {SCENARIO_DIR}/")
    for side, stems in zip(sides, have, strict=True):
        missing = [n for n in names if n not in stems]
        if missing:
            raise CheckError(
                f"--scenarios: {', '.join(missing)} not in {SCENARIO_DIR}/ at {side.label} ({side.rev}); "
                f"choose among {', '.join(sorted(stems)) or 'none'}"
            )
    return names


# ---------------------------------------------------------------------- running


def _run_chunk(side: Side, scenario: str, seeds: Sequence[int], tmp: Path) -> dict[int, dict[str, float]]:
    """Final-year summaries of ``seeds`` in a fresh process with only ``side``'s code importable."""
    out = tmp / f"{side.label}-{scenario}-{seeds[0]}.json"
    env = {**os.environ, "PYTHONPATH": str(side.tree), "PYTHONHASHSEED": "0"}
    env.update({k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    yaml = side.tree / SCENARIO_DIR / f"{scenario}.yaml"
    cmd = [sys.executable, "-P", str(WORKER), str(out), str(yaml), *map(str, seeds)]
    proc = subprocess.run(cmd, cwd=side.tree, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise CheckError(f"{scenario}, seeds {seeds[0]}-{seeds[-1]}, {side.label} ({side.rev}) failed:\n{tail}")
    data = json.loads(out.read_text(encoding="utf-8"))
    if not Path(data["sim"]).resolve().is_relative_to(side.tree.resolve()):
        raise CheckError(f"{side.label}: the worker imported sim from {data['sim']}, not from {side.tree}")
    return {int(k): v for k, v in data["summaries"].items()}


def run_all(sides: Sequence[Side], scenarios: Sequence[str], workers: int, tmp: Path) -> dict[str, Samples]:
    """Every side × scenario × seed, in ``workers`` processes at a time; samples in seed order."""
    jobs = [(side, sc, side.seeds[i : i + CHUNK]) for side in sides for sc in scenarios
            for i in range(0, len(side.seeds), CHUNK)]  # fmt: skip
    got: dict[tuple[str, str], dict[int, dict[str, float]]] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_run_chunk, *job, tmp): job for job in jobs}
        try:
            for done, fut in enumerate(as_completed(futures), 1):
                side, sc, seeds = futures[fut]
                got.setdefault((side.label, sc), {}).update(fut.result())
                print(f"  [{done}/{len(jobs)}] {side.label} {sc} seeds {seeds[0]}-{seeds[-1]}", file=sys.stderr)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return {side.label: {sc: _by_indicator(got[side.label, sc], side.seeds) for sc in scenarios} for side in sides}


def _by_indicator(summaries: Mapping[int, Mapping[str, float]], seeds: Sequence[int]) -> dict[str, list[float]]:
    names = list(dict.fromkeys(k for s in seeds for k in summaries[s]))
    return {k: [summaries[s].get(k, math.nan) for s in seeds] for k in names}


# ---------------------------------------------------------------------- report


def _g(x: float) -> str:
    return "" if math.isnan(x) else f"{x:.6g}"


def _p(x: float) -> str:
    return "" if math.isnan(x) else f"{x:.2g}"


def _row(r: Comparison) -> str:
    verdict = f"**{r.status}**" if r.different else r.status
    z = "" if math.isnan(r.z) else ("±inf" if math.isinf(r.z) else f"{r.z:+.2f}")
    return (
        f"| `{r.indicator}` | {_g(r.mean_before)} | {_g(r.mean_after)} | {z} | {_p(r.p_ks)} | {_p(r.q)} | {verdict} |"
    )


def summary_table(results: Mapping[str, Sequence[Comparison]]) -> list[str]:
    lines = ["| scenario | indicators | identical | compared | real differences | largest \\|z\\| | smallest KS p |",
             "|---|---:|---:|---:|---:|---|---:|"]  # fmt: skip
    for sc, rows in results.items():
        tested = [r for r in rows if not math.isnan(r.z) and r.status != IDENTICAL]
        top = max(tested, key=lambda r: abs(r.z), default=None)
        big = f"{abs(top.z):.2f} (`{top.indicator}`)" if top else ""
        small = _p(min((r.p_ks for r in tested), default=math.nan))
        n_id = sum(r.status == IDENTICAL for r in rows)
        n_diff = sum(r.different for r in rows)
        lines.append(f"| {sc} | {len(rows)} | {n_id} | {len(tested)} | {n_diff} | {big} | {small} |")
    return lines


def render(results: Mapping[str, Sequence[Comparison]], sides: Sequence[Side], command: str, seconds: float,
           workers: int) -> str:  # fmt: skip
    before, after = sides
    n_diff = sum(r.different for rows in results.values() for r in rows)
    n_tested = sum(not math.isnan(r.q) for rows in results.values() for r in rows)
    verdict = (
        "no real difference" if not n_diff else f"{n_diff} real difference(s): explain them before `make reference`"
    )
    lines = [
        f"# Equivalence check: {before.rev} → {after.rev}",
        "",
        f"`{command}` — {seconds:.0f} s wall on {workers} worker process(es).",
        "",
        f"- before: {before.describe()}, seeds {before.seeds[0]}–{before.seeds[-1]}",
        f"- after: {after.describe()}, seeds {after.seeds[0]}–{after.seeds[-1]}",
        "- per indicator: final-year value (`RunResult.summary`); z = (mean after − mean before) / its standard error "
        "(Welch); two-sample Kolmogorov–Smirnov p; p = min(1, 2·min(p_Welch, p_KS));",
        f"  q = Benjamini–Hochberg over all {n_tested} compared indicators; a real difference is q < {ALPHA}",
        "",
        f"**Verdict: {verdict}.**",
        "",
        *summary_table(results),
    ]
    for sc, rows in results.items():
        lines += ["", f"## {sc}", "", "| indicator | mean before | mean after | z | KS p | q | verdict |",
                  "|---|---:|---:|---:|---:|---:|---|", *map(_row, rows)]  # fmt: skip
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m experiments.run.equivalence", description=__doc__.splitlines()[0])
    p.add_argument("--before", required=True, metavar="REV", help="git revision of the model before the change")
    p.add_argument(
        "--after",
        default=WORKTREE,
        metavar="REV|worktree",
        help="git revision after the change (default: the working tree, uncommitted changes included)",
    )
    p.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help=f"seeds per side (default {DEFAULT_SEEDS})")
    p.add_argument(
        "--scenarios", nargs="+", metavar="NAME", help=f"reference scenarios (default: all in {SCENARIO_DIR}/)"
    )
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: the CPUs available)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown report (default: %(default)s)")  # fmt: skip
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return _main(args, argv)
    except CheckError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    if args.seeds < 2:
        raise CheckError(f"--seeds {args.seeds}: at least 2 are needed for a standard error (20 for the real check)")
    if args.workers is not None and args.workers < 1:
        raise CheckError(f"--workers {args.workers}: at least 1")
    workers = args.workers or default_workers()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="countysim-equivalence-") as tmp:
        seeds = [tuple(range(s0, s0 + args.seeds)) for s0 in (BEFORE_SEED0, AFTER_SEED0)]
        sides = [make_side("before", args.before, "--before", seeds[0], Path(tmp)),
                 make_side("after", args.after, "--after", seeds[1], Path(tmp))]  # fmt: skip
        scenarios = scenario_names(sides, args.scenarios)
        print(f"{len(scenarios)} scenario(s) × {args.seeds} seeds × 2 versions on {workers} worker(s)", file=sys.stderr)
        samples = run_all(sides, scenarios, workers, Path(tmp))
    results = compare_runs(samples["before"], samples["after"])
    seconds = time.perf_counter() - start
    command = " ".join(["python -m experiments.run.equivalence", *(argv if argv is not None else sys.argv[1:])])
    atomic.write_text(args.out, render(results, sides, command, seconds, workers))
    for sc, rows in results.items():
        for r in (r for r in rows if r.different):
            print(f"{sc}: {r.indicator}: {r.status} (before {_g(r.mean_before)}, after {_g(r.mean_after)}, "
                  f"z {r.z:+.2f}, KS p {_p(r.p_ks)}, q {_p(r.q)})")  # fmt: skip
    n_diff = sum(r.different for rows in results.values() for r in rows)
    print(f"{'no real difference' if not n_diff else f'{n_diff} real difference(s)'} between {args.before} and "
          f"{args.after} ({len(scenarios)} scenario(s), {args.seeds} seeds each, {seconds:.0f} s); report: {args.out}")  # fmt: skip
    return 1 if n_diff else 0


if __name__ == "__main__":
    sys.exit(main())
