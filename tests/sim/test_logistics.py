"""Carriers, parcels, co-distribution, Shapley cost shares and route planning."""

from __future__ import annotations

import numpy as np
import pytest

from sim.logistics.routing import plan_heuristic, plan_solver, tour_length
from sim.logistics.shapley import shapley
from sim.model import CountyModel

SEEDS = (1, 2, 3)


def test_parcels_are_conserved_every_week(tiny):
    model = CountyModel(
        tiny(
            **{
                "policy.codistribution.enabled": True,
                "policy.codistribution.start": "2023-09-01",
                "logistics.center_at_start": True,
            }
        )
    )
    while model.steps < model.n_weeks:
        model.step()
        down, up = model.logistics.conservation_gap()
        created = model.logistics.totals["created_down"]
        assert abs(down) <= 1e-9 * created and abs(up) <= 1e-9 * max(model.logistics.totals["created_up"], 1)
        assert model.logistics.waiting.min() >= 0


@pytest.fixture
def remote(tiny):
    """A sparse west-mountain county: many remote villages with few parcels each."""

    def make(**extra):
        return tiny(
            **{
                "map.region": "west_mountain",
                "logistics.center_at_start": True,
                "policy.codistribution.start": "2023-07-01",
                **extra,
            }
        )

    return make


def test_codistribution_lowers_cost_and_raises_coverage_on_a_remote_county(remote):
    for seed in SEEDS:
        off = CountyModel(remote(), seed=seed).run(progress=False).summary
        on = CountyModel(remote(**{"policy.codistribution.enabled": True}), seed=seed).run(progress=False).summary
        assert on["codistribution_parcel_share"] > 0.5
        assert on["cost_per_parcel"] < off["cost_per_parcel"], seed
        assert on["express_village_coverage"] > off["express_village_coverage"], seed
        assert off["codistribution_parcel_share"] == 0


def test_codistribution_needs_the_logistics_centre(tiny):
    sc = tiny(
        **{
            "policy.codistribution.enabled": True,
            "policy.codistribution.start": "2023-07-01",
            "policy.logistics_center_date": None,
        }
    )
    summary = CountyModel(sc).run(progress=False).summary
    assert summary["logistics_center"] == 0 and summary["codistribution_parcel_share"] == 0


def test_mandated_members_and_shapley_shares_in_the_model(remote):
    sc = remote(**{"policy.codistribution.enabled": True, "policy.codistribution.members": ["express_a", "express_b"]})
    model = CountyModel(sc)
    result = model.run(progress=False)
    last = result.carriers[result.carriers.step == result.carriers.step.max()].set_index("carrier")
    assert set(last.index[last.member]) == {"express_a", "express_b"}
    shares = last.loc[["express_a", "express_b"], "shapley_cost_share"]
    assert shares.sum() == pytest.approx(1.0)
    phi = model.logistics.consortium.shapley_cost
    assert sum(phi.values()) == pytest.approx(model.logistics.consortium.planned_cost)
    assert model.logistics.consortium.planned_cost > 0


def test_shapley_is_efficient_and_symmetric():
    size = {"a": 1.0, "b": 1.0, "c": 2.0}

    def cost(s):  # a subadditive shared-route cost: a fixed route plus a per-volume part
        return 10.0 + 3.0 * sum(size[p] for p in s) if s else 0.0

    phi = shapley(["a", "b", "c"], cost)
    assert sum(phi.values()) == pytest.approx(cost(frozenset("abc")))
    assert phi["a"] == pytest.approx(phi["b"])
    assert phi["c"] > phi["a"]
    # a player who adds nothing pays nothing
    phi = shapley(["x", "dummy"], lambda s: 5.0 if "x" in s else 0.0)
    assert phi["dummy"] == pytest.approx(0.0) and phi["x"] == pytest.approx(5.0)


def test_identical_carriers_pay_identical_shares(remote):
    fleet = [{"name": n, "kind": "express", "market_share": 0.25} for n in ("a", "b", "c", "d")]
    sc = remote(**{"carriers.fleet": fleet, "policy.codistribution.enabled": True})
    model = CountyModel(sc)
    model.run(progress=False)
    shares = list(model.logistics.consortium.cost_shares.values())
    assert len(shares) == 4 and np.allclose(shares, 0.25)


def random_instance(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 25))
    pts = rng.random((n + 1, 2)) * 20
    dist = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1)) * 1.3
    prizes = {i: float(rng.uniform(2, 80)) for i in range(1, n + 1)}
    return list(range(1, n + 1)), prizes, dist


def objective(plan, prizes):
    """Prize-collecting objective: route cost plus revenue left uncollected (lower is better)."""
    return plan.cost + sum(prizes.values()) - plan.prize


def test_heuristic_within_five_percent_of_the_solver_on_average():
    gaps = []
    for seed in range(20):
        villages, prizes, dist = random_instance(seed)
        h = plan_heuristic(0, villages, prizes, dist, 4.5, 12.0)
        s = plan_solver(0, villages, prizes, dist, 4.5, 12.0, seed=1)
        assert tour_length(list(h.served), 0, dist) == pytest.approx(h.tour_km)
        gaps.append((objective(h, prizes) - objective(s, prizes)) / objective(s, prizes))
    assert np.mean(gaps) < 0.05, gaps
    assert min(gaps) > -0.05  # the solver is never much worse than the heuristic


def test_solver_routing_runs_in_the_model(tiny):
    summary = CountyModel(tiny(**{"carriers.routing": "solver", "timeline.end": "2023-09-30"})).run(progress=False)
    assert 0 <= summary.summary["express_village_coverage"] <= 1


def test_plans_serve_only_villages_of_their_township(tiny):
    model = CountyModel(tiny())
    for car in model.logistics.carriers:
        for t, plan in car.plans.items():
            assert set(plan.served) <= set(model.logistics.villages_of[t])


def test_cold_storage_cuts_perishable_losses(tiny):
    before = CountyModel(tiny(**{"policy.cold_storage_date": None})).run(progress=False).summary
    after = CountyModel(tiny(**{"logistics.cold_storage_at_start": True})).run(progress=False).summary
    assert after["cold_chain_loss_rate"] < before["cold_chain_loss_rate"]


def test_nev_subsidy_never_fewer_new_energy_vans(tiny):
    shares = [
        CountyModel(tiny(**{"policy.nev_van_subsidy": r}), seed=2).run(progress=False).summary["nev_van_share"]
        for r in (0.0, 0.2, 0.5, 1.0)
    ]
    assert shares == sorted(shares)
    # without a subsidy the saving over the payback horizon does not cover the premium
    assert shares[0] == pytest.approx(0.1) and shares[-1] > shares[0]


BAD = [
    ({"carriers.fleet": [{"name": "a", "kind": "drone", "market_share": 1.0}]}, "kind"),
    ({"carriers.cost_per_stop": -1}, "carriers.cost_per_stop"),
    ({"carriers.fleet": [{"name": "a", "kind": "post", "market_share": 0.5}]}, "add up to 1"),
    ({"policy.codistribution.members": ["nobody"]}, "policy.codistribution.members"),
    (
        {
            "carriers.fleet": [
                {"name": "a", "kind": "post", "market_share": 0.5},
                {"name": "a", "kind": "express", "market_share": 0.5},
            ]
        },
        "duplicate names",
    ),
]


@pytest.mark.parametrize(("override", "needle"), BAD, ids=[b[1] for b in BAD])
def test_bad_carrier_inputs(tiny, override, needle):
    from sim.errors import InputError

    with pytest.raises(InputError) as err:
        tiny(**override)
    assert needle in err.value.render()
