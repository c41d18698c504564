"""Figures: each figure function runs on small real outputs and writes a PNG and an SVG with
something drawn in them; Chinese terms render with a CJK font, not as boxes; the plan's
target lines and phases are where they should be; the helpers compute what they claim."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import matplotlib
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from experiments import run_experiment
from experiments.report import plots
from sim.config import DEFAULT_CRITERIA
from sim.model import CountyModel

ROOT = Path(__file__).absolute().parents[2]
BASELINE = ROOT / "configs" / "scenarios" / "baseline.yaml"
SUBSIDY, FEE = "policy.store_upgrade_subsidy", "carriers.village_delivery_fee"


@pytest.fixture(scope="module")
def run(tiny) -> tuple[CountyModel, pd.DataFrame]:
    """A tiny county over the whole plan (2023-07 to 2025-12), so every phase is in the series."""
    model = CountyModel(tiny(**{"timeline.end": "2025-12-31", "population.households_per_agent": 8}))
    result = model.run(progress=False)
    return model, result.timeseries


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """A 2 x 2 lever grid with two replicates on a small county (8 short runs)."""
    out = tmp_path_factory.mktemp("grid") / "exp"
    spec = {
        "name": "plots_grid",
        "base": {
            "scenario": str(BASELINE),
            "overrides": {
                "map.size": "small",
                "population.households_per_agent": 8,
                "timeline.end": "2024-06-30",
                "outputs.figures": False,
                "outputs.progress": "off",
            },
        },
        "levers": [{"path": SUBSIDY, "values": [0.0, 0.8]}, {"path": FEE, "values": [0.2, 1.6]}],
        "design": "grid",
        "replicates": 2,
        "metrics": ["store_village_coverage", "newtype_store_share", "express_village_coverage", "subsidy_spent"],
        "seed": 3,
        "backend": "inprocess",
    }
    return run_experiment(spec, out=out, progress=False)


def sobol_table() -> pd.DataFrame:
    """A real SALib Sobol analysis (of the Ishigami function: cheap, with known indices) in
    the shape experiments/analysis/sensitivity.py writes: metric, parameter, S1, S1_conf, ST, ST_conf."""
    from SALib.analyze import sobol
    from SALib.sample import sobol as sobol_sample
    from SALib.test_functions import Ishigami

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = sobol_sample.sample(problem, 256, calc_second_order=False, seed=1)
    rows = []
    for metric, y in (("store_village_coverage", Ishigami.evaluate(x)), ("express_village_coverage", x[:, 0])):
        si = sobol.analyze(problem, y, calc_second_order=False, seed=1)
        for k, name in enumerate(problem["names"]):
            rows.append(
                {
                    "metric": metric,
                    "parameter": name,
                    **{c: float(si[c][k]) for c in ("S1", "S1_conf", "ST", "ST_conf")},
                }
            )
    return pd.DataFrame(rows)


def assert_drawn(paths: list[Path]) -> None:
    """Both formats written, and the PNG is not a blank canvas."""
    by_ext = {p.suffix: p for p in paths}
    assert set(by_ext) == {".png", ".svg"}
    for p in paths:
        assert p.stat().st_size > 1000, p
    assert by_ext[".svg"].read_text(encoding="utf-8").lstrip().startswith(("<?xml", "<svg"))
    img = mpimg.imread(by_ext[".png"])
    flat = img.reshape(-1, img.shape[-1])
    assert len(np.unique(flat, axis=0)) > 2, f"{by_ext['.png']} is one colour"
    assert plt.get_fignums() == [], "save() must close the figure"


# --- every figure on real outputs ------------------------------------------------------------


def test_every_indicator_sheet_has_one_panel_per_indicator_on_one_time_axis(run) -> None:
    from sim.policy.indicators import INDICATORS

    _, ts = run
    fig = plots.timeseries(ts)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split(" [")[0] for ax in panels] == [i.name for i in INDICATORS]
    assert all(ax.get_title().endswith("]") for ax in panels), "each panel names its unit"
    assert len({ax.get_xlim() for ax in panels}) == 1, "every panel on the same weeks"
    plt.close(fig)


@pytest.mark.slow
def test_run_figures_writes_maps_series_targets_and_channels(run, tmp_path: Path) -> None:
    model, ts = run
    paths = plots.run_figures(model, ts, tmp_path)
    names = {p.stem for p in paths}
    # the every-indicator sheet is left to countysim report (it was most of countysim run's time)
    assert names == {"county_map", "logistics_map", "farm_sales", "targets", "channel_shares"}
    for name in names:
        assert_drawn([p for p in paths if p.stem == name])


def test_indicator_series_of_several_runs(run, tmp_path: Path) -> None:
    _, ts = run
    stacked = pd.concat([ts.assign(run_id=0), ts.assign(run_id=1, express_village_coverage=0.5)])
    fig = plots.indicator_series(stacked, ["express_village_coverage", "online_share"])
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.lines]
    assert "median of 2 runs" in labels
    assert_drawn(plots.save(fig, tmp_path, "several"))


def test_lever_heatmap_cells_are_the_means_of_their_runs(runs, tmp_path: Path) -> None:
    fig = plots.lever_heatmap(runs, SUBSIDY, FEE, "newtype_store_share")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    means = runs.groupby([SUBSIDY, FEE])["newtype_store_share"].mean()
    assert texts == sorted(plots._fmt(v) for v in means)
    assert_drawn(plots.save(fig, tmp_path, "heat"))


def test_heatmap_bins_a_continuously_sampled_lever(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"a": rng.uniform(0, 1, 200), "b": rng.uniform(0, 10, 200)})
    table["m"] = table["a"] + table["b"]
    fig = plots.lever_heatmap(table, "a", "b", "m", max_levels=4)
    assert len(fig.axes[0].texts) == 16
    assert_drawn(plots.save(fig, tmp_path, "binned"))


def test_sensitivity_bars_show_indices_with_intervals(tmp_path: Path) -> None:
    table = sobol_table()
    fig = plots.sensitivity_bars(table)
    assert len([a for a in fig.axes if a.get_title()]) == 2
    first = fig.axes[0]
    widths = sorted(round(p.get_width(), 6) for p in first.patches)
    expected = table[table["metric"] == "store_village_coverage"][["S1", "ST"]].to_numpy().ravel()
    assert widths == sorted(round(float(v), 6) for v in expected)
    assert_drawn(plots.save(fig, tmp_path, "sensitivity"))


def test_sensitivity_bars_name_missing_columns() -> None:
    with pytest.raises(ValueError, match="ST_conf"):
        plots.sensitivity_bars(sobol_table().drop(columns=["ST_conf"]))


def test_attainment_curve_is_the_share_of_runs_meeting_the_target(runs, tmp_path: Path) -> None:
    threshold = float(runs["express_village_coverage"].median())
    fig = plots.attainment_curve(runs, FEE, "express_village_coverage", threshold)
    line = fig.axes[0].lines[0]
    expected = (runs["express_village_coverage"] >= threshold).groupby(runs[FEE]).mean().sort_index()
    np.testing.assert_allclose(line.get_ydata(), expected.to_numpy())
    assert_drawn(plots.save(fig, tmp_path, "attainment"))
    by = plots.attainment_curve(runs, FEE, "express_village_coverage", threshold, by=SUBSIDY)
    assert len(by.axes[0].containers) == 2  # one errorbar curve per subsidy level
    assert_drawn(plots.save(by, tmp_path, "attainment_by"))


def test_tier_distribution_from_counts_or_shares(tmp_path: Path) -> None:
    counts = pd.DataFrame({0: [900, 400, 150], 1: [700, 900, 1000], 2: [200, 400, 500], 3: [44, 144, 194]})
    counts.index = [2023, 2024, 2025]
    fig = plots.tier_distribution(counts)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == pytest.approx(3.0)  # three years, each normalised to 1
    assert any(abs(line.get_ydata()[0] - 0.9) < 1e-12 for line in ax.lines)
    assert_drawn(plots.save(fig, tmp_path, "tiers"))
    with pytest.raises(ValueError, match="unknown tier"):
        plots.tier_distribution(pd.DataFrame({"gold": [1.0]}))


def test_cost_frontier_marks_the_undominated_packages(runs, tmp_path: Path) -> None:
    points = runs.groupby([SUBSIDY, FEE], as_index=False)[["subsidy_spent", "newtype_store_share"]].mean()
    points["package"] = [f"{a:g}/{b:g}" for a, b in zip(points[SUBSIDY], points[FEE], strict=True)]
    fig = plots.cost_frontier(points, "subsidy_spent", "newtype_store_share", label_col="package")
    front = plots.pareto_front(points["subsidy_spent"], points["newtype_store_share"])
    assert len(fig.axes[0].texts) == front.sum()
    assert_drawn(plots.save(fig, tmp_path, "frontier"))


# --- helpers -----------------------------------------------------------------------------------


def test_pareto_front_by_hand() -> None:
    cost = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 1.5])
    outcome = np.array([0.1, 0.5, 0.4, 0.45, 0.9, 0.05])
    assert plots.pareto_front(cost, outcome).tolist() == [True, True, False, False, True, False]


def test_wilson_interval_matches_the_formula() -> None:
    lo, hi = plots.wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 10]))
    assert lo[0] == 0.0 and hi[0] == pytest.approx(0.2775, abs=1e-4)
    assert lo[1] == pytest.approx(0.2366, abs=1e-4) and hi[1] == pytest.approx(0.7634, abs=1e-4)
    assert hi[2] == 1.0 and lo[2] == pytest.approx(0.7225, abs=1e-4)


def test_target_lines_and_phases_are_drawn_on_the_series(run) -> None:
    _, ts = run
    lines = plots.target_lines()
    for name in ("express_village_coverage", "store_village_coverage", "township_center_coverage"):
        assert lines.get(name), f"no reference line for {name}"
        assert all(line.source for line in lines[name])
    fig = plots.indicator_series(ts, ["express_village_coverage", "store_village_coverage"])
    for ax, name in zip(fig.axes, ["express_village_coverage", "store_village_coverage"], strict=True):
        ys = {round(float(ln.get_ydata()[0]), 6) for ln in ax.lines if len(set(ln.get_ydata())) == 1}
        assert {round(t.value, 6) for t in lines[name]} <= ys
        spans = [p for p in ax.patches if p.get_width() > 0]
        assert len(spans) == len(plots.plan_phases()) == 3
    plt.close(fig)
    phases = plots.plan_phases()
    assert [p.start.isoformat() for p in phases] == ["2023-07-01", "2024-01-01", "2025-01-01"]
    assert phases[-1].end.isoformat() == "2025-10-31"


# --- Chinese text ------------------------------------------------------------------------------


def _render(text: str, family: list[str] | None = None) -> np.ndarray:
    with matplotlib.rc_context({"font.family": family} if family else {}):
        fig = plt.figure(figsize=(1.2, 0.6), dpi=100)
        fig.text(0.1, 0.2, text, fontsize=24)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
    buf.seek(0)
    return mpimg.imread(buf)[..., :3]


def test_a_cjk_font_is_configured() -> None:
    assert plots.CJK_FAMILY is not None, "no CJK font: install countysim with its dependencies (mplfonts)"
    assert plots.CJK_FAMILY in matplotlib.rcParams["font.family"]


def test_chinese_glyphs_render_without_falling_back_to_boxes() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        glyph = _render("县")
        fig = plots.indicator_series(
            pd.DataFrame({"date": pd.date_range("2023-07-03", periods=10, freq="W-MON"), "online_share": 0.2})
        )
        fig.canvas.draw()
        plt.close(fig)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tofu = _render("县", ["DejaVu Sans"])  # DejaVu has no Han glyphs: this is the box
        other = _render("商", ["DejaVu Sans"])
    assert np.array_equal(tofu, other), "DejaVu should draw every missing glyph as the same box"
    assert (glyph < 0.5).any(), "nothing drawn"
    assert not np.array_equal(glyph, tofu)
    assert not np.array_equal(glyph, _render("商"))  # two different characters, two different glyphs


def test_county_map_marks_villages_without_express_and_the_county_against_each_line(run) -> None:
    model, _ = run
    fig = plots.county_map(model)
    ax = fig.axes[0]
    no_door = int((model.logistics.door_share[model.county.villages] <= 0).sum())
    assert any(
        f"village without express delivery (快递进村) ({no_door})" == t.get_text() for t in ax.get_legend().texts
    )
    box = "\n".join(t.get_text() for t in ax.texts)
    latest = model.rows[-1]
    for name, lines in plots.target_lines().items():
        for line in lines:
            mark = "✓" if line.met(latest[name]) else "✗"
            assert f"{mark} {name.replace('_', ' ')} {latest[name]:.2f} {line.op} {line.value:g}" in box
    plt.close(fig)


def test_target_lines_follow_the_criteria_file(tmp_path: Path) -> None:
    text = DEFAULT_CRITERIA.read_text(encoding="utf-8")
    marker = '    - indicator: store_village_coverage\n      op: ">="\n      threshold: 0.9\n'
    assert marker in text, "the default criteria file changed shape; update this test"
    swapped = tmp_path / "province.yaml"
    swapped.write_text(text.replace(marker, marker.replace("0.9", "0.75")), encoding="utf-8")
    default = {line.value for line in plots.target_lines()["store_village_coverage"]}
    province = {line.value for line in plots.target_lines(swapped)["store_village_coverage"]}
    assert 0.9 in default and 0.75 in province and 0.9 not in province
