"""Synthetic counties: settlements and roads from a region preset, a size and a seed.

The generator's job is to give the model counties whose *distances* look like real ones:
how far villages are from their township seat and from the county town, how roads branch
and how slow they are. Layout, in order:

1. Settlement sites are a jittered hexagonal lattice with the region's spacing, cut to an
   irregular roughly round outline. A lattice (rather than uniform random points) keeps
   villages from piling up, which is how farmland settlement looks on the plains.
2. The county town is the site nearest the centre. Township seats are k-means centres of
   the remaining sites with the county town held fixed as one extra centre, so seats are
   spread evenly and none sits on top of the county town; each is snapped to a site.
3. Every village belongs to its nearest township seat (a Voronoi partition, as township
   boundaries roughly are); a township left without villages takes the nearest village
   of a township that has more than one.
4. Roads: the county town and seats are linked by the Gabriel graph over them (a planar
   neighbour graph that contains the minimum spanning tree, so it is connected). Links on
   the shortest-path tree from the county town are county roads, the rest township roads.
   Inside each township the seat and its villages are joined by a minimum spanning tree
   of village roads; a share of the remaining short Gabriel links (the region's
   ``extra_link_share``) is added as village roads, which meshes plains and leaves
   mountain villages on dead ends. Road length is straight-line distance times
   ``map.detour_factor`` times a small random factor (never shorter than the straight line).
5. Population: the county town and the seats get the region's shares, villages the rest,
   each spread lognormally and apportioned to exact integers summing to the total.

Everything random comes from ``numpy.random.default_rng(map.map_seed)`` in a fixed order,
so a seed always gives the same county, independent of the run seed.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError, cKDTree

from sim.config import MapConfig
from sim.errors import InputError
from sim.geography.county_map import ROAD_CLASSES, CountyMap, SettlementKind
from sim.geography.presets import RegionPreset, region_preset, size_preset, terrain_factor

#: Mean earth radius (km), IUGG value; used for the local projections and haversine.
EARTH_RADIUS_KM = 6371.0088

#: Smallest road length (km): keeps coincident settlements from getting zero-length
#: edges, which shortest-path code would treat as missing (assumption: 50 m).
MIN_ROAD_KM = 0.05

# Smallest populations before scaling down for tiny totals (assumption: a seat is a
# market town, an administrative village at least a group of hamlets). The county town
# needs none: it takes the region's share, tens of thousands in any preset.
_MIN_POP_TOWNSHIP = 500
_MIN_POP_VILLAGE = 100

_LATTICE_JITTER = 0.3  # assumption: sites move up to 30% of the spacing off the lattice
_LENGTH_JITTER_SD = 0.08  # assumption: log-sd of road length around straight x detour
_EXTRA_LINK_MAX_SPACINGS = 1.6  # assumption: extra village links only between near neighbours
_KMEANS_ITERATIONS = 25  # enough for seats to settle on lattices of a few hundred sites


def road_speeds(cfg: MapConfig, terrain: float) -> dict[str, float]:
    """Travel speed (km/h) per road class after the terrain factor.

    Args:
        cfg: Map section (flat-land speeds by class).
        terrain: Multiplier on all speeds (1 = flat).
    """
    return {
        "county_road": cfg.speed_county_road_kmh * terrain,
        "township_road": cfg.speed_township_road_kmh * terrain,
        "village_road": cfg.speed_village_road_kmh * terrain,
    }


def add_road(graph: nx.Graph, u: int, v: int, length_km: float, road_class: str, speeds: dict[str, float]) -> None:
    """Add a road edge with its length, class and travel minutes.

    If the two nodes are already linked, the faster road is kept: the road graph is
    simple, and a shortest path would only ever use the faster one anyway.
    """
    assert road_class in ROAD_CLASSES, road_class
    length = max(float(length_km), MIN_ROAD_KM)
    minutes = length / speeds[road_class] * 60.0
    if graph.has_edge(u, v) and graph.edges[u, v]["minutes"] <= minutes:
        return
    graph.add_edge(int(u), int(v), length_km=length, road_class=road_class, minutes=minutes)


def xy_to_lonlat(x_km: np.ndarray, y_km: np.ndarray, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of a local equirectangular projection centred on (lon0, lat0).

    At county scale (< 100 km) the error against a proper projection is well under 1%,
    far below the uncertainty of road detours.
    """
    lat = lat0 + np.degrees(y_km / EARTH_RADIUS_KM)
    lon = lon0 + np.degrees(x_km / (EARTH_RADIUS_KM * math.cos(math.radians(lat0))))
    return lon, lat


def lonlat_to_xy(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Local equirectangular projection (km east, km north of (lon0, lat0))."""
    x = np.radians(np.asarray(lon, dtype=float) - lon0) * EARTH_RADIUS_KM * math.cos(math.radians(lat0))
    y = np.radians(np.asarray(lat, dtype=float) - lat0) * EARTH_RADIUS_KM
    return x, y


def gabriel_edges(points: np.ndarray) -> np.ndarray:
    """Edges of the Gabriel graph of planar points, as an (m, 2) int array with i < j.

    Two points are Gabriel neighbours when no third point lies inside the circle whose
    diameter joins them. The graph is planar, local and contains the Euclidean minimum
    spanning tree, so it is connected: a good skeleton for "roads between neighbours".
    Degenerate inputs (fewer than four points, or all collinear) fall back to checking
    every pair.
    """
    n = len(points)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    cand: np.ndarray
    if n >= 4:
        try:
            tri = Delaunay(points)
            s = tri.simplices
            cand = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
        except QhullError:
            cand = np.array(np.triu_indices(n, 1)).T
    else:
        cand = np.array(np.triu_indices(n, 1)).T
    cand = np.unique(np.sort(cand, axis=1), axis=0)
    mid = (points[cand[:, 0]] + points[cand[:, 1]]) / 2.0
    radius = np.linalg.norm(points[cand[:, 0]] - points[cand[:, 1]], axis=1) / 2.0
    tree = cKDTree(points)
    # Shrink the circle slightly so the two endpoints (on the circle) are not counted.
    inside = tree.query_ball_point(mid, radius * (1.0 - 1e-9), return_length=True)
    return cand[np.asarray(inside) == 0]


def trunk_classes(edges: np.ndarray, lengths: np.ndarray, n_hubs: int) -> list[str]:
    """Classes of the links between the county town (hub 0) and the township seats.

    Links on the shortest-path tree from the county town are county roads (the radial
    roads every township uses to reach the county seat); the others, joining
    neighbouring townships, are township roads.

    Args:
        edges: (m, 2) hub index pairs (e.g. from :func:`gabriel_edges`).
        lengths: Road length (km) of each pair.
        n_hubs: Number of hubs (county town plus townships).
    """
    if len(edges) == 0:
        return []
    w = csr_matrix((lengths, (edges[:, 0], edges[:, 1])), shape=(n_hubs, n_hubs))
    _, pred = dijkstra(w, directed=False, indices=0, return_predecessors=True)
    tree = {(int(min(k, p)), int(max(k, p))) for k, p in enumerate(pred) if p >= 0}
    return ["county_road" if (int(min(u, v)), int(max(u, v))) in tree else "township_road" for u, v in edges]


def _apportion(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Split an integer total into integer parts >= minimum, proportional to weights.

    Largest-remainder rounding, so the parts sum to ``total`` exactly. The minimum is
    lowered if the total cannot afford it (callers wanting at least 1 guarantee total >= n).
    """
    n = len(weights)
    floor_min = min(minimum, total // n)
    rest = total - floor_min * n
    raw = rest * weights / weights.sum()
    parts = np.floor(raw).astype(np.int64)
    short = int(rest - parts.sum())
    order = np.argsort(-(raw - parts), kind="stable")
    parts[order[:short]] += 1
    return parts + floor_min


def _populations(
    rng: np.random.Generator, total: int, n_townships: int, n_villages: int, region: RegionPreset
) -> np.ndarray:
    """Integer populations for [county town, townships..., villages...] summing to total."""
    counts = np.array([1, n_townships, n_villages])
    village_share = 1.0 - region.county_town_share - region.township_seat_share
    shares = np.array([region.county_town_share, region.township_seat_share, village_share])
    # Each group first gets one person per settlement, then its share of the rest.
    group_totals = counts + _apportion(total - int(counts.sum()), shares, 0)
    t_w = rng.lognormal(0.0, region.township_pop_sigma, n_townships)
    v_w = rng.lognormal(0.0, region.village_pop_sigma, n_villages)
    return np.concatenate(
        [
            np.array([group_totals[0]], dtype=np.int64),
            _apportion(int(group_totals[1]), t_w, _MIN_POP_TOWNSHIP),
            _apportion(int(group_totals[2]), v_w, _MIN_POP_VILLAGE),
        ]
    )


def _sites(rng: np.random.Generator, n: int, spacing: float, irregularity: float) -> np.ndarray:
    """n jittered hexagonal-lattice sites inside an irregular round outline, centred at 0."""
    # Lattice covering a disc with about twice the needed area (irregular outline).
    radius = spacing * math.sqrt(2.0 * n * math.sqrt(3.0) / 2.0 / math.pi) * (1.0 + irregularity) + 2 * spacing
    rows = math.ceil(radius / (spacing * math.sqrt(3.0) / 2.0))
    cols = math.ceil(radius / spacing) + 1
    j, i = np.meshgrid(np.arange(-rows, rows + 1), np.arange(-cols, cols + 1), indexing="ij")
    x = (i + 0.5 * (j % 2)) * spacing
    y = j * spacing * math.sqrt(3.0) / 2.0
    pts = np.column_stack([x.ravel(), y.ravel()])
    pts += rng.uniform(-0.5, 0.5, 2) * spacing  # random lattice offset: centre not on a site
    angle = rng.uniform(0.0, 2.0 * math.pi)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    pts = pts @ rot.T
    # Outline r(theta) = 1 + a2 cos(2 theta + p2) + a3 cos(3 theta + p3); keep the n sites
    # with the smallest radius relative to it.
    amp = rng.uniform(0.3, 1.0, 2) * irregularity
    phase = rng.uniform(0.0, 2.0 * math.pi, 2)
    theta = np.arctan2(pts[:, 1], pts[:, 0])
    outline = 1.0 + amp[0] * np.cos(2 * theta + phase[0]) + amp[1] * np.cos(3 * theta + phase[1])
    rho = np.hypot(pts[:, 0], pts[:, 1]) / outline
    keep = np.argsort(rho, kind="stable")[:n]
    sites = pts[keep] + rng.uniform(-_LATTICE_JITTER, _LATTICE_JITTER, (n, 2)) * spacing
    return sites


def _seats(rng: np.random.Generator, sites: np.ndarray, town: int, n_townships: int) -> np.ndarray:
    """Choose township seats among sites: k-means centres with the county town fixed."""
    others = np.flatnonzero(np.arange(len(sites)) != town)
    pts = sites[others]
    # k-means++ initialisation, with the county town as the first (fixed) centre.
    centres = [sites[town]]
    d2 = np.sum((pts - sites[town]) ** 2, axis=1)
    for _ in range(n_townships):
        p = d2 / d2.sum() if d2.sum() > 0 else np.full(len(pts), 1.0 / len(pts))
        c = pts[rng.choice(len(pts), p=p)]
        centres.append(c)
        d2 = np.minimum(d2, np.sum((pts - c) ** 2, axis=1))
    cen = np.array(centres)
    for _ in range(_KMEANS_ITERATIONS):
        label = np.argmin(((pts[:, None, :] - cen[None, :, :]) ** 2).sum(axis=2), axis=1)
        for k in range(1, n_townships + 1):  # centre 0 (county town) stays put
            members = pts[label == k]
            if len(members):
                cen[k] = members.mean(axis=0)
    # Snap each centre to a distinct site (greedy, in centre order).
    free = np.ones(len(pts), dtype=bool)
    seats = np.empty(n_townships, dtype=np.int64)
    for k in range(1, n_townships + 1):
        d = np.sum((pts - cen[k]) ** 2, axis=1)
        d[~free] = np.inf
        s = int(np.argmin(d))
        free[s] = False
        seats[k - 1] = others[s]
    return seats


def _assign_villages(xy: np.ndarray, n_townships: int) -> np.ndarray:
    """Township index (1..n_townships) of every village (nodes after the townships)."""
    seats = xy[1 : n_townships + 1]
    vill = xy[n_townships + 1 :]
    d = ((vill[:, None, :] - seats[None, :, :]) ** 2).sum(axis=2)
    label = np.argmin(d, axis=1)
    # A township must have at least one village: give an empty one its nearest village
    # among townships that can spare one.
    for _ in range(n_townships):
        counts = np.bincount(label, minlength=n_townships)
        empty = np.flatnonzero(counts == 0)
        if not len(empty):
            break
        k = int(empty[0])
        spare = counts[label] > 1
        dist = np.where(spare, d[:, k], np.inf)
        label[int(np.argmin(dist))] = k
    return label + 1


def _length(rng: np.random.Generator, straight: float, detour: float) -> float:
    """Road length for a straight-line distance: detour times a small random factor."""
    jitter = math.exp(rng.normal(0.0, _LENGTH_JITTER_SD))
    return max(straight * detour * jitter, straight, MIN_ROAD_KM)


def _roads(
    rng: np.random.Generator,
    xy: np.ndarray,
    township: np.ndarray,
    n_townships: int,
    spacing: float,
    region: RegionPreset,
    cfg: MapConfig,
    speeds: dict[str, float],
) -> nx.Graph:
    """Build the road graph (see the module docstring, step 4)."""
    n = len(xy)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    hubs = np.arange(n_townships + 1)

    # Trunk: Gabriel graph over county town + seats; shortest-path tree from the town = county roads.
    trunk = gabriel_edges(xy[hubs])
    straight = np.linalg.norm(xy[trunk[:, 0]] - xy[trunk[:, 1]], axis=1)
    lengths = np.array([_length(rng, s, cfg.detour_factor) for s in straight])
    for (u, v), length, cls in zip(trunk, lengths, trunk_classes(trunk, lengths, len(hubs)), strict=True):
        add_road(g, int(u), int(v), float(length), cls, speeds)

    # Village roads: a minimum spanning tree inside each township (seat + its villages).
    for k in range(1, n_townships + 1):
        members = np.concatenate([[k], np.flatnonzero((township == k) & (np.arange(n) > n_townships))])
        if len(members) < 2:
            continue
        p = xy[members]
        d = np.linalg.norm(p[:, None, :] - p[None, :, :], axis=2)
        mst = minimum_spanning_tree(csr_matrix(d)).tocoo()
        order = np.lexsort((mst.col, mst.row))  # fixed order for reproducible jitter draws
        for a, b in zip(mst.row[order], mst.col[order], strict=True):
            u, v = int(members[a]), int(members[b])
            add_road(g, u, v, _length(rng, float(d[a, b]), cfg.detour_factor), "village_road", speeds)

    # Extra short links between neighbours (across township borders too), meshing plains.
    extra = gabriel_edges(xy)
    straight = np.linalg.norm(xy[extra[:, 0]] - xy[extra[:, 1]], axis=1)
    draws = rng.random(len(extra))
    with_village = (extra[:, 0] > n_townships) | (extra[:, 1] > n_townships)
    ok = with_village & (straight <= _EXTRA_LINK_MAX_SPACINGS * spacing) & (draws < region.extra_link_share)
    for (u, v), s in zip(extra[ok], straight[ok], strict=True):
        if not g.has_edge(int(u), int(v)):
            add_road(g, int(u), int(v), _length(rng, float(s), cfg.detour_factor), "village_road", speeds)
    return g


def _resolved_counts(cfg: MapConfig) -> tuple[int, int, int]:
    """(townships, villages, population) from the size preset and the scenario's overrides."""
    size = size_preset(cfg.size)
    n_t = cfg.n_townships if cfg.n_townships is not None else size.n_townships
    n_v = cfg.n_villages if cfg.n_villages is not None else size.n_villages
    pop = cfg.population if cfg.population is not None else size.population
    if n_v < n_t:
        raise InputError(
            f"{n_v} villages cannot be shared among {n_t} townships (each township needs at least one "
            "village); raise map.n_villages or lower map.n_townships",
            location="map.n_villages",
        )
    if pop < 1 + n_t + n_v:
        raise InputError(
            f"a population of {pop} is smaller than the {1 + n_t + n_v} settlements; every settlement needs "
            "at least one resident",
            location="map.population",
        )
    return n_t, n_v, pop


def generate_map(cfg: MapConfig) -> CountyMap:
    """Generate a synthetic county from the map section of a scenario.

    Args:
        cfg: Map section: region and size presets, their overrides, ``map_seed``, detour
            factor and road speeds.

    Returns:
        A connected county: node 0 the county town, then townships ``T01..``, then villages
        ``V0001..`` ordered by township; populations sum exactly to the configured total.

    Raises:
        InputError: The overrides are impossible together (fewer villages than
            townships, fewer people than settlements).
    """
    region = region_preset(cfg.region)
    n_t, n_v, pop = _resolved_counts(cfg)
    terrain = terrain_factor(cfg.region, cfg.terrain_speed_factor)
    speeds = road_speeds(cfg, terrain)
    rng = np.random.default_rng(cfg.map_seed)

    # Hexagonal lattice spacing with one site per village's area: A = sqrt(3)/2 s^2.
    spacing = math.sqrt(2.0 * region.area_per_village_km2 / math.sqrt(3.0))
    xy, township = _layout(rng, n_t, n_v, spacing, region)
    population = _populations(rng, pop, n_t, n_v, region)
    graph = _roads(rng, xy, township, n_t, spacing, region, cfg, speeds)
    if not nx.is_connected(graph):  # by construction; a failure here is a bug, not bad input
        raise RuntimeError("generated road graph is not connected")

    kind, ids, names = _labels(n_t, n_v)
    lon, lat = xy_to_lonlat(xy[:, 0], xy[:, 1], region.lon, region.lat)
    return CountyMap(
        ids=ids,
        names=names,
        kind=kind,
        x_km=xy[:, 0].copy(),
        y_km=xy[:, 1].copy(),
        lon=lon,
        lat=lat,
        population=population,
        township=township,
        graph=graph,
        region=cfg.region,
        terrain_speed_factor=terrain,
    )


def _layout(
    rng: np.random.Generator, n_t: int, n_v: int, spacing: float, region: RegionPreset
) -> tuple[np.ndarray, np.ndarray]:
    """Settlement positions (km, county town at the origin, then seats, then villages by
    township and distance from their seat) and each settlement's township (steps 1-3)."""
    n = 1 + n_t + n_v
    sites = _sites(rng, n, spacing, region.shape_irregularity)
    town = int(np.argmin(np.hypot(sites[:, 0], sites[:, 1])))
    seats = _seats(rng, sites, town, n_t)
    rest = np.setdiff1d(np.arange(n), np.concatenate([[town], seats]))
    xy = np.vstack([sites[town][None, :], sites[seats], sites[rest]])
    xy -= xy[0]  # county town at the origin

    label = _assign_villages(xy, n_t)
    # Order villages by township, then by distance from their seat, so ids read naturally.
    seat_d = np.hypot(*(xy[n_t + 1 :] - xy[label]).T)
    order = np.lexsort((seat_d, label))
    xy = np.vstack([xy[: n_t + 1], xy[n_t + 1 :][order]])
    township = np.concatenate([np.arange(n_t + 1), label[order]]).astype(np.int64)
    return xy, township


def _labels(n_t: int, n_v: int) -> tuple[np.ndarray, list[str], list[str]]:
    """Kinds, ids (``C0``, ``T01``.., ``V0001``..) and names of the settlements in node order."""
    kind = np.array(
        [SettlementKind.COUNTY_TOWN] + [SettlementKind.TOWNSHIP] * n_t + [SettlementKind.VILLAGE] * n_v, dtype=np.int8
    )
    t_width = max(2, len(str(n_t)))
    v_width = max(4, len(str(n_v)))
    ids = ["C0"] + [f"T{k:0{t_width}d}" for k in range(1, n_t + 1)] + [f"V{k:0{v_width}d}" for k in range(1, n_v + 1)]
    names = ["County Town"] + [f"Township {k}" for k in range(1, n_t + 1)] + [f"Village {k}" for k in range(1, n_v + 1)]
    return kind, ids, names
