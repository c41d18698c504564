"""Golden regression on the reference scenarios (configs/reference/ → results/reference/).

``python -m experiments.run.reference --check`` (what the test suite does) runs every reference
scenario and compares its weekly series with the stored golden file;
``--update`` (``make reference``) rewrites the golden files and prints what moved, so a
change of model behaviour is always seen and committed on purpose — after the statistical
equivalence check (:mod:`experiments.run.equivalence`) has compared the old and new model
over 20 seeds per scenario and any real difference has been explained.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from experiments.run import atomic
from sim.config import load_scenario
from sim.errors import InputError
from sim.model import CountyModel

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "configs" / "reference"
GOLDEN = ROOT / "results" / "reference"
#: Tolerances of the comparison: the model is deterministic, so only floating-point noise
#: from a different BLAS or CPU may differ.
RTOL, ATOL = 1e-9, 1e-9

#: Statistical regression: the final-year distribution of key indicators over many seeds is
#: stored (``distributions.json``) and later compared with a run over *other* seeds, so a
#: change of behaviour is caught even though no seed is shared with the stored runs.
KEY_INDICATORS = (
    "store_village_coverage",
    "newtype_store_share",
    "express_village_coverage",
    "online_share",
    "cost_per_parcel",
    "farm_income",
    "consumer_surplus",
    "online_buyer_share",
)
REFERENCE_SEEDS = tuple(range(1000, 1016))
CHECK_SEEDS = tuple(range(1, 7))
DISTRIBUTIONS = GOLDEN / "distributions.json"


def reference_scenarios() -> list[Path]:
    return sorted(SCENARIOS.glob("*.yaml"))


def simulate(path: Path) -> pd.DataFrame:
    """The weekly series of a reference scenario, dates as ISO text."""
    scenario = load_scenario(path)
    ts = CountyModel(scenario).run(progress=False).timeseries
    ts["date"] = ts["date"].dt.strftime("%Y-%m-%d")
    return ts


def golden_path(path: Path) -> Path:
    return GOLDEN / f"{path.stem}.csv"


def to_csv(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format="%.17g", lineterminator="\n")
    return buf.getvalue()


def compare(new: pd.DataFrame, old: pd.DataFrame) -> list[str]:
    """Differences between two series, one line per indicator that moved."""
    problems = []
    if list(new.columns) != list(old.columns):
        return [f"columns differ: now {list(new.columns)}, golden {list(old.columns)}"]
    if len(new) != len(old):
        return [f"length differs: now {len(new)} weeks, golden {len(old)}"]
    for col in new.columns:
        a, b = new[col].to_numpy(), old[col].to_numpy()
        if col == "date":
            if not (a == b).all():
                problems.append("dates differ")
            continue
        a, b = a.astype(float), b.astype(float)
        bad = ~np.isclose(a, b, rtol=RTOL, atol=ATOL)
        if bad.any():
            i = int(np.argmax(bad))
            problems.append(
                f"{col}: {bad.sum()} weeks differ, first at week {i + 1} ({new['date'].iloc[i]}): "
                f"golden {b[i]:.6g} -> now {a[i]:.6g}; final golden {b[-1]:.6g} -> now {a[-1]:.6g}"
            )
    return problems


def final_year(path: Path, seeds: tuple[int, ...]) -> dict[str, list[float]]:
    """Final-year values of the key indicators of a reference scenario, one per seed."""
    scenario = load_scenario(path)
    out: dict[str, list[float]] = {k: [] for k in KEY_INDICATORS}
    for seed in seeds:
        summary = CountyModel(scenario, seed=seed).run(progress=False).summary
        for k in KEY_INDICATORS:
            out[k].append(summary[k])
    return out


def compare_distributions(new: dict[str, list[float]], ref: dict[str, list[float]]) -> list[str]:
    """Indicators whose distribution over the check seeds departs from the stored one.

    Two tests, both must pass: the two-sample Kolmogorov-Smirnov test at the 0.1% level,
    and an equivalence margin on the mean: |mean difference| within four standard errors
    of the difference plus 2% of the reference mean (a floor for indicators that barely
    vary across seeds).
    """
    problems = []
    for k in KEY_INDICATORS:
        a, b = np.asarray(new[k]), np.asarray(ref[k])
        se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        margin = 4.0 * se + 0.02 * abs(b.mean()) + 1e-9
        diff = a.mean() - b.mean()
        p = ks_2samp(a, b).pvalue if (a.std() > 0 or b.std() > 0) else 1.0
        if abs(diff) > margin or p < 0.001:
            problems.append(f"{k}: mean {a.mean():.6g} vs reference {b.mean():.6g} (margin {margin:.3g}), KS p={p:.2g}")
    return problems


def update_distributions() -> None:
    """Store the final-year distributions of the key indicators over the reference seeds."""
    data = {p.stem: final_year(p, REFERENCE_SEEDS) for p in reference_scenarios()}
    atomic.write_json(DISTRIBUTIONS, {"seeds": list(REFERENCE_SEEDS), "scenarios": data})
    print(f"distributions over {len(REFERENCE_SEEDS)} seeds written to {DISTRIBUTIONS.relative_to(ROOT)}")


def check() -> dict[str, list[str]]:
    """Run every reference scenario; return the problems per scenario (empty when all match)."""
    out = {}
    for path in reference_scenarios():
        golden = golden_path(path)
        if not golden.exists():
            out[path.stem] = [f"no golden file {golden.relative_to(ROOT)}; run `make reference`"]
            continue
        out[path.stem] = compare(simulate(path), pd.read_csv(golden))
    return out


def update() -> None:
    """Rewrite the golden files and print what changed."""
    for path in reference_scenarios():
        new = simulate(path)
        golden = golden_path(path)
        if golden.exists():
            diffs = compare(new, pd.read_csv(golden))
            print(f"{path.stem}: " + ("unchanged" if not diffs else f"{len(diffs)} indicator(s) changed"))
            for d in diffs:
                print(f"  {d}")
        else:
            print(f"{path.stem}: new golden file")
        atomic.write_text(golden, to_csv(new))
    update_distributions()
    print(f"golden files in {GOLDEN.relative_to(ROOT)}; review with `git diff --stat results/reference` and commit")


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except InputError as err:
        print(f"error: {err.render()}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.run.reference", description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--check", action="store_true", help="compare with the golden files")
    g.add_argument(
        "--update",
        action="store_true",
        help="rewrite the golden files and show the diff; after a change of model behaviour, first run "
        "`python -m experiments.run.equivalence --before REV` (exit 0: no real difference) and explain "
        "any difference it reports",
    )
    args = p.parse_args(argv)
    if args.update:
        update()
        return 0
    failed = {k: v for k, v in check().items() if v}
    for name, problems in failed.items():
        print(f"{name}:")
        for line in problems:
            print(f"  {line}")
    print("all reference scenarios match" if not failed else f"{len(failed)} reference scenario(s) differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
