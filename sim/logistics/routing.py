"""Which villages a delivery route serves, and the tour that serves them.

A carrier's township outlet delivers to a village only if the village's parcels pay for
the detour: this is a prize-collecting travelling-salesman problem (each village a
"prize" of weekly revenue, each km and each stop a cost). Two planners solve it:

* ``solver``: PyVRP's iterated local search on the prize-collecting VRP, used where
  routes are planned in detail and to validate the heuristic;
* ``heuristic``: a drop heuristic — start from every candidate on a nearest-neighbour +
  2-opt tour, repeatedly drop the village whose revenue covers least of what its removal
  saves, re-optimise the tour — fast enough for sweeps. Its gap to the solver is measured
  in the tests and by ``python -m benchmarks.routing_gap`` (the mean must stay under 5%).

Distances are road distances (shortest paths on the road graph), so tours follow roads.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: PyVRP works in integers: distances and prizes are scaled to this many units per km / yuan.
SCALE = 100


@dataclass(frozen=True)
class Plan:
    """A delivery plan from one depot.

    Attributes:
        served: Node indices served, in tour order (the depot excluded).
        tour_km: Length of the closed tour depot → served → depot (km).
        cost: Weekly route cost (km and stops) of the plan (yuan).
        prize: Weekly revenue of the served villages (yuan).
    """

    served: tuple[int, ...]
    tour_km: float
    cost: float
    prize: float

    @property
    def profit(self) -> float:
        return self.prize - self.cost


def tour_length(order: list[int], depot: int, dist: np.ndarray) -> float:
    """Length of the closed tour depot → order → depot."""
    if not order:
        return 0.0
    path = [depot, *order, depot]
    return float(sum(dist[a, b] for a, b in itertools.pairwise(path)))


# The improvement moves below run on a small local table: the depot and the candidates
# re-numbered 0..k-1 in the order of their node ids, with distances as a list of lists of
# Python floats. Indexing a list is several times cheaper than indexing a NumPy array
# element by element, the arithmetic is the same IEEE double arithmetic, and because the
# re-numbering keeps the order of node ids every tie is broken exactly as on node ids.


def _local(depot: int, nodes: list[int], dist: np.ndarray) -> tuple[list[int], dict[int, int], list[list[float]]]:
    ids = sorted({depot, *nodes})
    pos = {v: i for i, v in enumerate(ids)}
    return ids, pos, dist[np.ix_(ids, ids)].tolist()


def _length(path: list[int], d: list[list[float]]) -> float:
    return sum([d[a][b] for a, b in itertools.pairwise(path)])


def _nearest(nodes: list[int], depot: int, d: list[list[float]]) -> list[int]:
    """A tour built by always going to the nearest unvisited node (ties: lowest node id)."""
    left = list(nodes)
    order: list[int] = []
    here = depot
    while left:
        row = d[here]
        k = min(range(len(left)), key=lambda i: (row[left[i]], left[i]))
        here = left.pop(k)
        order.append(here)
    return order


def _two_opt(path: list[int], d: list[list[float]]) -> list[int]:
    """Improve a closed path by reversing segments while that shortens it (first improvement)."""
    n = len(path)
    improved = True
    while improved:
        improved = False
        for i in range(1, n - 2):
            for j in range(i + 1, n - 1):
                a, b, c, e = path[i - 1], path[i], path[j], path[j + 1]
                if d[a][c] + d[b][e] < d[a][b] + d[c][e] - 1e-9:
                    path[i : j + 1] = path[i : j + 1][::-1]
                    improved = True
    return path


def _or_opt(path: list[int], d: list[list[float]]) -> list[int]:
    """Improve a closed path by moving single nodes to a better position while that shortens it."""
    improved = True
    while improved:
        improved = False
        for i in range(1, len(path) - 1):
            a, v, b = path[i - 1], path[i], path[i + 1]
            dv = d[v]
            removal = d[a][v] + dv[b] - d[a][b]
            rest = path[:i] + path[i + 1 :]
            best_j, best_add = None, removal - 1e-9
            for j in range(len(rest) - 1):
                x, y = rest[j], rest[j + 1]
                add = d[x][v] + dv[y] - d[x][y]
                if add < best_add:
                    best_j, best_add = j, add
            if best_j is not None:
                path = [*rest[: best_j + 1], v, *rest[best_j + 1 :]]
                improved = True
                break
    return path


def _improve(order: list[int], depot: int, d: list[list[float]]) -> list[int]:
    """2-opt and node relocation, alternated until neither shortens the tour."""
    length = _length([depot, *order, depot], d) if order else 0.0
    while True:
        order = _or_opt(_two_opt([depot, *order, depot], d), d)[1:-1]
        new = _length([depot, *order, depot], d) if order else 0.0
        if new >= length - 1e-9:
            return order
        length = new


def score(
    order: list[int], depot: int, prizes: dict[int, float], dist: np.ndarray, km_cost: float, stop_cost: float
) -> Plan:
    """The plan of tour ``order`` from ``depot``: its length on ``dist``, its cost and its
    prize (used by the planners, and to price a kept plan at a later week's costs and prizes)."""
    km = tour_length(order, depot, dist)
    return Plan(tuple(order), km, km * km_cost + stop_cost * len(order), float(sum(prizes[v] for v in order)))


def _local_table(
    depot: int, nodes: list[int], dist: np.ndarray, memo: dict[tuple, Any] | None
) -> tuple[list[int], dict[int, int], list[list[float]]]:
    """The local table of ``_local``, remembered in ``memo`` (it depends only on the nodes
    and the distances)."""
    if memo is None:
        return _local(depot, nodes, dist)
    key = ("table", depot, tuple(nodes))
    table = memo.get(key)
    if table is None:
        table = memo[key] = _local(depot, nodes, dist)
    return table


@dataclass
class _Tours:
    """One prize-collecting problem on a local table (see the note above ``_local``): the
    stages of :func:`plan_heuristic` work on local indices and share these."""

    ids: list[int]
    pos: dict[int, int]
    d: list[list[float]]
    dp: int
    prize: dict[int, float]
    km_cost: float
    stop_cost: float
    memo: dict[tuple, Any] | None

    def improved(self, key: tuple, make_order: Callable[[], list[int]]) -> list[int]:
        """The tour ``make_order`` gives, improved by 2-opt and relocation (remembered under
        ``key`` in node ids when there is a memo)."""
        if self.memo is None:
            return _improve(make_order(), self.dp, self.d)
        hit = self.memo.get(key)
        if hit is None:
            hit = self.memo[key] = tuple(self.ids[v] for v in _improve(make_order(), self.dp, self.d))
        return [self.pos[v] for v in hit]

    def profit(self, order: list[int]) -> float:
        """Weekly prize of the villages on the tour less its km and stop costs."""
        dp = self.dp
        km = _length([dp, *order, dp], self.d) if order else 0.0
        return float(sum(map(self.prize.__getitem__, order))) - (km * self.km_cost + self.stop_cost * len(order))

    def best_by_dropping(self, order: list[int]) -> list[int]:
        """Drop, one at a time, the village whose prize covers least of what its removal saves,
        down to the empty tour; the most profitable tour seen (``order`` is emptied)."""
        dp, d, prize, km_cost, stop_cost = self.dp, self.d, self.prize, self.km_cost, self.stop_cost
        best, best_profit = list(order), self.profit(order)
        while order:
            path = [dp, *order, dp]
            nets = [
                prize[path[i]]
                - km_cost * (d[path[i - 1]][path[i]] + d[path[i]][path[i + 1]] - d[path[i - 1]][path[i + 1]])
                - stop_cost
                for i in range(1, len(path) - 1)
            ]
            del order[nets.index(min(nets))]  # the first of equal minima, as argmin
            p = self.profit(order)
            if p > best_profit + 1e-9:
                best, best_profit = list(order), p
        return best

    def insert_paying(self, order: list[int], left: list[int]) -> list[int]:
        """Insert, one at a time at its cheapest position, the village of ``left`` that adds
        most, while one adds anything (``order`` and ``left`` are changed in place)."""
        dp, d, prize, km_cost, stop_cost = self.dp, self.d, self.prize, self.km_cost, self.stop_cost
        while left:
            path = [dp, *order, dp]
            gain, pick, where = 0.0, None, 0
            for v in left:
                dv = d[v]
                ins = [d[path[i]][v] + dv[path[i + 1]] - d[path[i]][path[i + 1]] for i in range(len(path) - 1)]
                k = min(range(len(ins)), key=ins.__getitem__)
                net = prize[v] - km_cost * ins[k] - stop_cost
                if net > gain + 1e-9:
                    gain, pick, where = net, v, k
            if pick is None:
                break
            order.insert(where, pick)
            left.remove(pick)
        return order


def plan_heuristic(
    depot: int,
    candidates: list[int],
    prizes: dict[int, float],
    dist: np.ndarray,
    km_cost: float,
    stop_cost: float,
    memo: dict[tuple, Any] | None = None,
) -> Plan:
    """Drop-then-add heuristic for the prize-collecting tour.

    1. Tour every candidate worth a stop (nearest neighbour, then 2-opt).
    2. Drop, one at a time, the village whose revenue covers least of what its removal
       saves, all the way down to the empty tour, and keep the most profitable tour seen
       (so a cluster that pays only as a whole is not lost to one-at-a-time reasoning).
    3. Insert, one at a time at its cheapest position, any dropped village that now pays.
    4. Re-optimise the tour with 2-opt and node relocation; an unprofitable plan becomes the empty plan.

    Args:
        depot: Node the route starts and ends at (the township outlet).
        candidates: Villages that could be served.
        prizes: Weekly revenue of serving each candidate (yuan).
        dist: Road distance matrix (km).
        km_cost: Weekly cost per km of tour (per-km cost × deliveries per week).
        stop_cost: Weekly cost of a stop (per-stop cost × deliveries per week).
        memo: Improved tours already worked out on this ``dist`` (the caller keeps one per
            distance matrix). Tour improvement depends only on the starting order, the
            depot and the distances — not on the prizes — and carriers re-plan the same
            townships month after month with the same candidates, so most improvements
            repeat exactly; the memo returns the same tour the work would. The local
            distance table of a set of candidates is remembered the same way.
    """
    worth = [v for v in candidates if prizes.get(v, 0.0) > stop_cost]
    if not worth:
        return Plan((), 0.0, 0.0, 0.0)
    ids, pos, d = _local_table(depot, worth, dist, memo)
    dp = pos[depot]
    tours = _Tours(ids, pos, d, dp, {pos[v]: prizes[v] for v in worth}, km_cost, stop_cost, memo)
    order = tours.improved(("start", depot, tuple(worth)), lambda: _nearest([pos[v] for v in worth], dp, d))
    order = tours.best_by_dropping(order)
    chosen = set(order)
    order = tours.insert_paying(order, [pos[v] for v in worth if pos[v] not in chosen])
    final = tours.improved(("tour", depot, tuple(ids[v] for v in order)), lambda: order)
    plan = score([ids[v] for v in final], depot, prizes, dist, km_cost, stop_cost)
    return plan if plan.profit > 0 else Plan((), 0.0, 0.0, 0.0)


def plan_solver(
    depot: int,
    candidates: list[int],
    prizes: dict[int, float],
    dist: np.ndarray,
    km_cost: float,
    stop_cost: float,
    seed: int = 0,
    iterations: int = 1000,
) -> Plan:
    """Prize-collecting tour by PyVRP (iterated local search), deterministic for a seed.

    The per-stop cost is folded into the prize (a stop is worth its revenue less its
    handling), and the per-km cost into the edge costs, so PyVRP's objective
    (distance cost + uncollected prizes) is the negative of the plan's profit up to a
    constant.
    """
    # pyvrp is imported here: a compiled solver, loaded only by runs that plan with it
    from pyvrp import Model
    from pyvrp.stop import NoImprovement

    worth = [v for v in candidates if prizes.get(v, 0.0) - stop_cost > 0]
    if not worth:
        return Plan((), 0.0, 0.0, 0.0)
    m = Model()
    nodes = [depot, *worth]
    locs = [m.add_location(x=0, y=0) for _ in nodes]
    m.add_depot(locs[0])
    for loc, v in zip(locs[1:], worth, strict=True):
        m.add_client(loc, prize=round((prizes[v] - stop_cost) * SCALE), required=False)
    m.add_vehicle_type(num_available=1)
    for i, a in enumerate(nodes):
        for j, b in enumerate(nodes):
            if i != j:
                m.add_edge(locs[i], locs[j], distance=round(dist[a, b] * km_cost * SCALE))
    result = m.solve(stop=NoImprovement(iterations), seed=seed, display=False)
    order: list[int] = []
    for route in result.best.routes():
        for act in route.schedule():
            if act.is_client():
                order.append(worth[act.idx])  # a client activity's idx counts clients from 0
    plan = score(order, depot, prizes, dist, km_cost, stop_cost)
    return plan if plan.profit > 0 else Plan((), 0.0, 0.0, 0.0)


PLANNERS = {"heuristic": plan_heuristic, "solver": plan_solver}
