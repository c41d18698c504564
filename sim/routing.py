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
from dataclasses import dataclass

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


def nearest_neighbour(nodes: list[int], depot: int, dist: np.ndarray) -> list[int]:
    """A tour built by always going to the nearest unvisited node."""
    left = list(nodes)
    order: list[int] = []
    here = depot
    while left:
        k = min(range(len(left)), key=lambda i: (dist[here, left[i]], left[i]))
        here = left.pop(k)
        order.append(here)
    return order


def two_opt(order: list[int], depot: int, dist: np.ndarray) -> list[int]:
    """Improve a tour by reversing segments while that shortens it (first improvement)."""
    path = [depot, *order, depot]
    n = len(path)
    improved = True
    while improved:
        improved = False
        for i in range(1, n - 2):
            for j in range(i + 1, n - 1):
                a, b, c, d = path[i - 1], path[i], path[j], path[j + 1]
                if dist[a, c] + dist[b, d] < dist[a, b] + dist[c, d] - 1e-9:
                    path[i : j + 1] = path[i : j + 1][::-1]
                    improved = True
    return path[1:-1]


def _plan(
    order: list[int], depot: int, prizes: dict[int, float], dist: np.ndarray, km_cost: float, stop_cost: float
) -> Plan:
    km = tour_length(order, depot, dist)
    return Plan(tuple(order), km, km * km_cost + stop_cost * len(order), float(sum(prizes[v] for v in order)))


def or_opt(order: list[int], depot: int, dist: np.ndarray) -> list[int]:
    """Improve a tour by moving single nodes to a better position while that shortens it."""
    path = [depot, *order, depot]
    improved = True
    while improved:
        improved = False
        for i in range(1, len(path) - 1):
            a, v, b = path[i - 1], path[i], path[i + 1]
            removal = dist[a, v] + dist[v, b] - dist[a, b]
            rest = path[:i] + path[i + 1 :]
            best_j, best_add = None, removal - 1e-9
            for j in range(len(rest) - 1):
                add = dist[rest[j], v] + dist[v, rest[j + 1]] - dist[rest[j], rest[j + 1]]
                if add < best_add:
                    best_j, best_add = j, add
            if best_j is not None:
                path = [*rest[: best_j + 1], v, *rest[best_j + 1 :]]
                improved = True
                break
    return path[1:-1]


def improve(order: list[int], depot: int, dist: np.ndarray) -> list[int]:
    """2-opt and node relocation, alternated until neither shortens the tour."""
    length = tour_length(order, depot, dist)
    while True:
        order = or_opt(two_opt(order, depot, dist), depot, dist)
        new = tour_length(order, depot, dist)
        if new >= length - 1e-9:
            return order
        length = new


def plan_heuristic(
    depot: int, candidates: list[int], prizes: dict[int, float], dist: np.ndarray, km_cost: float, stop_cost: float
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
    """
    order = improve(
        nearest_neighbour([v for v in candidates if prizes.get(v, 0.0) > stop_cost], depot, dist), depot, dist
    )
    best = _plan(order, depot, prizes, dist, km_cost, stop_cost)
    while order:
        path = [depot, *order, depot]
        nets = [
            prizes[path[i]]
            - km_cost * (dist[path[i - 1], path[i]] + dist[path[i], path[i + 1]] - dist[path[i - 1], path[i + 1]])
            - stop_cost
            for i in range(1, len(path) - 1)
        ]
        del order[int(np.argmin(nets))]
        plan = _plan(order, depot, prizes, dist, km_cost, stop_cost)
        if plan.profit > best.profit + 1e-9:
            best = plan
    order = list(best.served)
    left = [v for v in candidates if v not in set(order) and prizes.get(v, 0.0) > stop_cost]
    while left:
        path = [depot, *order, depot]
        gain, pick, where = 0.0, None, 0
        for v in left:
            ins = [dist[path[i], v] + dist[v, path[i + 1]] - dist[path[i], path[i + 1]] for i in range(len(path) - 1)]
            k = int(np.argmin(ins))
            net = prizes[v] - km_cost * ins[k] - stop_cost
            if net > gain + 1e-9:
                gain, pick, where = net, v, k
        if pick is None:
            break
        order.insert(where, pick)
        left.remove(pick)
    plan = _plan(improve(order, depot, dist), depot, prizes, dist, km_cost, stop_cost)
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
    plan = _plan(order, depot, prizes, dist, km_cost, stop_cost)
    return plan if plan.profit > 0 else Plan((), 0.0, 0.0, 0.0)


PLANNERS = {"heuristic": plan_heuristic, "solver": plan_solver}
