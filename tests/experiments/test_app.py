"""The live page's model adapter and its command, without a browser (see test_browser.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from experiments.cli.main import main
from experiments.viz import app
from sim.errors import InputError


@pytest.fixture
def short(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's base scenario over two months (what ``countysim viz --set`` hands over)."""
    monkeypatch.delenv(app.ENV_SCENARIO, raising=False)
    monkeypatch.setenv(app.ENV_OVERRIDES, json.dumps(["timeline.end=2023-08-31"]))


def test_sliders_become_scenario_fields(short: None) -> None:
    sc = app.scenario_for(
        store_upgrade_subsidy=0.7, codistribution=True, region="west_mountain", training_capacity_per_month=120
    )
    assert sc.policy.store_upgrade_subsidy == 0.7
    assert sc.policy.codistribution.enabled is True
    assert sc.map.region == "west_mountain"
    assert sc.anchors.training_capacity_per_month == 120
    assert sc.map.size == "small" and sc.population.households_per_agent == 8  # the quick base
    with pytest.raises(InputError, match="unknown lever"):
        app.scenario_for(subsidy=0.5)
    with pytest.raises(InputError, match="store_upgrade_subsidy"):
        app.scenario_for(store_upgrade_subsidy=1.5)


def test_every_slider_starts_at_the_base_value_and_fits_its_range(short: None) -> None:
    params = app.model_params()
    defaults = app.lever_defaults()
    for name in app.SLIDER_LEVERS:
        p = params[name]
        assert p["value"] == defaults[name]
        if "min" in p:
            assert p["min"] <= p["value"] <= p["max"]
    assert set(params) == {*app.SLIDER_LEVERS, "seed"}


def test_the_adapter_runs_to_the_end_and_stops(short: None) -> None:
    model = app.CountyViz(village_delivery_fee=1.2, seed=3)
    assert model.config.carriers.village_delivery_fee == 1.2
    while model.running:
        model.step()
    assert model.steps == model.n_weeks == len(model.rows)
    model.step()  # the play loop may ask once more: nothing happens
    assert len(model.rows) == model.n_weeks
    buf = io.BytesIO()
    app.draw_map(model).savefig(buf, format="png")
    app.draw_chart(model, app.COVERAGE, "coverage").savefig(buf, format="png")
    assert buf.tell() > 10_000


def test_the_page_starts_from_a_scenario_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: mine\nmap: {size: small, region: east_plain}\npolicy: {store_upgrade_subsidy: 0.45}\n")
    monkeypatch.setenv(app.ENV_SCENARIO, str(scenario))
    monkeypatch.setenv(app.ENV_OVERRIDES, json.dumps(["population.households_per_agent=20"]))
    d = app.lever_defaults()
    assert (d["region"], d["store_upgrade_subsidy"], d["households_per_agent"]) == ("east_plain", 0.45, 20)


def test_viz_refuses_a_bad_scenario_before_serving(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\npolicy: {store_upgrade_subsidy: 3}\n")
    assert main(["viz", str(bad)]) == 2
    assert "policy.store_upgrade_subsidy" in capsys.readouterr().err
    assert main(["viz", "--set", "map.region=moon"]) == 2
    assert "map.region" in capsys.readouterr().err
    assert main(["viz", "--port", "70000"]) == 2


def test_the_page_needs_these_browser_files() -> None:
    from experiments.viz import assets as viz_assets

    needed = viz_assets.required_packages()
    assert any(p.startswith("@widgetti/solara-vuetify-app@") for p in needed)  # Vue 2 (ipyvue < 2)
    assert any(p.startswith("requirejs@") for p in needed)
    assert any(p.startswith("@widgetti/vue-grid-layout@") for p in needed)
