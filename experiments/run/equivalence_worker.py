"""One worker of the equivalence check: the final-year summaries of one scenario over some seeds.

:mod:`experiments.run.equivalence` runs this file as a script (``python -P``) with the code
under test — a revision's tree or the working tree — alone on ``PYTHONPATH``, so each model
version lives in its own process. It imports nothing from ``experiments`` and only the oldest
interface of the model (``load_scenario``, ``CountyModel(scenario, seed=...).run().summary``),
so it works with any revision that has them.

Usage: ``python -P equivalence_worker.py OUT.json SCENARIO.yaml SEED [SEED ...]``; writes
``{"sim": <path of the sim package imported>, "summaries": {seed: {indicator: value}}}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import sim
from sim.config import load_scenario
from sim.model import CountyModel


def main(argv: list[str]) -> int:
    out, scenario_path, *seeds = argv
    scenario = load_scenario(Path(scenario_path))
    summaries = {}
    for seed in map(int, seeds):
        summary = CountyModel(scenario, seed=seed).run(progress=False).summary
        summaries[str(seed)] = {k: float(v) for k, v in summary.items()}
    Path(out).write_text(json.dumps({"sim": sim.__file__, "summaries": summaries}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
