"""Exact Shapley values of a cost game, for the few carriers of a county.

Co-distribution pools several carriers' parcels onto shared routes; the consortium's cost
must be split among members in a way each can accept. The Shapley value is the split
that gives each member its average marginal cost over every order of joining: efficient
(shares add up to the consortium's cost), symmetric (identical members pay the same) and
free of cross-subsidy for a member that adds nothing. With at most eight carriers the
2^n coalitions can be evaluated exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from itertools import combinations
from math import factorial


def shapley(players: Sequence[Hashable], cost: Callable[[frozenset], float]) -> dict[Hashable, float]:
    """Exact Shapley value of each player in the cost game ``cost``.

    Args:
        players: The members (at most about 12; the work grows as 2^n).
        cost: Cost of each coalition (a frozenset of players); ``cost(frozenset())`` is
            taken as 0.

    Returns:
        Each player's share; the shares add up to ``cost(all players)``.
    """
    n = len(players)
    values: dict[frozenset, float] = {frozenset(): 0.0}
    for k in range(1, n + 1):
        for combo in combinations(players, k):
            values[frozenset(combo)] = float(cost(frozenset(combo)))
    weight = [factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)]
    out = {}
    for p in players:
        others = [q for q in players if q != p]
        total = 0.0
        for k in range(n):
            for combo in combinations(others, k):
                s = frozenset(combo)
                total += weight[k] * (values[s | {p}] - values[s])
        out[p] = total
    return out
