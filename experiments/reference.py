"""Golden regression on the reference scenarios (configs/reference/ → results/reference/).

``python -m experiments.reference --check`` (what the test suite does) runs every reference
scenario and compares its weekly series with the stored golden file;
``--update`` (``make reference``) rewrites the golden files and prints what moved, so a
change of model behaviour is always seen and committed on purpose.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import atomic
from sim.config import load_scenario
from sim.errors import InputError
from sim.model import CountyModel

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "configs" / "reference"
GOLDEN = ROOT / "results" / "reference"
#: Tolerances of the comparison: the model is deterministic, so only floating-point noise
#: from a different BLAS or CPU may differ.
RTOL, ATOL = 1e-9, 1e-9


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
    print(f"golden files in {GOLDEN.relative_to(ROOT)}; review with `git diff --stat results/reference` and commit")


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except InputError as err:
        print(f"error: {err.render()}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.reference", description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--check", action="store_true", help="compare with the golden files")
    g.add_argument("--update", action="store_true", help="rewrite the golden files and show the diff")
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
