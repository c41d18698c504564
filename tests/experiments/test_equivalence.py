"""The equivalence check run before the golden files are refreshed (experiments.run.equivalence)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.run import equivalence as eq


def _null_table(rng: np.random.Generator, n: int = 20, indicators: int = 60) -> tuple[dict, dict]:
    """Before and after drawn from the same distributions (different seeds, like the check)."""
    scales = rng.uniform(0.1, 100.0, indicators)
    before = {f"x{i}": list(rng.normal(s, s / 10, n)) for i, s in enumerate(scales)}
    after = {f"x{i}": list(rng.normal(s, s / 10, n)) for i, s in enumerate(scales)}
    return {"county": before}, {"county": after}


def test_a_shifted_distribution_is_flagged_and_the_rest_is_not() -> None:
    rng = np.random.default_rng(1)
    before, after = _null_table(rng)
    after["county"]["x3"] = list(np.asarray(after["county"]["x3"]) + 2 * np.std(after["county"]["x3"]))
    rows = {r.indicator: r for r in eq.compare_runs(before, after)["county"]}
    assert rows["x3"].status == eq.DIFFERENT and rows["x3"].z > 3 and rows["x3"].q < eq.ALPHA
    assert [k for k, r in rows.items() if r.different] == ["x3"]


def test_a_change_of_spread_alone_is_flagged_by_the_ks_test() -> None:
    rng = np.random.default_rng(2)
    row = eq.apply_fdr([eq.compare_samples("x", rng.normal(0, 1, 20), rng.choice([-3.0, 3.0], 20))])[0]
    assert row.p_welch > 0.05 and row.p_ks < 0.01 and row.status == eq.DIFFERENT


def test_same_distributions_and_identical_inputs_are_not_flagged() -> None:
    before, after = _null_table(np.random.default_rng(3))
    assert not any(r.different for r in eq.compare_runs(before, after)["county"])
    same = eq.compare_runs(before, before)["county"]
    assert all(r.status == eq.SAME and r.z == 0 and r.q == 1 for r in same)


def test_zero_variance_columns() -> None:
    rows = eq.apply_fdr(
        [
            eq.compare_samples("const", [2.0] * 20, [2.0] * 20),
            eq.compare_samples("ulp", [0.1 + 0.2] * 20, [0.3] * 20),  # within the golden tolerance
            eq.compare_samples("moved", [1.0] * 20, [0.975] * 20),
            eq.compare_samples("few", [1.0] * 3, [0.975] * 3),  # 3 seeds cannot tell
        ]
    )
    const, ulp, moved, few = rows
    assert const.status == ulp.status == eq.IDENTICAL and const.mean_before == const.mean_after == 2.0
    assert math.isnan(const.q)  # not tested, so not in the multiple-testing family
    assert moved.status == eq.DIFFERENT and moved.z == -math.inf and moved.p_ks < 1e-10
    assert few.status == eq.SAME


def test_an_indicator_on_one_side_only_is_a_difference() -> None:
    rows = eq.compare_runs({"c": {"a": [1.0, 2.0], "old": [1.0, 1.0]}}, {"c": {"a": [1.0, 2.0], "new": [3.0, 3.0]}})
    assert {r.indicator: r.status for r in rows["c"]} == {"a": eq.SAME, "new": eq.ONLY_AFTER, "old": eq.ONLY_BEFORE}


def test_the_report_names_the_verdict() -> None:
    rows = eq.compare_runs({"c": {"a": [1.0] * 20}}, {"c": {"a": [5.0] * 20}})
    text = "\n".join(eq.summary_table(rows))
    assert "| c | 1 | 0 | 1 | 1 |" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--before", "no-such-revision-xyz"], "--before 'no-such-revision-xyz'"),
        (["--before", "HEAD", "--after", "deadbeef" * 5], "--after"),
        (["--before=-rf"], "--before '-rf'"),
        (["--before", "HEAD", "--seeds", "1"], "--seeds 1"),
        (["--before", "HEAD", "--scenarios", "no_such_scenario"], "--scenarios: no_such_scenario"),
    ],
)
def test_bad_input_is_exit_2_with_a_message(argv, message, capsys, tmp_path) -> None:
    assert eq.main([*argv, "--out", str(tmp_path / "eq.md")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "eq.md").exists()


def test_the_current_code_against_itself(tmp_path, capsys) -> None:
    """End to end on the smallest reference scenario, 2 seeds: HEAD unpacked vs the working tree."""
    out = tmp_path / "eq.md"
    argv = ["--before", "HEAD", "--seeds", "2", "--scenarios", "small_west_mountain_low_budget", "--out", str(out)]
    assert eq.main([*argv, "--workers", "2"]) == 0
    assert "no real difference" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert "**Verdict: no real difference.**" in text and "`store_village_coverage`" in text
