"""The stores' month end, for all stores at once: closing the month, exits, the reviews
(join a chain, upgrade, go digital) and would-be owners' entry.

Every decision is computed from the store table's columns and the firms' expected
revenues (:meth:`sim.markets.sellers.Sellers.store_revenues_if`,
:meth:`~sim.markets.sellers.Sellers.entrant_revenues`), which are array passes over the
households of the villages concerned, not one call per store. The reviewing stores
decide together on the state of the month's start (ODD 7.9 says what this changes
against one store after another): each store's own steps (chain, then upgrade, then
digital tools) still follow one another, the programmes' pots still pay first come,
first served in the stores' queue order, and those refused decide again without the
subsidy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents.store import NEWTYPE, TRADITIONAL, store_uniforms, weekly_profit

if TYPE_CHECKING:
    from sim.model import CountyModel

#: Draw numbers of a store's monthly draws (:func:`sim.agents.store.store_uniforms`);
#: draw 0 at step 0 decides whether a store of the starting network is digital.
REVIEW_DRAW, QUEUE_DRAW = 1, 2


def close_month(model: CountyModel) -> None:
    """Count loss-making months, then close the stores that are out of cash or have lost
    money for ``stores.exit_after_loss_months`` months in a row."""
    t = model.store_table
    rows = t.open_rows()
    t.loss_months[rows] = np.where(t.month_profit[rows] < 0, t.loss_months[rows] + 1, 0)
    t.month_profit[rows] = 0.0
    broke = t.cash[rows] < 0
    leave = broke | (t.loss_months[rows] >= model.config.stores.exit_after_loss_months)
    if leave.any():
        reasons = np.where(broke[leave], "out_of_cash", "sustained_losses")
        model.close_stores(rows[leave], reasons.tolist())


def expected_fee_relief(model: CountyModel) -> float:
    """The chain-fee relief a store counts on: the programme's rate while it is open and
    has funds (a store does not foresee the pot running dry)."""
    if not model.government.can_pay("chain_supply"):
        return 0.0
    return model.config.policy.chain_supply_subsidy * model.config.stores.chain_fee_week


def review_queue(model: CountyModel) -> np.ndarray:
    """The open stores that review this month, in their queue order: each draws a review
    number and a queue key keyed by its identity and the date."""
    t = model.store_table
    rows = t.open_rows()
    key = t.key[rows]
    review = store_uniforms(key, model.steps, REVIEW_DRAW)
    queue = store_uniforms(key, model.steps, QUEUE_DRAW)
    pick = np.flatnonzero(review < model.config.stores.review_probability)
    return rows[pick[np.argsort(queue[pick], kind="stable")]]


def review_stores(model: CountyModel) -> None:
    """This month's reviewers consider a chain, then an upgrade, then digital tools."""
    rows = review_queue(model)
    if len(rows) == 0:
        return
    t = model.store_table
    s = model.config.stores
    e = expected_fee_relief(model)
    kind, digital = t.kind[rows], t.digital[rows]
    chained = t.chain[rows] >= 0
    now, then = model.sellers.store_revenues_if(rows, np.full(len(rows), NEWTYPE))
    # chain supply: the cheaper restocking pays more than the fee net of the expected relief
    join = ~chained & model.has_chains
    join &= weekly_profit(s, now, kind, True, digital, e) > weekly_profit(s, now, kind, False, digital)
    chained = chained | join
    # upgrade (traditional stores), on the revenue as now and as a new-type store
    value = upgrade_values(model, now, then, kind, chained, digital, e)
    rate = model.config.policy.store_upgrade_subsidy
    subsidy = invest(model, rows, value, s.upgrade_cost, rate, "store_upgrade", kind == TRADITIONAL)
    up = ~np.isnan(subsidy)
    t.kind[rows[up]] = NEWTYPE
    t.changed()
    for r, sub in zip(rows[up].tolist(), subsidy[up].tolist(), strict=True):
        model.record_upgrade(r, sub)
    join |= up & ~chained & model.has_chains
    chained = chained | (up & model.has_chains)
    # digital tools, on the revenue of the store as it now is
    revenue = np.where(up, then, now)
    value = digital_values(model, revenue, t.kind[rows], chained, e)
    rate = model.config.policy.sme_digital_subsidy
    subsidy = invest(model, rows, value, s.digital_cost, rate, "sme_digital", ~digital)
    got = ~np.isnan(subsidy)
    t.digital[rows[got]] = True
    for r, sub in zip(rows[got].tolist(), subsidy[got].tolist(), strict=True):
        model.record_event("digital", village=model.county.ids[int(t.node[r])], subsidy=sub)
    model.assign_chains(rows[join])


def upgrade_values(
    model: CountyModel,
    now: np.ndarray,
    then: np.ndarray,
    kind: np.ndarray,
    chained: np.ndarray,
    digital: np.ndarray,
    relief: float,
) -> np.ndarray:
    """Extra profit over the payback horizon of becoming new-type (yuan), on expected
    revenue ``now`` and as a new-type store ``then``; chained after = already chained or
    any chain exists (an upgraded store joins one)."""
    s = model.config.stores
    after = chained | model.has_chains
    gain = weekly_profit(s, then, NEWTYPE, after, digital, relief) - weekly_profit(
        s, now, kind, chained, digital, np.where(chained, relief, 0.0)
    )
    return gain * 52.0 * s.payback_years


def digital_values(
    model: CountyModel, revenue: np.ndarray, kind: np.ndarray, chained: np.ndarray, relief: float
) -> np.ndarray:
    """Extra profit over the payback horizon of adopting digital tools (yuan), on expected revenue."""
    s = model.config.stores
    r = np.where(chained, relief, 0.0)
    gain = weekly_profit(s, revenue, kind, chained, True, r) - weekly_profit(s, revenue, kind, chained, False, r)
    return gain * 52.0 * s.payback_years


def would_invest(model: CountyModel, rows: np.ndarray, value: np.ndarray, cost: float, rate: float) -> np.ndarray:
    """The owner's rule: the value beats the owner's share of the cost times the hurdle,
    and the owner has that share in cash."""
    t = model.store_table
    own = (1.0 - rate) * cost
    return (value > own * t.hurdle[rows]) & (t.cash[rows] >= own)


def invest(
    model: CountyModel,
    rows: np.ndarray,
    value: np.ndarray,
    cost: float,
    rate: float,
    programme: str,
    eligible: np.ndarray,
) -> np.ndarray:
    """Make an investment where it pays: with the programme's subsidy first (the pot pays
    the claimants in the order of ``rows`` while it can), and where the owner would invest
    only with it and the pot cannot pay, decide again without it. Owners pay their share
    from cash.

    Returns:
        Per row the subsidy received (0 when unsubsidised), NaN where the owner does not invest.
    """
    t = model.store_table
    own = (1.0 - rate) * cost
    grant = cost - own
    with_it = eligible & would_invest(model, rows, value, cost, rate)
    without = eligible & would_invest(model, rows, value, cost, 0.0)
    subsidy = np.full(len(rows), np.nan)
    if grant > 0:
        for i in np.flatnonzero(with_it).tolist():
            if model.government.pay(programme, grant, place=int(t.node[rows[i]])):
                subsidy[i] = grant
            elif without[i]:
                subsidy[i] = 0.0
    else:
        subsidy[with_it] = 0.0
    paid = ~np.isnan(subsidy)
    t.cash[rows[paid]] -= np.where(subsidy[paid] > 0, own, cost)
    return subsidy


def monthly_entry(model: CountyModel) -> None:
    """Would-be owners test villages with room for another store and open one where the
    expected profit pays back the opening cost times the owner's hurdle."""
    s = model.config.stores
    rng = model.streams["entry"]
    villages = model.county.villages
    tests = rng.random(len(villages)) < s.entry_probability
    hurdles = np.exp(rng.normal(0.0, s.owner_hurdle_sd, len(villages)))
    pick = tests & (model.stores_per_node()[villages] < s.max_stores_per_village)
    nodes, hurdles = villages[pick], hurdles[pick]
    revenue = model.sellers.entrant_revenues(nodes)
    weekly = revenue * (s.gross_margin - s.restock_cost_share) - s.fixed_cost_week
    enter = (weekly > 0) & (weekly * 52.0 * s.payback_years > s.entry_cost * hurdles)
    # the owner pays the opening cost from savings outside the store's books; the store
    # starts with its working cash
    model.new_stores(nodes[enter], np.full(int(enter.sum()), TRADITIONAL), hurdles[enter])
    model.week["entries"] += int(enter.sum())
    for v in nodes[enter].tolist():
        model.record_event("entries", village=model.county.ids[v])
