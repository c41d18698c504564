"""Programmes, budget rules, leakage and audits, windows, phases and dated events."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from sim.agents.government import add_months
from sim.errors import InputError
from sim.model import CountyModel
from sim.policy.catalogue import LEVERS, PHASES, PROGRAMMES, phase_index
from sim.policy.demand import NEEDS
from tests.conftest import tiny
from tests.test_docs import field_paths

ROOT = Path(__file__).resolve().parent.parent

#: Programme-built things whose events record the subsidy paid for them.
SUBSIDISED_EVENTS = ("upgrades", "centers", "facilities", "stations", "digital")


def step_all(model: CountyModel):
    while model.steps < model.n_weeks:
        model.step()
        yield model


def leaky(**extra) -> dict:
    """Levers that exercise every way a yuan can go: leakage, audits, a lapse at the year's end,
    a grant, every programme paying something."""
    return {
        "timeline.end": "2024-12-31",
        "policy.annual_budget": 3_000_000.0,
        "policy.leakage_share": 0.1,
        "policy.audit_intensity": 0.5,
        "policy.unspent_rolls_over": False,
        "policy.chain_supply_subsidy": 0.5,
        "policy.sme_digital_subsidy": 0.5,
        "policy.codistribution.enabled": True,
        "policy.codistribution.start": "2023-10-01",
        "policy.codistribution.parcel_subsidy": 0.1,
        "policy.logistics_center_date": "2023-09-01",
        "policy.events": [{"date": "2024-03-01", "kind": "grant", "amount": 400_000.0}],
        **extra,
    }


@pytest.mark.parametrize("allocation", ["weights", "shares", "by_demand", "remote_first"])
def test_every_yuan_is_accounted_for_and_the_budget_never_overspent(allocation):
    model = CountyModel(tiny(**leaky(**{"policy.allocation": allocation})), seed=3)
    g = model.government
    for m in step_all(model):
        led = g.ledger()
        assert abs(led["unaccounted"]) <= 1e-6 * max(led["received"], 1.0), (m.today, led["unaccounted"])
        assert all(v >= -1e-6 for v in g.pots.values()) and all(v >= -1e-6 for v in g.remote_pots.values())
        assert led["spent"] + led["leaked"] + led["clawed_back"] <= led["received"] + 1e-6
        assert led["received"] == pytest.approx(led["received_central"] + led["received_local"])
    led = g.ledger()
    # every way a yuan can go was taken, so the identity above was tested on all of them
    for item in ("spent", "leaked_total", "clawed_back", "lapsed", "available"):
        assert led[item] > 0, (allocation, item, led)
    assert led["received_central"] == pytest.approx(3_000_000.0 * 184 / 365 + 3_000_000.0 + 400_000.0)
    # leakage is the share of what is paid out that misses its purpose
    assert led["leaked_total"] == pytest.approx(0.1 / 0.9 * led["spent"], rel=1e-9)


def test_rolled_over_funds_stay_in_the_pots():
    model = CountyModel(tiny(**{"timeline.end": "2024-12-31", "policy.unspent_rolls_over": True}))
    model.run(progress=False)
    led = model.government.ledger()
    assert led["lapsed"] == 0 and led["rolled_over"] > 0
    assert abs(led["unaccounted"]) <= 1e-6 * led["received"]


def subsidised_things(model: CountyModel) -> list[dict]:
    return [e for kind in SUBSIDISED_EVENTS for e in model.events[kind] if e.get("subsidy", 0) > 0]


def test_zero_budget_builds_nothing_subsidised():
    levers = {
        "timeline.end": "2024-12-31",
        "policy.sme_digital_subsidy": 0.5,
        "policy.chain_supply_subsidy": 0.5,
        "policy.logistics_center_date": "2023-08-01",
        "policy.cold_storage_date": "2023-08-01",
        "policy.county_center_date": "2023-08-01",
    }
    rich = CountyModel(tiny(**levers, **{"policy.annual_budget": 5e7}))
    rich.run(progress=False)
    assert subsidised_things(rich) and rich.logistics.center and rich.county_center_m2 == 8000.0  # the control

    poor = CountyModel(tiny(**levers, **{"policy.annual_budget": 0.0}))
    stations_at_start = poor.logistics.station.copy()
    poor.run(progress=False)
    assert poor.government.total_spent == 0 and poor.government.received == 0
    assert subsidised_things(poor) == []
    assert not poor.logistics.center and not poor.logistics.cold_storage
    assert poor.county_center_m2 == poor.config.retailers.county_center_m2
    assert (poor.logistics.station == stations_at_start).all()


def test_policy_switched_off_builds_nothing_even_unsubsidised():
    # with a zero subsidy the programme still builds the centre on its date (the operator pays)
    free = {"policy.logistics_center_subsidy": 0.0, "policy.logistics_center_date": "2023-08-01"}
    on = CountyModel(tiny(**free))
    on.run(progress=False)
    assert on.logistics.center
    off = CountyModel(tiny(**free, **{"policy.enabled": False}))
    off.run(progress=False)
    assert not off.logistics.center and off.government.received == 0 and off.events["facilities"] == []


def test_a_programme_pays_only_inside_its_window():
    start = dt.date(2024, 1, 1)
    sc = tiny(
        **sc_levers(),
        **{
            "policy.windows.store_upgrade": {"start": "rollout"},
            "policy.windows.township_center": {"end": "2023-06-30"},
        },
    )
    model = CountyModel(sc)
    model.run(progress=False)
    paid = [e for e in model.events["upgrades"] if e["subsidy"] > 0]
    assert paid, "the window opens in January 2024: some upgrades are subsidised after it"
    assert all(dt.date.fromisoformat(e["date"]) >= start for e in paid)
    assert model.government.spent["township_center"] == 0  # closed before the run began
    assert all(e["subsidy"] == 0 for e in model.events["centers"])
    # the control: without the windows both programmes pay from the first months
    free = CountyModel(tiny(**{k: v for k, v in sc_levers().items()}))
    free.run(progress=False)
    assert free.government.spent["township_center"] > 0
    assert any(dt.date.fromisoformat(e["date"]) < start for e in free.events["upgrades"] if e["subsidy"] > 0)


def sc_levers() -> dict:
    return {"policy.annual_budget": 5e7, "policy.store_upgrade_subsidy": 0.6, "stores.review_probability": 0.2}


def test_weights_are_normalised_and_shares_taken_as_given():
    weights = {p: 0.0 for p in PROGRAMMES} | {"store_upgrade": 3.0, "township_center": 1.0}
    m = CountyModel(tiny(**{"policy.budget_weights": weights}))
    m.step()
    pots = m.government.pots
    assert pots["store_upgrade"] == pytest.approx(3 * pots["township_center"]) and pots["nev_van"] == 0
    shares = weights | {"store_upgrade": 0.75, "township_center": 0.25}
    s = CountyModel(tiny(**{"policy.budget_weights": shares, "policy.allocation": "shares"}))
    s.step()
    assert s.government.pots == pytest.approx(pots)


def test_by_demand_funds_a_dated_facility_in_full_first():
    # a year's funds cover the logistics centre's subsidy (1.9 million) but not every
    # programme's demand: fixed weights leave the centre short, demand funds it at once
    levers = {
        "timeline.end": "2024-12-31",
        "policy.annual_budget": 2_000_000.0,
        "policy.local_cofunding_rate": 0.0,
        "policy.logistics_center_date": "2024-01-01",
        "policy.cold_storage_date": None,
        "policy.county_center_date": None,
        "policy.codistribution.enabled": True,
        "policy.codistribution.parcel_subsidy": 0.3,
    }
    built = {}
    for rule in ("weights", "by_demand"):
        model = CountyModel(tiny(**levers, **{"policy.allocation": rule}))
        model.run(progress=False)
        built[rule] = [e["date"] for e in model.events["facilities"] if e["facility"] == "logistics_center"]
    assert built["by_demand"] == ["2024-01-06"]
    assert built["weights"] == [] or built["weights"][0] > "2024-06-01", built


def test_remote_reserve_is_only_for_remote_places():
    grant = [{"date": "2023-07-01", "kind": "grant", "amount": 200_000.0, "programme": "store_upgrade"}]
    model = CountyModel(
        tiny(**{"policy.allocation": "remote_first", "policy.remote_fund_share": 0.5, "policy.events": grant})
    )
    model.step()
    g = model.government
    near = int(next(v for v in model.county.villages if not model.remote[v]))
    far = int(next(v for v in model.county.villages if model.remote[v]))
    open_part, held = g.pots["store_upgrade"], g.remote_pots["store_upgrade"]
    assert held == pytest.approx(open_part) and held > 0
    assert not g.pay("store_upgrade", open_part + 1.0, place=near)  # the reserve is not hers
    assert g.pay("store_upgrade", open_part + 1.0, place=far)  # but it is his, drawn first
    assert g.remote_pots["store_upgrade"] == pytest.approx(0.0)
    assert g.pots["store_upgrade"] == pytest.approx(open_part - 1.0)
    # remote places are the farthest share of villages by travel time to the county town
    c = model.county
    minutes = c.travel_min[c.county_town, c.villages]
    remote = model.remote[c.villages]
    assert remote.sum() == round(0.3 * len(c.villages))
    assert minutes[remote].min() >= minutes[~remote].max()


def test_leakage_audit_claw_back_and_flag():
    sc = tiny(
        **{
            "policy.leakage_share": 0.2,
            "policy.audit_intensity": 0.0,
            "policy.nev_van_subsidy": 0.0,
            "policy.flag_months": 3,
            "policy.events": [{"date": "2024-02-01", "kind": "audit"}],
        }
    )
    model = CountyModel(sc)
    g = model.government
    model.step()
    before = g.pots["store_upgrade"]
    assert g.pay("store_upgrade", 8000.0)
    assert g.pots["store_upgrade"] == pytest.approx(before - 10_000.0)  # 8,000 reach the store, 2,000 leak
    for _ in step_all(model):
        pass
    audits = model.events["audits"]
    spot = [a for a in audits if a["certain"]]
    assert len(spot) == 1 and spot[0]["date"] == "2024-02-03" and spot[0]["found"] > 0
    assert all(a["certain"] for a in audits)  # intensity 0: no quarterly audit happened
    ts = model.timeseries().set_index("date")
    assert ts.loc["2024-02-03", "county_flagged"] == 1 and ts.loc["2024-01-27", "county_flagged"] == 0
    assert ts["county_flagged"].iloc[-1] == 0  # three months later the flag is gone
    assert ts.loc["2024-02-03", "funds_clawed_back"] == pytest.approx(spot[0]["found"])
    assert ts.loc["2024-02-03", "funds_leaked"] == 0


def test_add_months_keeps_the_day_or_takes_the_month_end():
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 11, 15), 12) == dt.date(2024, 11, 15)


def test_phases_follow_the_plan_annex():
    assert [(p.name, p.start.isoformat(), p.end.isoformat()) for p in PHASES] == [
        ("launch", "2023-07-01", "2023-12-31"),
        ("rollout", "2024-01-01", "2024-12-31"),
        ("evaluation", "2025-01-01", "2025-10-31"),
    ]
    days = ["2023-06-30", "2023-07-01", "2023-12-31", "2024-01-01", "2025-10-31", "2025-11-01"]
    assert [phase_index(dt.date.fromisoformat(d)) for d in days] == [0, 1, 1, 2, 3, 4]
    ts = CountyModel(tiny(**{"timeline.end": "2025-12-31", "map.n_villages": 12})).run(progress=False).timeseries
    phases = ts.set_index("date")["plan_phase"]
    assert phases.loc["2023-07-01"] == 1 and phases.loc["2024-06-01"] == 2 and phases.loc["2025-06-07"] == 3
    assert phases.iloc[-1] == 4


def test_grant_event_arrives_on_its_date():
    sc = tiny(**{"policy.events": [{"date": "2023-10-10", "kind": "grant", "amount": 1e6, "programme": "nev_van"}]})
    model = CountyModel(sc)
    ts = model.run(progress=False).timeseries.set_index("date")
    jump = ts["funds_received"].diff()
    assert jump.loc["2023-10-14"] == pytest.approx(1e6)
    assert jump.loc["2023-10-07"] == 0 and jump.loc["2023-10-21"] == 0
    assert model.government.pots["nev_van"] >= 1e6 - model.government.spent["nev_van"]
    grant = [e for e in model.events["budget"] if e["funds"] == "grant"]
    assert grant == [
        {"step": grant[0]["step"], "date": "2023-10-14", "funds": "grant", "central": 1e6, "local": 0.0,
         "programme": "nev_van", "note": ""}
    ]  # fmt: skip


def test_every_policy_lever_has_a_fiscal_cost():
    paths = [p for p in field_paths() if p.startswith("policy.")]
    missing = [p for p in paths if p not in LEVERS]
    assert not missing, f"policy levers without a fiscal cost in sim.policy.catalogue.LEVERS: {missing}"
    stale = [p for p in LEVERS if p not in paths]
    assert not stale, f"sim.policy.catalogue.LEVERS names fields that do not exist: {stale}"


BAD = [
    ({"policy.windows.cold_storage": {"start": "2024-06-01", "end": "2024-01-01"}}, "policy.windows.cold_storage"),
    ({"policy.windows.nev_van": {"start": "evaluation", "end": "launch"}}, "policy.windows.nev_van"),
    ({"policy.allocation": "shares"}, "policy.budget_weights must add up to 1"),
    ({"policy.allocation": "by_need"}, "policy.allocation"),
    ({"policy.events": [{"date": "2024-01-01", "kind": "grant"}]}, "policy.events.0"),
    ({"policy.events": [{"date": "2023-01-01", "kind": "audit"}]}, "policy.events[0].date"),
    ({"policy.leakage_share": 1.0}, "policy.leakage_share"),
    ({"policy.windows.shops": {}}, "policy.windows.shops"),
]


@pytest.mark.parametrize(("override", "needle"), BAD, ids=[b[1] for b in BAD])
def test_bad_policy_inputs_name_the_field(override, needle):
    sc = {"policy.budget_weights.nev_van": 0.5} if override.get("policy.allocation") == "shares" else {}
    with pytest.raises(InputError) as err:
        tiny(**override, **sc)
    assert needle in err.value.render()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "experiments.cli.main", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        (
            "policy:\n  windows:\n    store_upgrade: {start: 2024-06-01, end: 2024-01-01}\n",
            "policy.windows.store_upgrade",
        ),
        ("policy:\n  allocation: shares\n  budget_weights: {store_upgrade: 0.5}\n", "policy.budget_weights"),
    ],
    ids=["ends-before-it-starts", "shares-not-one"],
)
def test_bad_policy_exits_2_without_traceback(tmp_path, yaml_text, needle):
    scen = tmp_path / "bad.yaml"
    scen.write_text("name: bad\nmap:\n  size: small\n" + yaml_text)
    for command in ("validate", "run"):
        r = cli(command, str(scen), "--out", str(tmp_path / "out")) if command == "run" else cli(command, str(scen))
        assert r.returncode == 2, r.stderr
        assert needle in r.stderr and "bad.yaml" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("threshold", "flagged"), [(0.06, False), (0.04, True)])
def test_only_a_major_finding_flags_the_county(threshold, flagged):
    # 5% of what is paid out leaks; a finding flags only when it reaches the threshold share
    sc = tiny(
        **{
            "policy.leakage_share": 0.05,
            "policy.audit_intensity": 0.0,
            "policy.flag_threshold": threshold,
            "policy.events": [{"date": "2024-02-01", "kind": "audit"}],
        }
    )
    model = CountyModel(sc)
    model.run(progress=False)
    (audit,) = model.events["audits"]
    assert audit["found"] == pytest.approx(0.05 * audit["paid_since_last_audit"]) and audit["found"] > 0
    assert (audit["flagged_until"] is not None) == flagged
    assert model.government.ledger()["clawed_back"] == pytest.approx(audit["found"])


def test_a_facility_the_programme_cannot_pay_for_is_retried_every_four_weeks():
    # no yearly funds; a grant to the logistics centre's pot arrives on 2023-10-14. The
    # first attempt comes before the week of 2023-08-05, then every four weeks: 09-02,
    # 09-30, 10-28, when the grant is there
    grant = [{"date": "2023-10-10", "kind": "grant", "amount": 2_000_000.0, "programme": "logistics_center"}]
    sc = tiny(**{"policy.annual_budget": 0.0, "policy.logistics_center_date": "2023-08-01", "policy.events": grant})
    model = CountyModel(sc)
    model.run(progress=False)
    assert [e["date"] for e in model.events["facilities"]] == ["2023-10-28"]
    assert model.government.spent["logistics_center"] == pytest.approx(0.5 * (3_000_000 + 800_000))


def test_every_programme_estimates_its_need() -> None:
    """The by_demand and remote_first rules ask every programme for its need: one function each."""
    assert set(NEEDS) == set(PROGRAMMES)
