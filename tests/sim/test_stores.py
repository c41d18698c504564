"""The store table: handles onto rows, booking and expected revenues for all stores at
once against the per-store rules they replaced, exits and entrants."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim.agents.store import NEWTYPE, TRADITIONAL, StoreKind, StoreTable, store_key, store_uniforms
from sim.markets.kinds import Channel
from sim.model import CountyModel


@pytest.fixture
def model(tiny):
    """A tiny county with two stores in some villages, some chained and digital stores,
    and money in the chain_supply pot (every combination of the booking rule occurs)."""
    m = CountyModel(tiny(**{"policy.chain_supply_subsidy": 0.5, "retailers.count": 2}))
    t = m.store_table
    villages = np.unique(t.node[t.open_rows()])[:6]
    m.new_stores(villages, np.array([NEWTYPE, TRADITIONAL] * 3, dtype=np.int8), np.ones(6))
    rows = t.open_rows()
    t.digital[rows[::3]] = True
    m.assign_chains(rows[::2])
    m.week = {"exits": 0, "entries": 0, "upgrades": 0}
    return m


def _old_weekly_profit(s, revenue, kind, chained, digital, relief):
    """The per-store rule as VillageStore.weekly_profit had it, in scalar form."""
    restock = s.chain_restock_cost_share if chained else s.restock_cost_share
    if digital:
        restock *= 1.0 - s.digital_restock_saving
    fixed = s.fixed_cost_week + (s.newtype_extra_fixed_cost_week if kind == NEWTYPE else 0.0)
    fixed += s.digital_fee_week if digital else 0.0
    fee = s.chain_fee_week - relief if chained else 0.0
    return revenue * (s.gross_margin - restock) - fixed - fee


def test_a_handle_reads_and_writes_its_row(model):
    t = model.store_table
    row = int(t.open_rows()[-1])
    store = model.store_agents[row]
    assert store.row == row and store.node == t.node[row] and store.cell.coordinate == store.node
    store.cash = 1234.5
    store.kind = NEWTYPE
    store.digital = True
    assert t.cash[row] == 1234.5 and t.kind[row] == NEWTYPE and t.digital[row]
    t.loss_months[row] = 3
    assert store.loss_months == 3 and store.kind is StoreKind.NEWTYPE and store.is_open
    assert store in model.agents and store in store.cell.agents


def test_booking_equals_the_per_store_rule(model):
    m = model
    rng = np.random.default_rng(0)
    spend = rng.random((len(m.households), len(Channel))) * 50.0
    t, s = m.store_table, m.config.stores
    spend[m.stores_per_node()[m.households.node] == 0, Channel.VILLAGE_STORE] = 0.0  # no store, no store spending
    rows = t.open_rows()
    cash0, month0 = t.cash[rows].copy(), t.month_profit[rows].copy()
    gov = copy.deepcopy(m.government.pots)
    by_village = np.bincount(m.households.node, weights=spend[:, Channel.VILLAGE_STORE], minlength=m.county.n)
    # the sequential rule: village by village, store by store, the pot paying in turn
    pot = gov["chain_supply"] = 3.3 * s.chain_fee_week  # runs dry part-way through the chained stores
    m.government.pots["chain_supply"] = pot
    keep = 1.0 - m.config.policy.leakage_share
    want = m.config.policy.chain_supply_subsidy * s.chain_fee_week
    expected = {}
    for r in rows.tolist():
        peers = [x for x in rows.tolist() if t.node[x] == t.node[r]]
        split = m.market.within_village_split(tuple(m.sellers.kind_ratios[t.kind[x]] for x in peers))
        revenue = by_village[t.node[r]] * split[peers.index(r)]
        relief = 0.0
        if t.chain[r] >= 0:
            cost = min(want / keep, pot)
            pot -= cost
            relief = cost * keep
        expected[r] = (revenue, _old_weekly_profit(s, revenue, t.kind[r], t.chain[r] >= 0, t.digital[r], relief))
    assert pot == 0.0  # the pot ran dry part-way: the later chained stores get nothing
    ledger = m.sellers.book_week(spend)
    for i, r in enumerate(rows.tolist()):
        revenue, profit = expected[r]
        assert t.revenue_week[r] == pytest.approx(revenue, rel=1e-12, abs=1e-9)
        assert t.profit_week[r] == pytest.approx(profit, rel=1e-12, abs=1e-9)
        assert t.cash[r] == pytest.approx(cash0[i] + profit, rel=1e-12, abs=1e-9)
        assert t.month_profit[r] == pytest.approx(month0[i] + profit, rel=1e-12, abs=1e-9)
    assert m.government.pots["chain_supply"] == pytest.approx(pot, abs=1e-9)
    members = np.bincount(t.chain[rows][t.chain[rows] >= 0], minlength=2)
    assert [ret.fee_income_week for ret in m.retailers] == (members * s.chain_fee_week).tolist()
    assert ledger["village_stores"] == pytest.approx(sum(v[0] for v in expected.values()), rel=1e-12)
    assert sum(ledger.values()) == pytest.approx(spend.sum(), rel=1e-12)


def test_pay_up_to_each_pays_as_claimants_in_turn_would(model):
    g = model.government
    g.pots["chain_supply"] = 55.0
    twin = copy.deepcopy(g.pots), copy.deepcopy(g.spent)
    paid = g.pay_up_to_each("chain_supply", 10.0, 8)
    after = g.pots["chain_supply"], g.spent["chain_supply"]
    g.pots, g.spent = copy.deepcopy(twin[0]), copy.deepcopy(twin[1])
    one_by_one = [g.pay_up_to("chain_supply", 10.0) for _ in range(8)]
    assert paid.tolist() == pytest.approx(one_by_one, abs=1e-12)
    assert after == pytest.approx((g.pots["chain_supply"], g.spent["chain_supply"]), abs=1e-9)
    assert paid[0] > 0 and paid[-1] == 0.0


def test_expected_revenues_equal_the_per_store_what_if(model):
    m = model
    t = m.store_table
    rows = t.open_rows()
    now, then = m.sellers.store_revenues_if(rows, np.full(len(rows), NEWTYPE))
    market = m.market
    _, tr, cr, orr = m.sellers.ratios
    for i, r in enumerate(rows.tolist()):
        peers = [x for x in rows.tolist() if t.node[x] == t.node[r]]
        ratios = np.array([m.sellers.kind_ratios[t.kind[x]] for x in peers])
        idx = peers.index(r)
        for got, alt in (
            (now[i], ratios),
            (then[i], np.where(np.arange(len(peers)) == idx, m.sellers.kind_ratios[NEWTYPE], ratios)),
        ):
            vr = m.sellers.ratios[0].copy()
            vr[t.node[r]] = market.nest_ratio(alt)
            hh = market.rows_in(int(t.node[r]))
            budget = market.base_budget[hh]
            share = market.shares(market.costs(budget, vr, tr, cr, orr, m.logistics.door_share, hh))[
                :, Channel.VILLAGE_STORE
            ]
            want = float((budget * share * m.households.weight[hh]).sum()) * market.within_village_split(alt)[idx]
            assert got == pytest.approx(want, rel=1e-10)
    free = m.county.villages[m.stores_per_node()[m.county.villages] == 0][:3]
    assert m.sellers.entrant_revenues(free) == pytest.approx([m.sellers.entrant_revenue(int(v)) for v in free])


def test_exits_remove_handles_and_flag_rows(model):
    m = model
    t = m.store_table
    rows = t.open_rows()[:3].copy()
    agents = [m.store_agents[r] for r in rows.tolist()]
    before = len(t.open_rows())
    m.close_stores(rows, ["out_of_cash"] * 3)
    assert not t.open[rows].any() and (t.chain[rows] == -1).all()
    assert len(t.open_rows()) == before - 3 and len(m.open_stores()) == before - 3
    assert all(a not in m.agents and a.cell is None for a in agents)
    assert all(r not in m.store_agents for r in rows.tolist())
    assert len(m.events["exits"]) == 3 and m.week["exits"] == 3
    assert m.stores_per_node().sum() == before - 3


def test_entrants_grow_the_table():
    t = StoreTable(capacity=2)
    first = t.add(
        np.array([5, 5]), np.array([0, 1]), np.zeros(2, np.uint64), np.array([0, 1]), 100.0, np.ones(2), step=0
    )
    t.cash[first] += 1.0
    more = t.add(
        np.array([7, 9, 5]), np.array([0, 0, 2]), np.zeros(3, np.uint64), np.zeros(3), 50.0, np.ones(3), step=4
    )
    assert len(t) == 5 and more.tolist() == [2, 3, 4]
    assert t.cash.tolist() == [101.0, 101.0, 50.0, 50.0, 50.0]
    assert t.open_rows().tolist() == [0, 1, 2, 3, 4] and t.opened_step.tolist() == [0, 0, 4, 4, 4]
    t.close(np.array([1]))
    assert t.open_rows().tolist() == [0, 2, 3, 4]
    assert t.first_rows(10)[5] == 0 and t.first_rows(10)[8] == -1
    assert t.slots().tolist() == [0, 0, 0, 1]  # rows 0, 2, 3, 4: village 5 has rows 0 and 4
    assert t.per_node(10).tolist() == [0, 0, 0, 0, 0, 2, 0, 1, 0, 1]


def test_a_stores_draws_do_not_depend_on_other_stores():
    one = store_uniforms(store_key(7, 1, np.array([12]), np.array([1])), 40, 2)
    many = store_uniforms(store_key(7, 1, np.array([3, 12, 99]), np.array([0, 1, 0])), 40, 2)
    assert one[0] == many[1] and many.min() >= 0.0 and many.max() < 1.0
    assert store_uniforms(store_key(8, 1, np.array([12]), np.array([1])), 40, 2)[0] != one[0]
    assert store_uniforms(store_key(7, 1, np.array([12]), np.array([1])), 44, 2)[0] != one[0]
    draws = store_uniforms(store_key(7, 1, np.arange(20_000), np.zeros(20_000, dtype=np.int64)), 40, 1)
    assert abs(draws.mean() - 0.5) < 0.01 and abs(np.mean(draws < 0.015) - 0.015) < 0.003
