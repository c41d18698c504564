"""Road graphs from GIS road lines and from OpenStreetMap road networks, joined to settlements.

Two sources beside the loader's roads CSV:

- **A layer of road lines** (any format :mod:`sim.geography.gis` reads). Each line is a
  road between two settlements: its first and last vertices are snapped to the nearest
  settlement, which must lie within ``map.snap_tolerance_m``. Its length is the
  ``length_km`` attribute when given, else the great-circle length of its vertices (the
  line is the road, so no detour factor); its class is ``road_class`` when given, else
  the OSM ``highway`` tag when present, else inferred from the kinds of its ends.
- **An OpenStreetMap road graph in GraphML** as ``osmnx.save_graphml`` writes it (node
  ``x``/``y`` in the graph's ``crs``, edge ``length`` in metres and ``highway`` tag).
  Each settlement is joined to its nearest graph node (within ``map.snap_tolerance_m``);
  the fastest paths between those nodes (road classes from :data:`OSM_HIGHWAY_CLASSES`,
  speeds from the scenario, roads taken as two-way) become the model's roads: settlements
  ``s`` and ``t`` are linked when no third settlement lies on the fastest path between
  them, with that path's length and minutes and the class covering most of its length.
  Travel times between settlements are thus exactly the graph's fastest paths. Settlements
  whose nearest node is the same are joined by an inferred road (great-circle length times
  ``map.detour_factor``, class from their kinds).

The GraphML file is read with networkx rather than ``osmnx.load_graphml``: osmnx's loader
only converts the attribute strings its ``save_graphml`` wrote (x, y, length, lists of
tags) back to numbers, which takes a few lines here, while osmnx itself would add a
download-oriented dependency (requests and its own pins on pandas, shapely, networkx) that
reading a file does not need.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim.config import MapConfig
from sim.errors import MapError
from sim.geography.county_map import ROAD_CLASSES, SettlementKind
from sim.geography.generator import EARTH_RADIUS_KM, MIN_ROAD_KM, add_road, lonlat_to_xy
from sim.geography.gis import ROAD_ATTRIBUTES, attribute_values, line_coordinates, read_layer

#: OSM ``highway`` tags by model road class (assumption: national, provincial and county
#: roads (国道/省道/县道) are tagged trunk/primary/secondary in OSM China, township roads
#: (乡道) tertiary or unclassified, village roads (村道) residential, track and the rest).
#: Tags not listed here are village roads; ``*_link`` ramps take their road's class.
OSM_HIGHWAY_CLASSES = {
    "county_road": ("motorway", "trunk", "primary", "secondary"),
    "township_road": ("tertiary", "unclassified"),
}
_MAX_LISTED = 5  # how many offending ids an error message lists before "and N more"


def haversine_km(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Great-circle distance in km (broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def class_from_kinds(ku: int, kv: int) -> str:
    """Road class of an edge from the kinds of its two ends."""
    if SettlementKind.VILLAGE in (ku, kv):
        return "village_road"
    if ku == SettlementKind.TOWNSHIP and kv == SettlementKind.TOWNSHIP:
        return "township_road"
    return "county_road"


@lru_cache(maxsize=1024)  # a county's graph has tens of thousands of edges and a few dozen distinct tags
def highway_class(tag: Any) -> str | None:
    """The model class of an OSM ``highway`` tag, or of the fastest of a list of tags
    (osmnx writes a simplified edge's tags as ``"['tertiary', 'residential']"``); None
    when there is no tag."""
    if tag is None:
        return None
    text = str(tag).strip()
    if not text or text.lower() in ("nan", "none"):
        return None
    tags = [t.strip().strip("'\"").lower().removesuffix("_link") for t in text.strip("[]").split(",")]
    ranks = [next((k for k, cls in enumerate(ROAD_CLASSES[:2]) if t in OSM_HIGHWAY_CLASSES[cls]), 2) for t in tags]
    return ROAD_CLASSES[min(ranks)]


def check_connected(g: nx.Graph, ids: list[str], source: str | Path) -> None:
    """Every settlement can be reached from the county town (node 0), else a MapError."""
    reach = nx.node_connected_component(g, 0)
    if len(reach) == len(ids):
        return
    cut = [ids[k] for k in range(len(ids)) if k not in reach]
    shown = ", ".join(cut[:_MAX_LISTED]) + (f" and {len(cut) - _MAX_LISTED} more" if len(cut) > _MAX_LISTED else "")
    raise MapError(
        f"{len(cut)} settlement(s) cannot be reached from the county town {ids[0]!r} by these roads: {shown}. "
        "Add roads linking them, or leave out the roads file to have roads inferred.",
        source=source,
        location="road network",
    )


def _snap(lon: float, lat: float, s_lon: np.ndarray, s_lat: np.ndarray) -> tuple[int, float]:
    """The nearest settlement to a point and its distance in metres."""
    d = haversine_km(lon, lat, s_lon, s_lat)
    k = int(np.argmin(d))
    return k, float(d[k]) * 1000.0


def _line_class(attrs: dict[str, list[Any]], i: int, ku: int, kv: int, path: Path, label: str) -> str:
    """A road line's class: ``road_class``, else its OSM ``highway`` tag, else from the kinds of its ends."""
    raw = attrs.get("road_class", [None] * (i + 1))[i]
    cls = "" if raw is None else str(raw).strip().lower()
    if cls:
        if cls not in ROAD_CLASSES:
            raise MapError(
                f"unknown road_class {cls!r}; allowed: {', '.join(ROAD_CLASSES)} (or leave it empty to infer it)",
                source=path,
                location=label,
            )
        return cls
    tagged = highway_class(attrs["highway"][i]) if "highway" in attrs else None
    return tagged or class_from_kinds(ku, kv)


def _line_length(attrs: dict[str, list[Any]], i: int, line: np.ndarray, path: Path, label: str) -> float:
    """A road line's length in km: ``length_km`` when given, else the great-circle length of its vertices."""
    raw = attrs.get("length_km", [None] * (i + 1))[i]
    if raw is None or (isinstance(raw, float) and np.isnan(raw)) or str(raw).strip() == "":
        return float(haversine_km(line[:-1, 0], line[:-1, 1], line[1:, 0], line[1:, 1]).sum())
    try:
        length = float(raw)
    except ValueError:
        raise MapError(f"length_km must be a number (got {raw!r})", source=path, location=label) from None
    if not np.isfinite(length) or length <= 0:
        raise MapError(f"length_km must be a positive number (got {raw!r})", source=path, location=label)
    return length


def roads_from_lines(
    path: Path, ids: list[str], kind: np.ndarray, lon: np.ndarray, lat: np.ndarray, cfg: MapConfig, speeds: dict
) -> nx.Graph:
    """The road graph of a layer of road lines, each snapped to the settlements at its ends.

    Raises:
        MapError: An unreadable layer, an end farther than ``map.snap_tolerance_m`` from
            every settlement, a line whose ends snap to one settlement, a bad attribute, or
            settlements the roads leave unreachable.
    """
    frame, _ = read_layer(path, cfg.roads_layer, cfg.crs, "LineString", "map.roads_layer")
    lines, labels = line_coordinates(frame, path)
    attrs = attribute_values(frame, ROAD_ATTRIBUTES)
    g = nx.Graph()
    g.add_nodes_from(range(len(ids)))
    tol = cfg.snap_tolerance_m
    for i, (line, label) in enumerate(zip(lines, labels, strict=True)):
        ends = []
        for end, (x, y) in (("starts", line[0]), ("ends", line[-1])):
            k, metres = _snap(x, y, lon, lat)
            if metres > tol:
                raise MapError(
                    f"{end} {metres:.0f} m from the nearest settlement ({ids[k]!r}); a road's ends must lie within "
                    f"map.snap_tolerance_m ({tol:g} m) of a settlement",
                    source=path,
                    location=label,
                )
            ends.append(k)
        u, v = ends
        if u == v:
            raise MapError(
                f"both ends snap to settlement {ids[u]!r}; a road must join two settlements (lower "
                "map.snap_tolerance_m if they are close)",
                source=path,
                location=label,
            )
        cls = _line_class(attrs, i, int(kind[u]), int(kind[v]), path, label)
        add_road(g, u, v, _line_length(attrs, i, line, path, label), cls, speeds)
    check_connected(g, ids, path)
    return g


# ---------------------------------------------------------------------------
# OpenStreetMap road graphs (GraphML)


def _read_graphml(path: Path) -> nx.Graph:
    """The GraphML file as a networkx graph, or a MapError for a missing or malformed file."""
    if not path.exists():
        raise MapError("file not found", source=path)
    if path.is_dir():
        raise MapError("is a directory; a file is expected", source=path)
    try:
        g = nx.read_graphml(path)
    except Exception as exc:  # ElementTree, networkx and OS errors alike mean "not a usable GraphML file"
        raise MapError(
            f"is not a readable GraphML file ({str(exc).strip() or type(exc).__name__})", source=path
        ) from None
    if g.number_of_edges() == 0:
        raise MapError("has no edges; an OpenStreetMap road graph is expected", source=path, location="edges")
    return g


def _node_lonlat(g: nx.Graph, path: Path, crs: str | None) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """Node keys and their lon/lat, from the nodes' x/y in the graph's ``crs`` (or ``map.crs``)."""
    from pyproj import CRS, Transformer  # with geopandas: only GIS inputs need it

    nodes = list(g.nodes)
    xy = np.empty((len(nodes), 2))
    for k, (node, data) in enumerate(g.nodes(data=True)):
        try:
            xy[k] = float(data["x"]), float(data["y"])
        except (KeyError, TypeError, ValueError):
            raise MapError(
                "needs numeric x and y on every node (as osmnx.save_graphml writes them)",
                source=path,
                location=f"node {node}",
            ) from None
    declared = g.graph.get("crs") or crs
    if declared is None:
        raise MapError(
            "declares no CRS (graph attribute 'crs'); set map.crs to the CRS of its node x/y",
            source=path,
            location="crs",
        )
    try:
        to_lonlat = Transformer.from_crs(CRS.from_user_input(declared), CRS.from_epsg(4326), always_xy=True)
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
    except Exception as exc:  # pyproj's CRSError and ProjError: an unknown or unusable CRS
        raise MapError(f"its CRS {declared!r} cannot be used ({exc})", source=path, location="crs") from None
    return nodes, np.asarray(lon), np.asarray(lat)


def _osm_edges(g: nx.Graph, pos: dict[Any, int], lon: np.ndarray, lat: np.ndarray, speeds: dict) -> dict:
    """The fastest edge between each pair of graph nodes: (i, j) -> (km, minutes, class)."""
    best: dict[tuple[int, int], tuple[float, float, str]] = {}
    for a, b, data in g.edges(data=True):
        i, j = sorted((pos[a], pos[b]))
        if i == j:
            continue
        try:
            km = float(data["length"]) / 1000.0
        except (KeyError, TypeError, ValueError):
            km = float(haversine_km(lon[i], lat[i], lon[j], lat[j]))
        km = max(km, MIN_ROAD_KM)  # zero-length edges would read as "no edge" in sparse graphs
        cls = highway_class(data.get("highway")) or "village_road"
        minutes = km / speeds[cls] * 60.0
        if (i, j) not in best or minutes < best[(i, j)][1]:
            best[(i, j)] = (km, minutes, cls)
    return best


def _snap_to_nodes(
    ids: list[str], lon: np.ndarray, lat: np.ndarray, n_lon: np.ndarray, n_lat: np.ndarray, tol: float, path: Path
) -> np.ndarray:
    """Each settlement's nearest graph node (KD-tree on local km coordinates)."""
    from scipy.spatial import cKDTree

    lon0, lat0 = float(lon.mean()), float(lat.mean())
    tree = cKDTree(np.column_stack(lonlat_to_xy(n_lon, n_lat, lon0, lat0)))
    _, node = tree.query(np.column_stack(lonlat_to_xy(lon, lat, lon0, lat0)))
    metres = haversine_km(lon, lat, n_lon[node], n_lat[node]) * 1000.0
    far = np.flatnonzero(metres > tol)
    if len(far):
        shown = ", ".join(f"{ids[k]} ({metres[k]:.0f} m)" for k in far[:_MAX_LISTED])
        raise MapError(
            f"{len(far)} settlement(s) lie farther than map.snap_tolerance_m ({tol:g} m) from every node of the road "
            f"graph: {shown}. Raise the tolerance, or use an extract that covers them.",
            source=path,
            location="nodes",
        )
    return np.asarray(node, dtype=np.int64)


def _contract(minutes: np.ndarray) -> list[tuple[int, int]]:
    """Pairs (s, t), s < t, with no third settlement on the fastest path between them."""
    m = len(minutes)
    pairs = []
    for s in range(m):
        via = minutes[s][:, None] + minutes  # via[k, t]: s to k, then k to t
        via[s, :] = np.inf
        via[np.arange(m), np.arange(m)] = np.inf
        direct = minutes[s] < via.min(axis=0) * (1.0 - 1e-12)
        pairs += [(s, int(t)) for t in np.flatnonzero(direct) if t > s]
    return pairs


def _path_road(edges: dict, pred: np.ndarray, a: int, b: int) -> tuple[float, str]:
    """Length (km) of the fastest path from graph node ``a`` to ``b`` and the class covering most of it."""
    by_class = dict.fromkeys(ROAD_CLASSES, 0.0)
    node = b
    while node != a:
        p = int(pred[node])
        km, _, cls = edges[(min(p, node), max(p, node))]
        by_class[cls] += km
        node = p
    return sum(by_class.values()), max(ROAD_CLASSES, key=lambda c: by_class[c])


def roads_from_osm(
    path: Path, ids: list[str], kind: np.ndarray, lon: np.ndarray, lat: np.ndarray, cfg: MapConfig, speeds: dict
) -> nx.Graph:
    """The road graph of an OpenStreetMap GraphML extract, contracted onto the settlements.

    Raises:
        MapError: An unreadable file, nodes without coordinates, no usable CRS,
            settlements farther than ``map.snap_tolerance_m`` from the graph, or
            settlements the graph does not connect to the county town.
    """
    g = _read_graphml(path)
    nodes, n_lon, n_lat = _node_lonlat(g, path, cfg.crs)
    edges = _osm_edges(g, {node: k for k, node in enumerate(nodes)}, n_lon, n_lat, speeds)
    ij = np.array(list(edges), dtype=np.int64).reshape(-1, 2)
    w = np.array([e[1] for e in edges.values()])
    graph = csr_matrix((w, (ij[:, 0], ij[:, 1])), shape=(len(nodes), len(nodes)))
    # Settlements are joined to nodes with roads only: an isolated node (a mapped point of
    # interest) would leave its settlement cut off.
    linked = np.unique(ij)
    snapped = linked[_snap_to_nodes(ids, lon, lat, n_lon[linked], n_lat[linked], cfg.snap_tolerance_m, path)]
    # Settlements sharing a node are contracted once (the first is their representative)
    # and joined to it below by an inferred road, as a roads CSV row without length or class.
    _, first = np.unique(snapped, return_index=True)
    reps = np.sort(first)
    minutes, pred = dijkstra(graph, directed=False, indices=snapped[reps], return_predecessors=True)
    road = nx.Graph()
    road.add_nodes_from(range(len(ids)))
    among = minutes[:, snapped[reps]]
    for s, t in _contract(among):  # finite times only: unreachable pairs are never "direct"
        km, cls = _path_road(edges, pred[s], int(snapped[reps[s]]), int(snapped[reps[t]]))
        road.add_edge(int(reps[s]), int(reps[t]), length_km=km, road_class=cls, minutes=float(among[s, t]))
    rep_of = {int(snapped[r]): int(r) for r in reps}
    for k in range(len(ids)):
        r = rep_of[int(snapped[k])]
        if r != k:
            km = float(haversine_km(lon[k], lat[k], lon[r], lat[r])) * cfg.detour_factor
            add_road(road, r, k, km, class_from_kinds(int(kind[r]), int(kind[k])), speeds)
    check_connected(road, ids, path)
    return road
