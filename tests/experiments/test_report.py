"""``countysim report``: a run or experiment folder becomes one HTML page that needs nothing
else: every figure embedded as a PNG that decodes, the scenario card, the 2025 lines and
the key numbers; bad folders are refused with exit status 2 and no page is left behind."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import yaml

from experiments import run_experiment
from experiments.cli.main import main
from tests.helpers import TINY

ROOT = Path(__file__).absolute().parents[2]
BASELINE = ROOT / "configs" / "scenarios" / "baseline.yaml"
SUBSIDY, FEE = "policy.store_upgrade_subsidy", "carriers.village_delivery_fee"


class Page(HTMLParser):
    """What a browser would have to fetch, and the images inline."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.external: list[str] = []
        self.headings: list[str] = []
        self._in_h = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag in ("script", "link", "iframe", "object", "embed") and (a.get("src") or a.get("href")):
            self.external.append(f"{tag} {a.get('src') or a.get('href')}")
        if tag in ("h1", "h2", "h3"):
            self._in_h = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3"):
            self._in_h = False

    def handle_data(self, data: str) -> None:
        if self._in_h:
            self.headings.append(data)


def parse(path: Path) -> tuple[Page, str]:
    text = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    return page, text


def assert_self_contained(page: Page, text: str) -> None:
    assert page.external == []
    assert "url(http" not in text and "@import" not in text
    for src in page.images:
        assert src.startswith("data:image/png;base64,"), src[:60]
        png = base64.b64decode(src.split(",", 1)[1])
        assert png.startswith(b"\x89PNG")
        img = mpimg.imread(io.BytesIO(png))
        assert len(np.unique(img.reshape(-1, img.shape[-1]), axis=0)) > 2
    assert "@font-face" in text and "data:font/woff;base64," in text  # the Chinese glyphs travel with the page


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny county over the whole plan, with its figures, written by ``countysim run``."""
    tmp = tmp_path_factory.mktemp("run")
    data = {
        **TINY,
        "timeline": {"start": "2023-07-01", "end": "2025-12-31"},
        "population": {"households_per_agent": 8},
        "outputs": {"figures": True, "progress": "off"},
        "policy": {"store_upgrade_subsidy": 0.55},
    }
    scenario = tmp / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["run", str(scenario), "--out", str(tmp / "out")]) == 0
    return tmp / "out"


@pytest.fixture(scope="module")
def experiment_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exp") / "grid"
    spec = {
        "name": "report_grid",
        "description": "two levers, two levels each",
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
        "metrics": [
            "store_village_coverage",
            "express_village_coverage",
            "subsidy_spent",
            {"indicator": "newtype_store_share", "stat": "first_reaching", "threshold": 0.2},
        ],
        "keep_timeseries": True,
        "seed": 4,
        "backend": "inprocess",
    }
    run_experiment(spec, out=out, progress=False)
    return out


# --- run folders -------------------------------------------------------------------------------


def test_run_report_embeds_every_figure_and_the_card(run_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(run_folder)]) == 0
    assert "report written to" in capsys.readouterr().out
    page, text = parse(run_folder / "report.html")
    assert_self_contained(page, text)
    pngs = sorted(p.stem for p in (run_folder / "figures").glob("*.png"))
    # countysim run drew five; the report added the every-indicator sheet (issue 17: run stays quick)
    assert "indicators" in pngs and (run_folder / "figures" / "indicators.svg").is_file()
    assert len(pngs) == 6 and len(page.images) == len(pngs)
    for name in pngs:
        assert f'id="fig-{name}"' in text
    assert {"Scenario card", "The plan's 2025 lines", "Key numbers", "Figures"} <= set(page.headings)
    # the card shows what differs from the defaults, here the subsidy
    card = text.split("Settings that differ from the defaults", 1)[1].split("</table>", 1)[0]
    assert "policy.store_upgrade_subsidy" in card and "0.55" in card
    # the 2025 lines: one row per reference line, with the run's value at its last week
    from experiments.report.plots import target_lines

    ts = pd.read_parquet(run_folder / "timeseries.parquet")
    section = text.split("2025 lines</h2>", 1)[1].split("Key numbers</h2>", 1)[0]
    for name, lines in target_lines().items():
        if name in ts.columns:
            assert section.count(f"<td>{name} <span") == len(lines)
    assert "村级商业网点覆盖率" in text


def test_a_run_without_figures_gets_its_series_figures_drawn(run_folder: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("manifest.json", "summary.json", "timeseries.parquet"):
        (bare / name).write_bytes((run_folder / name).read_bytes())
    out = tmp_path / "elsewhere" / "page.html"
    assert main(["report", str(bare), "--out", str(out)]) == 0
    page, text = parse(out)
    assert_self_contained(page, text)
    assert len(page.images) == 4  # targets, channel shares, farm sales, every indicator: maps need the model
    assert not (bare / "report.html").exists()
    # what the page drew is kept beside the run, as countysim run would have written it
    drawn = {p.name for p in (bare / "figures").iterdir()}
    assert drawn == {
        f"{n}.{e}" for n in ("targets", "channel_shares", "farm_sales", "indicators") for e in ("png", "svg")
    }


# --- experiment folders --------------------------------------------------------------------------


def test_experiment_report_draws_sweeps_attainment_frontier_and_sensitivity(experiment_folder: Path) -> None:
    sens = pd.DataFrame(
        {
            "metric": ["store_village_coverage"] * 2,
            "parameter": [SUBSIDY, FEE],
            "S1": [0.6, 0.1],
            "S1_conf": [0.1, 0.05],
            "ST": [0.7, 0.2],
            "ST_conf": [0.1, 0.05],
        }
    )
    sens.to_csv(experiment_folder / "sensitivity.csv", index=False)
    assert main(["report", str(experiment_folder)]) == 0
    page, text = parse(experiment_folder / "report.html")
    assert_self_contained(page, text)
    figs = experiment_folder / "figures"
    names = {p.stem for p in figs.glob("*.png")}
    assert names == {p.stem for p in figs.glob("*.svg")}, "every figure as PNG and SVG"
    assert len(page.images) == len(names)
    assert "sensitivity" in names and "targets" in names
    assert {f"heatmap_{m}" for m in ("store_village_coverage", "express_village_coverage", "subsidy_spent")} <= names
    assert any(n.startswith("attainment_express_village_coverage") for n in names)
    assert any(n.startswith("frontier_") for n in names)
    assert "Sensitivity indices" in page.headings
    # the attainment table counts the runs that meet each line
    runs = pd.read_parquet(experiment_folder / "runs.parquet")
    met = int((runs["store_village_coverage"] >= 0.9).sum())
    assert f"{met} of {len(runs)}" in text


def test_a_bad_sensitivity_table_is_an_input_error(
    experiment_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.html"
    (experiment_folder / "sensitivity.csv").write_text("metric,parameter,S1\nx,y,0.1\n", encoding="utf-8")
    try:
        assert main(["report", str(experiment_folder), "--out", str(bad)]) == 2
    finally:
        (experiment_folder / "sensitivity.csv").unlink()
    assert "ST_conf" in capsys.readouterr().err
    assert not bad.exists()


# --- bad folders -------------------------------------------------------------------------------


def _copy_run(run_folder: Path, dest: Path) -> Path:
    dest.mkdir()
    for name in ("manifest.json", "summary.json", "timeseries.parquet"):
        (dest / name).write_bytes((run_folder / name).read_bytes())
    return dest


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no such folder"),
        ("file", "is a file"),
        ("empty", "no manifest.json"),
        ("no_series", "lacks timeseries.parquet"),
        ("broken_manifest", "cannot be read as JSON"),
        ("other_kind", "expected 'run' or 'experiment'"),
        ("broken_parquet", "cannot be read as Parquet"),
        ("experiment_without_runs", "no finished runs"),
        ("out_is_folder", "is a folder"),
    ],
)
def test_bad_folders_exit_2_with_a_clear_message(
    case: str, message: str, run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "target"
    args: list[str] = []
    if case == "file":
        target.write_text("not a folder", encoding="utf-8")
    elif case == "empty":
        target.mkdir()
    elif case in ("no_series", "broken_manifest", "other_kind", "broken_parquet", "out_is_folder"):
        _copy_run(run_folder, target)
        if case == "no_series":
            (target / "timeseries.parquet").unlink()
        elif case == "broken_manifest":
            (target / "manifest.json").write_text("{not json", encoding="utf-8")
        elif case == "other_kind":
            (target / "manifest.json").write_text(json.dumps({"kind": "sweep"}), encoding="utf-8")
        elif case == "broken_parquet":
            (target / "timeseries.parquet").write_bytes(b"PAR1 truncated")
        else:
            (tmp_path / "adir").mkdir()
            args = ["--out", str(tmp_path / "adir")]
    elif case == "experiment_without_runs":
        target.mkdir()
        (target / "manifest.json").write_text(json.dumps({"kind": "experiment", "name": "x"}), encoding="utf-8")
    assert main(["report", str(target), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("countysim: error:") and message in err, err
    assert "Traceback" not in err
    assert not (target / "report.html").exists() if target.is_dir() else True


def test_experiment_report_shows_what_other_analyses_left(experiment_folder: Path, tmp_path: Path) -> None:
    """Several methods in one sensitivity table (Morris rows have no S1/ST), a national
    ensemble's national.csv, and a figure another analysis drew: all reach the page."""
    import matplotlib.pyplot as plt

    sens = pd.DataFrame(
        {
            "method": ["morris", "morris", "sobol", "sobol"],
            "metric": ["store_village_coverage"] * 4,
            "parameter": [SUBSIDY, FEE, SUBSIDY, FEE],
            "S1": [np.nan, np.nan, 0.5, 0.2],
            "S1_conf": [np.nan, np.nan, 0.1, 0.1],
            "ST": [np.nan, np.nan, 0.6, 0.3],
            "ST_conf": [np.nan, np.nan, 0.1, 0.1],
            "mu_star": [0.31, 0.07, np.nan, np.nan],
        }
    )
    national = pd.DataFrame(
        [
            {"year": y, "indicator": f"share_tier_{t}", "mean": m, "low": m, "high": m}
            for y, shares in ((2024, (0.5, 0.4, 0.1, 0.0)), (2025, (0.1, 0.5, 0.3, 0.1)))
            for t, m in zip(("none", "basic", "enhanced", "advanced"), shares, strict=True)
        ]
    )
    created = [experiment_folder / "sensitivity.csv", experiment_folder / "national.csv"]
    foreign = experiment_folder / "figures" / "drawn_elsewhere.png"
    sens.to_csv(created[0], index=False)
    national.to_csv(created[1], index=False)
    foreign.parent.mkdir(exist_ok=True)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    fig.savefig(foreign)
    plt.close(fig)
    out = tmp_path / "page.html"
    try:
        assert main(["report", str(experiment_folder), "--out", str(out)]) == 0
    finally:
        for p in (*created, foreign):
            p.unlink()
    page, text = parse(out)
    assert_self_contained(page, text)
    for name in ("sensitivity", "national_tiers", "drawn_elsewhere"):
        assert f'id="fig-{name}"' in text
    assert "(method sobol)" in text  # the bars are the Sobol' rows, and say so
    section = text.split("Sensitivity indices</h2>", 1)[1].split("</table>", 1)[0]
    assert "<th>mu_star</th>" in section and "morris" in section
    assert "National indicators (national ensemble)" in text and "share_tier_enhanced" in text
