"""Experiment specs, designs, seeds and metrics: everything decided before a run starts.

Bad input must stop an experiment before anything runs, with a message naming the spec
file and the field (exit status 2, no traceback); designs must come out of the samplers
with the structure their analyses expect; seeds must not depend on anything but the
experiment seed, the replicate and (optionally) the point.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.cli.main import main
from experiments.spec.design import Design, sample
from experiments.spec.experiment import load_spec, spec_from_dict
from experiments.spec.levers import Lever
from experiments.spec.metrics import Metric, compute
from experiments.spec.plan import build_plan
from experiments.spec.seeds import run_seed
from sim.errors import InputError

ROOT = Path(__file__).absolute().parents[2]
BASELINE = ROOT / "configs" / "scenarios" / "baseline.yaml"
TINY_OVERRIDES = {
    "map.size": "small",
    "population.households_per_agent": 5,
    "timeline.end": "2024-06-30",
    "outputs.figures": False,
    "outputs.progress": "off",
}


def spec_dict(**changes: object) -> dict:
    """A valid small spec as data, with top-level keys replaced by ``changes``."""
    data = {
        "name": "t",
        "base": {"scenario": str(BASELINE), "overrides": dict(TINY_OVERRIDES)},
        "levers": [{"path": "policy.store_upgrade_subsidy", "values": [0.1, 0.5]}],
        "design": "grid",
        "replicates": 2,
        "metrics": ["store_village_coverage"],
        "seed": 3,
    }
    data.update(changes)
    return data


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def cli_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI expecting an input error: exit 2, one message, no traceback."""
    code = main(["experiment", *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert err.startswith("countysim: error: ")
    return err


# --- the example spec -------------------------------------------------------------------


def test_lhs_screen_example_is_valid_and_small() -> None:
    spec = load_spec(ROOT / "configs" / "experiments" / "lhs_screen.yaml")
    plan = build_plan(spec)
    assert spec.design.method == "lhs"
    assert len(plan.runs) == spec.design.samples * spec.replicates
    # a screen of the policy levers: every lever varies across the design
    for path in plan.lever_kinds:
        assert len({str(p.values[path]) for p in plan.points}) > 1, path


def test_codistribution_grid_example_is_valid() -> None:
    # validation only (levers, metrics, every point): running it is left to the co-distribution tests
    plan = build_plan(load_spec(ROOT / "configs" / "experiments" / "codistribution_grid.yaml"))
    assert len(plan.design.values) == 2 * 5 and len(plan.runs) == 50
    assert {m.indicator for m in plan.metrics} >= {
        "express_village_coverage",
        "cost_per_parcel",
        "codistribution_parcel_share",
    }


def test_dry_run_prints_the_plan(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(
        ["experiment", str(ROOT / "configs/experiments/lhs_screen.yaml"), "--dry-run", "--out", str(tmp_path / "x")]
    )
    out = capsys.readouterr().out
    assert code == 0
    spec = load_spec(ROOT / "configs/experiments/lhs_screen.yaml")
    assert f"{spec.design.samples * spec.replicates} runs" in out and "policy.annual_budget" in out
    assert not (tmp_path / "x").exists()


# --- bad input ------------------------------------------------------------------------------


def test_unknown_lever_path_names_close_matches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_yaml(
        tmp_path / "s.yaml",
        f"""
        name: t
        base: {{scenario: {BASELINE}}}
        levers:
          - {{path: policy.store_upgrade_subsidyy, values: [0.1, 0.2]}}
        design: grid
        metrics: [store_village_coverage]
        """,
    )
    err = cli_error(capsys, str(spec))
    assert str(spec) in err
    assert "levers[0]" in err
    assert "policy.store_upgrade_subsidyy" in err and "close matches: policy.store_upgrade_subsidy" in err


def test_base_shorthands() -> None:
    one = spec_from_dict(spec_dict(base=str(BASELINE)))
    assert [b.scenario for b in one.base] == [BASELINE] and one.base[0].name == "baseline"
    two = spec_from_dict(spec_dict(base=[str(BASELINE), {"scenario": str(BASELINE), "label": "again"}]))
    assert [b.name for b in two.base] == ["baseline", "again"]
    with pytest.raises(InputError, match="same label"):
        spec_from_dict(spec_dict(base=[str(BASELINE), str(BASELINE)]))


def test_several_bases_run_the_design_on_each() -> None:
    spec = spec_from_dict(
        spec_dict(
            base=[
                {"scenario": str(BASELINE), "overrides": TINY_OVERRIDES, "label": "hill"},
                {
                    "scenario": str(BASELINE),
                    "overrides": {**TINY_OVERRIDES, "map.region": "west_mountain"},
                    "label": "mountain",
                },
            ]
        )
    )
    plan = build_plan(spec)
    assert [(p.index, p.base) for p in plan.points] == [(0, "hill"), (1, "hill"), (2, "mountain"), (3, "mountain")]
    assert (
        plan.points[2].scenario.map.region == "west_mountain" and plan.points[0].scenario.map.region == "central_hill"
    )
    assert plan.points[3].values == plan.points[1].values
    assert len(plan.runs) == 8 and [r.base for r in plan.runs[-2:]] == ["mountain", "mountain"]


def test_lever_naming_a_section_lists_its_fields() -> None:
    with pytest.raises(InputError, match=r"'policy' is a section.*policy\.annual_budget"):
        spec_from_dict(spec_dict(levers=[{"path": "policy", "values": [1]}]))


def test_the_run_seed_is_not_a_lever() -> None:
    with pytest.raises(InputError, match="run seed is set by the experiment"):
        spec_from_dict(spec_dict(levers=[{"path": "seed", "values": [1, 2]}]))


def test_range_low_above_high(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_yaml(
        tmp_path / "s.yaml",
        f"""
        name: t
        base: {BASELINE}
        levers:
          - {{path: policy.annual_budget, range: [5.0e6, 1.0e6]}}
        design: {{method: lhs, samples: 4}}
        metrics: [subsidy_spent]
        """,
    )
    err = cli_error(capsys, str(spec))
    assert "levers[0]" in err and "range low (5e+06) must be below high (1e+06)" in err


def test_unknown_design_lists_the_allowed_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_yaml(
        tmp_path / "s.yaml",
        f"""
        name: t
        base: {BASELINE}
        levers: {{policy.store_upgrade_subsidy: [0.1, 0.2]}}
        design: {{method: fractional_factorial}}
        metrics: [store_village_coverage]
        """,
    )
    err = cli_error(capsys, str(spec))
    assert "design.method" in err
    for m in ("'list'", "'grid'", "'lhs'", "'sobol'", "'morris'"):
        assert m in err


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {
                "levers": [{"path": "policy.store_upgrade_subsidy", "range": [0.0, 1.5]}],
                "design": {"method": "lhs", "samples": 4},
            },
            r"1\.5 is outside the field's valid range \[0, 1\]",
        ),
        (
            {
                "levers": [
                    {"path": "policy.annual_budget", "distribution": {"kind": "normal", "mean": 1e6, "sd": 1e5}}
                ],
                "design": {"method": "lhs", "samples": 4},
            },
            "unbounded but the field's valid range is",
        ),
        (
            {"levers": [{"path": "map.region", "range": [0, 1]}], "design": {"method": "lhs", "samples": 4}},
            "needs a numeric field",
        ),
        ({"levers": [{"path": "map.region", "values": ["east_plain", "south_coast"]}]}, "south_coast"),
        ({"levers": [{"path": "policy.unspent_rolls_over", "values": [0, 1]}]}, "takes the values true and false"),
        (
            {"levers": [{"path": "retailers.count", "range": [0.5, 3]}], "design": {"method": "lhs", "samples": 4}},
            "range of whole numbers",
        ),
        ({"levers": [{"path": "policy.store_upgrade_subsidy", "values": [0.1], "range": [0, 1]}]}, "exactly one of"),
        ({"design": {"method": "sobol", "samples": 10}}, r"power of 2 \(got 10; try 8 or 16\)"),
        ({"design": {"method": "lhs"}}, "needs samples"),
        ({"design": {"method": "morris", "samples": 4, "levels": 3}}, "even number of levels"),
        ({"metrics": ["store_coverage"]}, "unknown indicator 'store_coverage'.*store_village_coverage"),
        ({"metrics": [{"indicator": "online_share", "stat": "median"}]}, "must be one of"),
        ({"metrics": [{"indicator": "online_share", "stat": "at"}]}, "needs a date"),
        ({"metrics": [{"indicator": "online_share", "stat": "first_reaching"}]}, "needs a threshold"),
        ({"metrics": ["online_share", {"indicator": "online_share"}]}, "defined twice"),
        ({"metrics": [{"indicator": "online_share", "name": "seed"}]}, "taken by a column"),
        ({"replicates": 0}, "replicates"),
        ({"colour": "red"}, "unknown key; allowed keys here: .*backend"),
        ({"levers": [{"path": "policy.store_upgrade_subsidy", "value": [0.1]}]}, r"levers\[0\]\.value: unknown key"),
    ],
)
def test_bad_specs_are_input_errors(changes: dict, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        spec_from_dict(spec_dict(**changes))


def test_a_sampled_value_outside_the_schema_is_caught_before_running(tmp_path: Path) -> None:
    # values are not range-checked lever by lever; every design point is validated as a scenario
    spec = spec_from_dict(spec_dict(levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.2, 1.7]}]))
    with pytest.raises(InputError, match=r"design point 1 \(policy.store_upgrade_subsidy=1.7\) is not a valid"):
        build_plan(spec)


def test_cross_field_rules_are_checked_per_point() -> None:
    spec = spec_from_dict(spec_dict(levers=[{"path": "timeline.end", "values": ["2024-06-30", "2023-07-03"]}]))
    with pytest.raises(InputError, match=r"design point 1.*at least one week"):
        build_plan(spec)


def test_metric_dates_must_fall_in_every_run() -> None:
    spec = spec_from_dict(spec_dict(metrics=[{"indicator": "online_share", "stat": "at", "date": "2025-06-30"}]))
    with pytest.raises(InputError, match=r"date 2025-06-30 is outside the run's timeline 2023-07-01\.\.2024-06-30"):
        build_plan(spec)


def test_missing_base_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_yaml(
        tmp_path / "s.yaml",
        """
        name: t
        base: {scenario: nowhere.yaml}
        design: list
        metrics: [online_share]
        """,
    )
    err = cli_error(capsys, str(spec))
    assert "base.scenario" in err and "nowhere.yaml does not exist" in err


def test_bad_base_override_names_the_spec(tmp_path: Path) -> None:
    spec = spec_from_dict(spec_dict(base={"scenario": str(BASELINE), "overrides": {"policy.budget": 1}}))
    with pytest.raises(InputError, match=r"with the overrides of .*policy\.budget: unknown key"):
        build_plan(spec)


def test_spec_that_is_not_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_yaml(tmp_path / "s.yaml", "name: [unclosed\n")
    err = cli_error(capsys, str(spec))
    assert "is not valid YAML" in err


def test_bad_command_line_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_yaml(tmp_path / "s.yaml", _yaml(spec_dict()))
    assert "--workers must be at least 1" in cli_error(capsys, str(spec), "--workers", "0")
    err = cli_error(capsys, str(spec), "--backend", "processes", "--scheduler", "tcp://127.0.0.1:1")
    assert "--scheduler needs the dask backend" in err


def _yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False)


# --- designs ----------------------------------------------------------------------------------


def test_grid_is_the_full_product_in_lever_order() -> None:
    levers = [
        Lever(path="policy.unspent_rolls_over", values=[True, False]),
        Lever(path="retailers.count", range=(0, 4), steps=3),
    ]
    pts = sample(Design(method="grid"), levers, np.random.default_rng(0)).values
    assert [(p["policy.unspent_rolls_over"], p["retailers.count"]) for p in pts] == [
        (True, 0), (True, 2), (True, 4), (False, 0), (False, 2), (False, 4),
    ]  # fmt: skip


def test_list_design_zips_values_and_needs_equal_lengths() -> None:
    levers = [
        Lever(path="policy.store_upgrade_subsidy", values=[0.1, 0.2]),
        Lever(path="retailers.count", values=[1, 3]),
    ]
    pts = sample(Design(method="list"), levers, np.random.default_rng(0)).values
    assert pts == [
        {"policy.store_upgrade_subsidy": 0.1, "retailers.count": 1},
        {"policy.store_upgrade_subsidy": 0.2, "retailers.count": 3},
    ]
    with pytest.raises(ValueError, match="same length"):
        sample(
            Design(method="list"), [*levers, Lever(path="policy.annual_budget", values=[1.0])], np.random.default_rng(0)
        )


def test_lhs_is_a_latin_hypercube_mapped_to_each_lever() -> None:
    n = 16
    levers = [
        Lever(path="policy.store_upgrade_subsidy", range=(0.2, 0.6)),
        Lever(path="policy.annual_budget", distribution={"kind": "loguniform", "low": 1e5, "high": 1e7}),
        Lever(path="retailers.count", range=(0, 3)),
        Lever(path="map.region", values=["east_plain", "west_mountain"]),
    ]
    d = sample(Design(method="lhs", samples=n), levers, np.random.default_rng(5))
    assert d.unit is not None and d.unit.shape == (n, 4)
    for j in range(4):  # one sample in each of the n strata of every coordinate
        assert sorted((d.unit[:, j] * n).astype(int)) == list(range(n))
    subsidy = np.array([p["policy.store_upgrade_subsidy"] for p in d.values])
    np.testing.assert_allclose(subsidy, 0.2 + 0.4 * d.unit[:, 0])
    budget = np.array([p["policy.annual_budget"] for p in d.values])
    assert (budget >= 1e5).all() and (budget <= 1e7).all()
    np.testing.assert_allclose(np.log10(budget), 5 + 2 * d.unit[:, 1])
    counts = [p["retailers.count"] for p in d.values]
    assert all(isinstance(c, int) for c in counts) and sorted(set(counts)) == [0, 1, 2, 3]
    assert [counts.count(c) for c in range(4)] == [4, 4, 4, 4]  # equal-width bins of the strata
    assert {p["map.region"] for p in d.values} == {"east_plain", "west_mountain"}


def test_sobol_and_morris_have_salib_structure() -> None:
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    levers = [Lever(path=f"policy.{n}", range=(0.0, 1.0)) for n in ("store_upgrade_subsidy", "township_center_subsidy")]
    levers.append(
        Lever(path="policy.local_cofunding_rate", distribution={"kind": "triangular", "low": 0, "mode": 0.3, "high": 1})
    )
    k = len(levers)
    rng = np.random.default_rng(1)
    s = sample(Design(method="sobol", samples=64), levers, rng)
    assert len(s.values) == 64 * (2 * k + 2)
    assert len(sample(Design(method="sobol", samples=64, second_order=False), levers, rng).values) == 64 * (k + 2)
    # the saved unit matrix and problem analyse as-is: y = 4·x0 + x1 puts most variance on x0
    y = 4 * s.unit[:, 0] + s.unit[:, 1]
    si = sobol_analyze.analyze(s.problem, y, calc_second_order=True, seed=1)
    assert si["S1"][0] > 0.8 and si["ST"][2] < 0.05
    m = sample(Design(method="morris", samples=10, levels=4), levers, rng)
    assert len(m.values) == 10 * (k + 1)
    mi = morris_analyze.analyze(m.problem, m.unit, 3 * m.unit[:, 2], num_levels=4, seed=1)
    assert mi["mu_star"][2] > 2.9 and mi["mu_star"][0] < 1e-9


def test_morris_refuses_unbounded_distributions() -> None:
    lever = Lever(
        path="behaviour.choice_scale_yuan", distribution={"kind": "normal", "mean": 30, "sd": 5, "low": 1, "high": 60}
    )
    free = Lever.model_construct(path="behaviour.constant_township", distribution=lever.distribution.model_copy(update={"low": None, "high": None}))  # fmt: skip
    with pytest.raises(ValueError, match="unbounded distributions"):
        sample(Design(method="morris", samples=4), [lever, free], np.random.default_rng(0))


def test_designs_are_reproducible_from_the_experiment_seed() -> None:
    spec = spec_from_dict(
        spec_dict(
            levers=[{"path": "policy.store_upgrade_subsidy", "range": [0, 1]}], design={"method": "lhs", "samples": 8}
        )
    )
    a, b = build_plan(spec), build_plan(spec)
    assert [p.values for p in a.points] == [p.values for p in b.points]
    other = build_plan(spec.model_copy(update={"seed": 4}))
    assert [p.values for p in a.points] != [p.values for p in other.points]
    assert a.hashes == b.hashes and a.hashes["experiment"] != other.hashes["experiment"]


# --- seeds ---------------------------------------------------------------------------------------


def test_common_random_numbers_share_seeds_across_points() -> None:
    plan = build_plan(
        spec_from_dict(spec_dict(levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.1, 0.3, 0.5]}]))
    )
    seeds = {(r.point, r.replicate): r.seed for r in plan.runs}
    assert len(plan.runs) == 6
    for p in range(3):
        assert seeds[(p, 0)] == seeds[(0, 0)] and seeds[(p, 1)] == seeds[(0, 1)]
    assert seeds[(0, 0)] != seeds[(0, 1)]
    # the documented spawn: SeedSequence(seed).spawn(2)[1].spawn(R)[r]
    child = np.random.SeedSequence(3).spawn(2)[1].spawn(2)[1]
    assert seeds[(0, 1)] == int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    assert plan.seed_tree["runs"][1] == {"replicate": 1, "spawn_key": [1, 1], "seed": seeds[(0, 1)]}


def test_independent_seeds_when_common_random_numbers_is_off() -> None:
    spec = spec_from_dict(
        spec_dict(
            common_random_numbers=False, levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.1, 0.3, 0.5]}]
        )
    )
    plan = build_plan(spec)
    seeds = [r.seed for r in plan.runs]
    assert len(set(seeds)) == len(seeds)
    assert all(0 <= s < 2**63 for s in seeds)
    assert seeds[3] == run_seed(3, point=1, replicate=1, common_random_numbers=False)
    assert len(plan.seed_tree["runs"]) == len(plan.runs)


def test_lever_columns_keep_the_field_type() -> None:
    spec = spec_from_dict(
        spec_dict(
            levers=[
                {"path": "policy.store_upgrade_subsidy", "values": [0, 1]},  # whole numbers in a float field
                {"path": "retailers.count", "values": [1, 2]},
                {"path": "map.n_villages", "values": [None, 40]},
                {"path": "timeline.end", "values": [dt.date(2024, 3, 31), dt.date(2024, 6, 30)]},
            ]
        )
    )
    plan = build_plan(spec)
    assert plan.lever_kinds == {
        "policy.store_upgrade_subsidy": "float64",
        "retailers.count": "int64",
        "map.n_villages": "json",
        "timeline.end": "date",
    }
    assert plan.lever_row(len(plan.points) - 1) == {
        "policy.store_upgrade_subsidy": 1.0,
        "retailers.count": 2,
        "map.n_villages": "40",
        "timeline.end": "2024-06-30",
    }


def test_run_ids_and_seeds_do_not_depend_on_other_points() -> None:
    small = build_plan(spec_from_dict(spec_dict(levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.1]}])))
    big = build_plan(spec_from_dict(spec_dict(levers=[{"path": "policy.store_upgrade_subsidy", "values": [0.1, 0.9]}])))
    assert [(r.run_id, r.seed) for r in small.runs] == [(r.run_id, r.seed) for r in big.runs[:2]]


# --- metrics -----------------------------------------------------------------------------------------


@pytest.fixture
def series() -> tuple[pd.DataFrame, dict[str, float]]:
    dates = pd.date_range("2023-12-25", periods=6, freq="7D")  # weeks starting 25 Dec 2023 .. 29 Jan 2024
    ts = pd.DataFrame({"step": range(1, 7), "date": dates, "online_share": [0.1, 0.2, 0.4, 0.3, 0.5, 0.45]})
    return ts, {"online_share": 0.123}


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ({}, 0.123),
        ({"stat": "final"}, 0.45),
        ({"stat": "mean"}, (0.1 + 0.2 + 0.4 + 0.3 + 0.5 + 0.45) / 6),
        ({"stat": "mean", "year": 2024}, (0.2 + 0.4 + 0.3 + 0.5 + 0.45) / 5),
        ({"stat": "max", "to": "2024-01-20"}, 0.4),
        ({"stat": "min", "from": "2024-01-08"}, 0.3),
        ({"stat": "at", "date": "2024-01-10"}, 0.4),  # in the week starting 8 January
        ({"stat": "first_reaching", "threshold": 0.3}, pd.Timestamp("2024-01-08")),
        ({"stat": "first_reaching", "threshold": 0.15, "direction": "below"}, pd.Timestamp("2023-12-25")),
    ],
)
def test_statistics(series: tuple[pd.DataFrame, dict[str, float]], metric: dict, expected: object) -> None:
    ts, summary = series
    value = compute(Metric(indicator="online_share", **metric), ts, summary)
    if isinstance(expected, float):
        assert value == pytest.approx(expected, rel=1e-12)
    else:
        assert value == expected


def test_a_threshold_never_reached_is_nat(series: tuple[pd.DataFrame, dict[str, float]]) -> None:
    ts, summary = series
    assert compute(Metric(indicator="online_share", stat="first_reaching", threshold=0.9), ts, summary) is pd.NaT


def test_metric_column_names_say_what_they_hold() -> None:
    assert Metric(indicator="online_share").column == "online_share"
    assert Metric(indicator="online_share", stat="mean", year=2024).column == "online_share.mean_2024"
    assert (
        Metric(indicator="online_share", stat="at", date=dt.date(2024, 12, 31)).column == "online_share.at_2024-12-31"
    )
    assert (
        Metric(indicator="online_share", stat="first_reaching", threshold=0.5).column
        == "online_share.first_reaching_0.5"
    )
    assert Metric(indicator="online_share", name="x").column == "x"
