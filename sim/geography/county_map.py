"""The county map: settlements, roads and the travel times between them.

Every other part of the model reads geography only through :class:`CountyMap`, so a
generated county and one loaded from real data behave the same. Travel times and
distances are shortest paths on the road graph, computed once when the map is built
(scipy's csgraph Dijkstra), because agents ask for them every week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra


class SettlementKind(IntEnum):
    """What a settlement is; the value is what the map's ``kind`` column holds.

    An ``IntEnum`` so that the int8 ``kind`` array compares with it directly, and so
    that one name means one kind everywhere (the shopping channels have their own
    numbering, :class:`sim.markets.kinds.Channel`).
    """

    COUNTY_TOWN = 0
    TOWNSHIP = 1
    VILLAGE = 2

    @property
    def label(self) -> str:
        """The kind as a settlements file spells it (``county_town``, ``township``, ``village``)."""
        return self.name.lower()


#: The kinds as a settlements file spells them, in the order of their values.
KIND_NAMES: tuple[str, ...] = tuple(k.label for k in SettlementKind)

#: Road classes, in the order of the ``road_class`` edge attribute.
ROAD_CLASSES = ("county_road", "township_road", "village_road")


@dataclass
class CountyMap:
    """A county as the model sees it.

    Nodes are settlements indexed 0..n-1; node 0 is always the county town. The road
    graph's nodes are these indices, and each edge has ``length_km``, ``road_class``
    and ``minutes``.

    Attributes:
        ids: Settlement ids (strings, unique).
        names: Settlement names.
        kind: The :class:`SettlementKind` of each settlement (int8 array of its values).
        x_km, y_km: Planar coordinates in km (projected from lon/lat for real maps).
        lon, lat: Geographic coordinates (degrees) where known, else NaN.
        population: Resident population per settlement (persons).
        township: For each node, the index of the township (or county town) it belongs
            to; a township and the county town belong to themselves.
        graph: The road network (networkx Graph on node indices).
        travel_min: (n, n) shortest travel time in minutes.
        travel_km: (n, n) road distance in km along the shortest-distance path.
        region, terrain_speed_factor: Descriptive metadata of how the map was made.
    """

    ids: list[str]
    names: list[str]
    kind: np.ndarray
    x_km: np.ndarray
    y_km: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    population: np.ndarray
    township: np.ndarray
    graph: nx.Graph
    region: str = "unknown"
    terrain_speed_factor: float = 1.0
    travel_min: np.ndarray = field(init=False, repr=False)
    travel_km: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.travel_min, self.travel_km = travel_matrices(self.graph, len(self.ids))

    @property
    def n(self) -> int:
        """Number of settlements."""
        return len(self.ids)

    @property
    def villages(self) -> np.ndarray:
        """Indices of administrative villages."""
        return np.flatnonzero(self.kind == SettlementKind.VILLAGE)

    @property
    def townships(self) -> np.ndarray:
        """Indices of townships (the county town is not counted as a township)."""
        return np.flatnonzero(self.kind == SettlementKind.TOWNSHIP)

    @property
    def county_town(self) -> int:
        """Index of the county town (always 0)."""
        return 0

    @property
    def total_population(self) -> int:
        """Resident population of the county."""
        return int(self.population.sum())

    def positions(self) -> dict[int, tuple[float, float]]:
        """Node positions in km, for drawing and for Mesa's Network space."""
        return {i: (float(self.x_km[i]), float(self.y_km[i])) for i in range(self.n)}


def travel_matrices(graph: nx.Graph, n: int) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs shortest travel time (minutes) and road distance (km).

    Args:
        graph: Road graph on node indices 0..n-1 with ``minutes`` and ``length_km`` edges.
        n: Number of nodes.

    Returns:
        ``(minutes, km)`` as dense (n, n) float arrays; unreachable pairs are inf.
    """
    rows, cols, mins, kms = [], [], [], []
    for u, v, d in graph.edges(data=True):
        rows += [u, v]
        cols += [v, u]
        mins += [d["minutes"], d["minutes"]]
        kms += [d["length_km"], d["length_km"]]
    if not rows:
        z = np.zeros((n, n))
        off = ~np.eye(n, dtype=bool)
        z[off] = np.inf
        return z, z.copy()
    r, c = np.asarray(rows), np.asarray(cols)
    t = csr_matrix((np.asarray(mins, dtype=float), (r, c)), shape=(n, n))
    k = csr_matrix((np.asarray(kms, dtype=float), (r, c)), shape=(n, n))
    return dijkstra(t, directed=False), dijkstra(k, directed=False)
