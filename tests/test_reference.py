"""Golden regression: the reference scenarios reproduce results/reference/ exactly.

A failure here means model behaviour changed. If the change is intended, run
`make reference`, read the diff it prints, and commit the new golden files.
"""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.run import reference

SCENARIOS = reference.reference_scenarios()


def test_there_are_reference_scenarios():
    assert len(SCENARIOS) >= 3


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_reference_matches_golden(path):
    golden = reference.golden_path(path)
    assert golden.exists(), f"missing {golden}; run `make reference`"
    problems = reference.compare(reference.simulate(path), pd.read_csv(golden))
    assert not problems, "\n".join(problems)


def test_compare_detects_a_change():
    path = SCENARIOS[0]
    old = pd.read_csv(reference.golden_path(path))
    new = old.copy()
    new.loc[10, "online_share"] *= 1.001
    problems = reference.compare(new, old)
    assert len(problems) == 1 and problems[0].startswith("online_share")


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_distribution_over_other_seeds_matches_the_reference(path):
    import json

    stored = json.loads(reference.DISTRIBUTIONS.read_text())
    assert set(stored["seeds"]).isdisjoint(reference.CHECK_SEEDS)
    ref = stored["scenarios"][path.stem]
    problems = reference.compare_distributions(reference.final_year(path, reference.CHECK_SEEDS), ref)
    assert not problems, "\n".join(problems)


def test_distribution_check_catches_a_shift():
    import json

    ref = json.loads(reference.DISTRIBUTIONS.read_text())["scenarios"][SCENARIOS[0].stem]
    shifted = {k: [v * 1.15 for v in vals] for k, vals in ref.items()}
    assert reference.compare_distributions(shifted, ref)
