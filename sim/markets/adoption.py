"""Online adoption: buying and selling online spread like a Bass diffusion in each village.

Each month a household that does not yet buy online starts with probability

    1 - exp(-(p + q × share of its village already buying) × age factor × delivery factor)

and a household that buys but does not sell starts selling with the same form, plus an
extra rate for households trained by the anchors. The age factor halves the rate for a
head ``population.online_age_years_per_logit`` years older than average (and doubles it
for one as much younger, bounded by 2); the delivery factor slows villages where parcels
stop at the township station (``adoption.no_delivery_factor`` with no delivery at all).
Decisions are drawn for all households at once from the adoption stream, with a fixed
number of draws per month so that policies do not shift the draws.
"""

from __future__ import annotations

import numpy as np

from sim.agents.household import HouseholdTable
from sim.config import Scenario


def village_shares(hh: HouseholdTable, flag: np.ndarray, n_nodes: int) -> np.ndarray:
    """Weighted share of households with ``flag`` in each settlement."""
    total = hh.derived(
        ("households_by_node", n_nodes), lambda: np.bincount(hh.node, weights=hh.weight, minlength=n_nodes)
    )
    blocks = _settlement_blocks(hh)
    if blocks:
        # one contiguous block of rows per settlement: a segmented sum instead of a scatter
        # (several times quicker); the weights are whole numbers, so every partial sum is
        # exact and the order of the additions cannot change the result
        starts, places = blocks
        yes = np.zeros(n_nodes)
        yes[places] = np.add.reduceat(hh.weight * flag, starts)
    else:
        yes = np.bincount(hh.node, weights=hh.weight * flag, minlength=n_nodes)
    return np.divide(yes, total, out=np.zeros(n_nodes), where=total > 0)


def _settlement_blocks(hh: HouseholdTable) -> tuple[np.ndarray, np.ndarray] | tuple[()]:
    """First row of each inhabited settlement and those settlements, when the rows come
    sorted by settlement (as the generator lays them out) and every weight is a whole
    number below 2**52 (so weighted counts are exact in any order); empty otherwise."""

    def make() -> tuple[np.ndarray, np.ndarray] | tuple[()]:
        node, w = hh.node, hh.weight
        whole = bool(np.all(w == np.rint(w)) and np.all(np.abs(w) < 2.0**52 / max(len(w), 1)))
        if len(node) == 0 or not whole or bool(np.any(node[1:] < node[:-1])):
            return ()
        places, starts = np.unique(node, return_index=True)
        return starts, places

    return hh.derived(("settlement_blocks",), make)


def age_factor(hh: HouseholdTable, scenario: Scenario) -> np.ndarray:
    """Multiplier on adoption rates by the head's age (1 at the mean age, at most 2)."""
    pop = scenario.population
    mean, per_logit = pop.age_head_mean, pop.online_age_years_per_logit
    return hh.derived(("age_factor", mean, per_logit), lambda: 2.0 / (1.0 + np.exp((hh.age_head - mean) / per_logit)))


def delivery_factor(hh: HouseholdTable, scenario: Scenario, door_share: np.ndarray) -> np.ndarray:
    """Multiplier on adoption rates by how much of the village's parcels reach the village."""
    return _delivery_by_node(scenario, door_share)[hh.node]


def _delivery_by_node(scenario: Scenario, door_share: np.ndarray) -> np.ndarray:
    """The delivery factor of each settlement (a household's is its settlement's)."""
    f = scenario.adoption.no_delivery_factor
    return f + (1.0 - f) * door_share


def adopt_month(
    hh: HouseholdTable,
    scenario: Scenario,
    door_share: np.ndarray,
    rng: np.random.Generator | None,
    uniforms: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[int, int]:
    """One month of adoption; returns the numbers of rows that started buying and selling.

    Args:
        uniforms: The month's two uniform draws per household, when given from outside
            (benchmarks compare implementations on the same draws); drawn from ``rng`` otherwise.
    """
    ad = scenario.adoption
    n_nodes = len(door_share)
    u_buy, u_sell = uniforms if uniforms is not None else (rng.random(len(hh)), rng.random(len(hh)))
    # the hazards are worked out only for the rows that can still start: the same values
    # as over all rows, with a fraction of the work
    can_buy = np.flatnonzero(~hh.online_buyer)
    can_sell = np.flatnonzero(hh.rural & hh.online_buyer & ~hh.online_seller)
    # the per-settlement terms are worked out per settlement and gathered once per row
    # (the same operations on the same numbers as gathering the shares first)
    delivery = _delivery_by_node(scenario, door_share)
    age = age_factor(hh, scenario)
    rate_buy = ad.buy_innovation_per_month + ad.buy_imitation_per_month * village_shares(hh, hh.online_buyer, n_nodes)
    node = hh.node[can_buy]
    h_buy = 1.0 - np.exp(-rate_buy[node] * (age[can_buy] * delivery[node]))
    rate_sell = ad.sell_innovation_per_month + ad.sell_imitation_per_month * village_shares(
        hh, hh.online_seller, n_nodes
    )
    node = hh.node[can_sell]
    rate = rate_sell[node] + np.where(hh.trained[can_sell], ad.trained_sell_rate_per_month, 0.0)
    h_sell = 1.0 - np.exp(-rate * (age[can_sell] * delivery[node]))
    new_buy = can_buy[u_buy[can_buy] < h_buy]
    new_sell = can_sell[u_sell[can_sell] < h_sell]
    hh.online_buyer[new_buy] = True
    hh.online_seller[new_sell] = True
    return len(new_buy), len(new_sell)
