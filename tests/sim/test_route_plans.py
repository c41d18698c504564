"""Township plans kept while their inputs hold (``carriers.replan_tolerance``)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import CountyModel

CODIS = {
    "policy.codistribution.enabled": True,
    "policy.codistribution.start": "2023-09-01",
    "logistics.center_at_start": True,
}


def _series(model: CountyModel):
    return model.run(progress=False).timeseries.drop(columns=["date"]).to_numpy(dtype=float)


@pytest.mark.parametrize("extra", [{}, CODIS], ids=["carriers", "codistribution"])
def test_tolerance_zero_plans_every_township_and_a_kept_plan_equals_the_plan_made(tiny, extra):
    """Tolerance 0 keeps no plan. A tolerance so small that only bit-identical inputs keep a
    plan gives the same series as 0, and re-planning twice in a week (same inputs) keeps
    every plan with exactly the plan the planner makes: a kept plan is priced as the
    planner prices its own."""
    zero = CountyModel(tiny(**{"carriers.replan_tolerance": 0.0, **extra}))
    tiny_tol = CountyModel(tiny(**{"carriers.replan_tolerance": 1e-300, **extra}))
    assert np.array_equal(_series(zero), _series(tiny_tol), equal_nan=True)
    assert zero.logistics.routes.counts["kept"] == 0
    for model in (zero, tiny_tol):
        model.logistics.replan(0.0, settle=bool(extra))
    before = tiny_tol.logistics.routes.counts["kept"]
    tiny_tol.logistics.replan(0.0, settle=bool(extra))
    zero.logistics.replan(0.0, settle=bool(extra))
    assert tiny_tol.logistics.routes.counts["kept"] > before
    assert zero.logistics.routes.counts["kept"] == 0
    for a, b in zip(zero.logistics.carriers, tiny_tol.logistics.carriers, strict=True):
        assert a.plans == b.plans
    if extra:
        assert zero.logistics.consortium.plans == tiny_tol.logistics.consortium.plans
        assert zero.logistics.consortium.cost_shares == tiny_tol.logistics.consortium.cost_shares
        assert tiny_tol.logistics.consortium.plans
    assert np.array_equal(zero.logistics.door_share, tiny_tol.logistics.door_share)


@pytest.fixture
def planned(tiny):
    """A tiny county at tolerance 0.1, its carriers' first plans made, and the inputs."""
    model = CountyModel(tiny(**{"carriers.replan_tolerance": 0.1}))
    lg = model.logistics
    down = lg._down(model.sellers.expected_online_spend())
    up = lg._up_base()
    car = lg.carriers[0]
    owner = frozenset((car.name,))
    lg.routes.clear()
    lg.routes.counts.update(planned=0, kept=0)
    first = lg.plan_all(owner, car.share, car.cost_per_km, down, up)
    return model, owner, car, down, up, first


def _served_town(model, plans) -> int:
    return next(t for t, p in plans.items() if p.served)


def test_small_moves_keep_every_plan_priced_at_todays_prizes(planned):
    model, owner, car, down, up, first = planned
    routes = model.logistics.routes
    n = len(model.logistics.villages_of)
    assert routes.counts == {"planned": n, "kept": 0}
    again = model.logistics.plan_all(owner, car.share, car.cost_per_km * 1.05, down * 1.03, up * 1.03)
    assert routes.counts == {"planned": n, "kept": n}
    t = _served_town(model, first)
    assert again[t].served == first[t].served
    assert again[t].tour_km == first[t].tour_km
    assert again[t].prize > first[t].prize  # today's volumes
    assert again[t].cost > first[t].cost  # today's cost per km


def test_a_village_moving_beyond_the_tolerance_replans_its_township_only(planned):
    model, owner, car, down, up, first = planned
    lg = model.logistics
    t = _served_town(model, first)
    v = lg.villages_of[t][0]
    moved = down.copy()
    moved[v] = down[v] * 1.5 + 50.0
    lg.plan_all(owner, car.share, car.cost_per_km, moved, up)
    assert lg.routes.counts["planned"] == len(lg.villages_of) + 1


def test_discrete_inputs_replan_exactly(planned):
    model, owner, car, down, up, first = planned
    lg = model.logistics
    n = len(lg.villages_of)
    t = _served_town(model, first)
    v = lg.villages_of[t][0]
    lg.has_store[v] = not lg.has_store[v]  # a store opened or closed: stop and hand-over costs
    lg.plan_all(owner, car.share, car.cost_per_km, down, up)
    assert lg.routes.counts["planned"] == n + 1
    # another planner (a coalition) has plans of its own
    other = frozenset((car.name, lg.carriers[1].name))
    lg.plan_all(other, car.share + lg.carriers[1].share, car.cost_per_km, down, up)
    assert lg.routes.counts["planned"] == 2 * n + 1
    # the km cost beyond the tolerance re-plans every township of that planner
    lg.plan_all(owner, car.share, car.cost_per_km * 1.2, down, up)
    assert lg.routes.counts["planned"] == 3 * n + 1


def test_the_plan_kept_is_the_one_made_not_a_drifting_one(planned):
    """Inputs are compared with those of the plan's making: small steps that add up beyond
    the tolerance re-plan."""
    model, owner, car, down, up, first = planned
    lg = model.logistics
    n = len(lg.villages_of)
    for k in range(1, 4):
        lg.plan_all(owner, car.share, car.cost_per_km, down * 1.04**k, up * 1.04**k)
    # 4% and 8.2% keep; 12.5% is beyond 10% for every township with a paying village
    paying = sum(1 for t, p in first.items() if p.served)
    assert lg.routes.counts["kept"] >= 2 * n
    assert lg.routes.counts["planned"] >= n + paying
