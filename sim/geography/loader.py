"""Counties from real data: a settlements file and an optional roads file.

Settlements. A CSV with a header row and the columns ``id, kind, lon, lat, population``
(required; ``lon, lat`` in WGS84 degrees), ``name`` and ``township`` (optional), in any
order, extra columns ignored; or a Point layer of any vector format GDAL/OGR reads
(GeoPackage, Shapefile, GeoJSON, FlatGeobuf, ...) carrying the same names as attributes,
read by :mod:`sim.geography.gis` through geopandas/pyogrio and reprojected from the CRS
the file declares (or ``map.crs``) to WGS84 lon/lat. A file is read as CSV when its
suffix is ``.csv`` or ``.txt`` or it has none, else through GDAL/OGR. ``kind`` is one of
``county_town``, ``township``, ``village`` (case and spaces/hyphens are forgiven):
exactly one county town and at least one township are required. ``township``, when given
for a village, must be the id of a township; villages without one are assigned to the
township nearest by road distance. ``township`` is ignored on non-village rows (the
county town and townships belong to themselves). A missing ``name`` defaults to the id.

Roads. A CSV with ``from, to`` (settlement ids) and optional ``length_km`` (else the
great-circle distance times ``map.detour_factor``) and ``road_class`` (``county_road``,
``township_road``, ``village_road``; else inferred from the kinds of the two ends: county
town-township is a county road, township-township a township road, anything touching a
village a village road). Roads are two-way; a pair listed twice keeps the faster road.
Or a GIS layer of road lines, or an OpenStreetMap road graph in GraphML (``.graphml``):
both are joined to the settlements by :mod:`sim.geography.networks`. Every settlement
must be reachable from the county town.

Without a roads file roads are inferred: each settlement is linked to its
``INFERRED_NEIGHBOURS`` nearest neighbours, and the minimum spanning tree of the
complete distance graph is added, which guarantees that the inferred network is
connected. On top, the county town and the townships are joined as in the generator
(their Gabriel graph; links on the shortest-path tree from the county town are county
roads, the others township roads): without this trunk nearly every inferred link would
touch a village and be a slow village road, overstating travel times to the county town.
Lengths are great-circle distances times ``map.detour_factor``; classes follow the kinds
of the ends as for a roads file.

Every problem raises :class:`MapError` naming the file and the row (``row 12`` is the
12th line after the header; GIS layers use ``feature 12``, the 12th feature in file
order), the column or the layer, and saying what is allowed. Whatever the input format,
coordinates reach this module as WGS84 lon/lat (one canonical path, so a county gives the
same map in any CRS) and are projected to km with a local equirectangular projection
around the settlements' centroid, accurate to well under 1% at county scale.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree

from sim.config import MapConfig
from sim.errors import MapError
from sim.geography.county_map import KIND_NAMES, ROAD_CLASSES, CountyMap, SettlementKind
from sim.geography.generator import (
    add_road,
    gabriel_edges,
    lonlat_to_xy,
    road_speeds,
    trunk_classes,
)
from sim.geography.gis import read_layer, settlement_columns
from sim.geography.networks import check_connected, class_from_kinds, haversine_km, roads_from_lines, roads_from_osm
from sim.geography.presets import terrain_factor

#: Nearest neighbours each settlement is linked to when roads are inferred (assumption:
#: three gives a sparse but meshed network, close to the degree of rural road graphs).
INFERRED_NEIGHBOURS = 3

#: A settlement farther than this from the median position is taken as a coordinate
#: error (assumption: even China's largest county-level units are under ~600 km across).
MAX_SPREAD_KM = 1000.0

REQUIRED_SETTLEMENT_COLUMNS = ("id", "kind", "lon", "lat", "population")
OPTIONAL_SETTLEMENT_COLUMNS = ("name", "township")
REQUIRED_ROAD_COLUMNS = ("from", "to")
OPTIONAL_ROAD_COLUMNS = ("length_km", "road_class")
#: Suffixes read as CSV; anything else goes through GDAL/OGR (a file named without a
#: suffix was read as CSV before GIS formats were added, and still is).
_CSV_SUFFIXES = (".csv", ".txt", "")
#: Suffixes of roads files read as an OpenStreetMap road graph.
GRAPHML_SUFFIXES = (".graphml",)
_MAX_LISTED = 5  # how many offending ids an error message lists before "and N more"


@dataclass
class _Table:
    """Rows read from a file: column -> raw values, plus a label per row for messages."""

    source: str
    columns: dict[str, list[Any]]
    labels: list[str]


# ---------------------------------------------------------------------------
# reading files


def _read_text(path: Path) -> str:
    """The file's text, or a MapError for a missing, unreadable, empty or non-UTF-8 file."""
    if not path.exists():
        raise MapError("file not found", source=path)
    if path.is_dir():
        raise MapError("is a directory; a file is expected", source=path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MapError(f"cannot be read ({exc.strerror})", source=path) from None
    try:
        text = data.decode("utf-8-sig")  # tolerate the byte-order mark spreadsheet programs write
    except UnicodeDecodeError as exc:
        raise MapError(
            f"is not UTF-8 text (invalid byte at position {exc.start}); save it with UTF-8 encoding",
            source=path,
            location=f"byte {exc.start}",
        ) from None
    if not text.strip():
        raise MapError("is empty", source=path)
    return text


def _read_csv(path: Path, text: str, required: tuple[str, ...], optional: tuple[str, ...]) -> _Table:
    """Parse CSV text into a table of stripped strings, checking the header."""
    src = str(path)
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
        if m:
            raise MapError(
                f"is not valid CSV: this line has {m.group(3)} fields but the header has {m.group(1)} "
                "(a value containing a comma must be in double quotes)",
                source=src,
                location=f"line {m.group(2)}",
            ) from None
        raise MapError(f"is not valid CSV: {detail.replace('C error: ', '')}", source=src) from None
    except (pd.errors.EmptyDataError, ValueError) as exc:
        raise MapError(f"is not valid CSV: {exc}", source=src) from None
    frame = frame.fillna("")
    header = [str(h).strip().lower() for h in frame.iloc[0]]
    body = frame.iloc[1:]
    seen: dict[str, int] = {}
    for pos, name in enumerate(header, start=1):
        if name and name in seen:
            raise MapError(
                f"column '{name}' appears twice in the header (columns {seen[name]} and {pos})",
                source=src,
                location=f"column {name}",
            )
        seen[name] = pos
    missing = [c for c in required if c not in seen]
    if missing:
        found = ", ".join(h for h in header if h) or "none"
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
            hint = " The file seems to use another separator; it must be comma-separated."
        raise MapError(
            f"missing required column(s): {', '.join(missing)}; found: {found}. Required: {', '.join(required)}; "
            f"optional: {', '.join(optional)}.{hint}",
            source=src,
            location="header",
        )
    # Row n is the n-th line after the header; blank lines are skipped but still counted.
    cells = body.astype(str).apply(lambda c: c.str.strip())
    keep = np.flatnonzero((cells != "").any(axis=1).to_numpy()).tolist()
    if not keep:
        raise MapError("has a header but no data rows", source=src)
    cols = {name: cells.iloc[keep, seen[name] - 1].tolist() for name in (*required, *optional) if name in seen}
    return _Table(src, cols, [f"row {i + 1}" for i in keep])


def _is_csv(path: Path) -> bool:
    return path.suffix.lower() in _CSV_SUFFIXES


# ---------------------------------------------------------------------------
# field parsing


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _number(table: _Table, column: str, i: int) -> float:
    """A finite number from a cell, or a MapError naming the row and column."""
    raw = table.columns[column][i]
    text = _text(raw)
    if text == "":
        raise MapError(f"{column} is missing", source=table.source, location=table.labels[i])
    if isinstance(raw, bool):
        raise MapError(f"{column} must be a number (got {raw!r})", source=table.source, location=table.labels[i])
    try:
        value = float(raw) if isinstance(raw, int | float) else float(text)
    except ValueError:
        raise MapError(
            f"{column} must be a number (got {text!r})", source=table.source, location=table.labels[i]
        ) from None
    if not math.isfinite(value):
        raise MapError(
            f"{column} must be a finite number (got {text!r})", source=table.source, location=table.labels[i]
        )
    return value


def _kind(table: _Table, i: int) -> SettlementKind:
    text = _text(table.columns["kind"][i]).lower().replace(" ", "_").replace("-", "_")
    if text not in KIND_NAMES:
        shown = _text(table.columns["kind"][i])
        raise MapError(
            f"unknown kind {shown!r}; allowed: {', '.join(KIND_NAMES)}", source=table.source, location=table.labels[i]
        )
    return SettlementKind[text.upper()]


@dataclass
class _Settlements:
    ids: list[str]
    names: list[str]
    kind: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    population: np.ndarray
    township_ref: list[str]
    labels: list[str]


def _parse_settlements(table: _Table) -> _Settlements:
    """Validate every row of a settlements table, then the kinds and township references
    across rows (the first problem found raises, in file order)."""
    ids, names, kinds, lons, lats, pops, refs = [], [], [], [], [], [], []
    first_row: dict[str, int] = {}
    for i in range(len(table.labels)):
        sid, name, kind, lon, lat, pop, ref = _parse_row(table, i, first_row)
        first_row[sid] = i
        ids.append(sid)
        names.append(name)
        kinds.append(kind)
        lons.append(lon)
        lats.append(lat)
        pops.append(pop)
        refs.append(ref)
    kind = np.asarray(kinds, dtype=np.int8)
    _check_kinds(table, kind)
    _check_township_refs(table, ids, kind, refs, first_row)
    return _Settlements(
        ids, names, kind, np.asarray(lons), np.asarray(lats), np.asarray(pops, dtype=np.int64), refs, table.labels
    )


def _parse_row(
    table: _Table, i: int, first_row: dict[str, int]
) -> tuple[str, str, SettlementKind, float, float, int, str]:
    """Row ``i``'s id (unique among ``first_row``, the ids seen so far), name (the id when
    missing), kind, lon, lat, population and township reference, each checked."""
    src = table.source
    loc = table.labels[i]
    sid = _text(table.columns["id"][i])
    if not sid:
        raise MapError("id is missing; every settlement needs a unique id", source=src, location=loc)
    if sid in first_row:
        raise MapError(
            f"duplicate id {sid!r} (also in {table.labels[first_row[sid]]}); ids must be unique",
            source=src,
            location=loc,
        )
    kind = _kind(table, i)
    lon, lat = _number(table, "lon", i), _number(table, "lat", i)
    if not -180.0 <= lon <= 180.0:
        raise MapError(f"lon must be between -180 and 180 degrees (got {lon:g})", source=src, location=loc)
    if not -90.0 <= lat <= 90.0:
        raise MapError(f"lat must be between -90 and 90 degrees (got {lat:g})", source=src, location=loc)
    pop = _number(table, "population", i)
    if pop <= 0:
        raise MapError(f"population must be a positive whole number (got {pop:g})", source=src, location=loc)
    if pop != round(pop):
        raise MapError(f"population must be a whole number of persons (got {pop:g})", source=src, location=loc)
    name = _text(table.columns["name"][i]) if "name" in table.columns else ""
    ref = _text(table.columns["township"][i]) if "township" in table.columns else ""
    return sid, name or sid, kind, lon, lat, round(pop), ref


def _check_kinds(table: _Table, kind: np.ndarray) -> None:
    """Exactly one county town and at least one township."""
    src = table.source
    towns = np.flatnonzero(kind == SettlementKind.COUNTY_TOWN)
    if len(towns) == 0:
        raise MapError(
            "no settlement has kind county_town; exactly one is required", source=src, location="column kind"
        )
    if len(towns) > 1:
        rows = ", ".join(table.labels[t] for t in towns[:_MAX_LISTED])
        raise MapError(
            f"{len(towns)} settlements have kind county_town ({rows}); exactly one is required",
            source=src,
            location=table.labels[towns[1]],
        )
    if not np.any(kind == SettlementKind.TOWNSHIP):
        raise MapError("no settlement has kind township; at least one is required", source=src, location="column kind")


def _check_township_refs(
    table: _Table, ids: list[str], kind: np.ndarray, refs: list[str], first_row: dict[str, int]
) -> None:
    """A village's township, when given, is the id of a township in the file."""
    for i, ref in enumerate(refs):
        if kind[i] != SettlementKind.VILLAGE or not ref:
            continue
        if ref not in first_row:
            raise MapError(
                f"township {ref!r} of village {ids[i]!r} is not an id in this file",
                source=table.source,
                location=table.labels[i],
            )
        k = kind[first_row[ref]]
        if k != SettlementKind.TOWNSHIP:
            raise MapError(
                f"township {ref!r} of village {ids[i]!r} is a {SettlementKind(k).label}, not a township",
                source=table.source,
                location=table.labels[i],
            )


def _reorder(s: _Settlements) -> _Settlements:
    """County town first, then townships, then villages, each in file order."""
    order = np.argsort(s.kind, kind="stable")
    pick = [int(i) for i in order]
    return _Settlements(
        [s.ids[i] for i in pick],
        [s.names[i] for i in pick],
        s.kind[order],
        s.lon[order],
        s.lat[order],
        s.population[order],
        [s.township_ref[i] for i in pick],
        [s.labels[i] for i in pick],
    )


# ---------------------------------------------------------------------------
# roads


def _roads_from_file(
    path: Path, s: _Settlements, cfg: MapConfig, speeds: dict[str, float], settlements_src: str
) -> nx.Graph:
    table = _read_csv(path, _read_text(path), REQUIRED_ROAD_COLUMNS, OPTIONAL_ROAD_COLUMNS)
    src = table.source
    index = {sid: k for k, sid in enumerate(s.ids)}
    g = nx.Graph()
    g.add_nodes_from(range(len(s.ids)))
    for i, loc in enumerate(table.labels):
        ends = []
        for col in ("from", "to"):
            sid = _text(table.columns[col][i])
            if not sid:
                raise MapError(f"'{col}' is missing", source=src, location=loc)
            if sid not in index:
                raise MapError(
                    f"unknown settlement id {sid!r} in column '{col}'; ids must appear in {settlements_src}",
                    source=src,
                    location=loc,
                )
            ends.append(index[sid])
        u, v = ends
        if u == v:
            raise MapError(
                f"road from {s.ids[u]!r} to itself; a road must join two settlements", source=src, location=loc
            )
        if "length_km" in table.columns and _text(table.columns["length_km"][i]):
            length = _number(table, "length_km", i)
            if length <= 0:
                raise MapError(f"length_km must be positive (got {length:g})", source=src, location=loc)
        else:
            length = float(haversine_km(s.lon[u], s.lat[u], s.lon[v], s.lat[v])) * cfg.detour_factor
        cls = _text(table.columns["road_class"][i]).lower() if "road_class" in table.columns else ""
        if not cls:
            cls = class_from_kinds(int(s.kind[u]), int(s.kind[v]))
        elif cls not in ROAD_CLASSES:
            raise MapError(
                f"unknown road_class {cls!r}; allowed: {', '.join(ROAD_CLASSES)} (or leave it empty to infer it)",
                source=src,
                location=loc,
            )
        add_road(g, u, v, length, cls, speeds)
    check_connected(g, s.ids, src)
    return g


def _infer_roads(s: _Settlements, xy: np.ndarray, cfg: MapConfig, speeds: dict[str, float]) -> nx.Graph:
    """Trunk between hubs, k-nearest-neighbour links and the minimum spanning tree (connected)."""
    n = len(s.ids)
    d = haversine_km(s.lon[:, None], s.lat[:, None], s.lon[None, :], s.lat[None, :])
    # Coincident settlements would give zero weights, which sparse graph code reads as "no edge".
    off = ~np.eye(n, dtype=bool)
    d[off] = np.maximum(d[off], 1e-6)
    pairs: set[tuple[int, int]] = set()
    k = min(INFERRED_NEIGHBOURS, n - 1)
    if k > 0:
        nearest = np.argsort(np.where(off, d, np.inf), axis=1, kind="stable")[:, :k]
        for i in range(n):
            for j in nearest[i]:
                pairs.add((min(i, int(j)), max(i, int(j))))
    mst = minimum_spanning_tree(csr_matrix(np.where(off, d, 0.0))).tocoo()
    for i, j in zip(mst.row, mst.col, strict=True):
        pairs.add((min(int(i), int(j)), max(int(i), int(j))))
    g = nx.Graph()
    g.add_nodes_from(range(n))
    # Trunk as in the generator: hubs (county town + townships, nodes 0..m-1 after reordering)
    # joined along their Gabriel graph by county and township roads, so that inferred
    # networks are not all slow village roads.
    m = int(np.sum(s.kind != SettlementKind.VILLAGE))
    trunk = gabriel_edges(xy[:m])
    lengths = np.array([d[u, v] * cfg.detour_factor for u, v in trunk])
    for (u, v), length, cls in zip(trunk, lengths, trunk_classes(trunk, lengths, m), strict=True):
        add_road(g, int(u), int(v), float(length), cls, speeds)
    for i, j in sorted(pairs):
        add_road(g, i, j, float(d[i, j]) * cfg.detour_factor, class_from_kinds(int(s.kind[i]), int(s.kind[j])), speeds)
    return g


def _townships(s: _Settlements, g: nx.Graph) -> np.ndarray:
    """Each node's township: given, else the township nearest by road distance."""
    n = len(s.ids)
    index = {sid: k for k, sid in enumerate(s.ids)}
    township = np.arange(n, dtype=np.int64)  # county town and townships belong to themselves
    seats = np.flatnonzero(s.kind == SettlementKind.TOWNSHIP)
    todo = [i for i in range(n) if s.kind[i] == SettlementKind.VILLAGE and not s.township_ref[i]]
    for i in range(n):
        if s.kind[i] == SettlementKind.VILLAGE and s.township_ref[i]:
            township[i] = index[s.township_ref[i]]
    if todo:
        rows, cols, w = [], [], []
        for u, v, data in g.edges(data=True):
            rows.append(u)
            cols.append(v)
            w.append(data["length_km"])
        km = dijkstra(csr_matrix((w, (rows, cols)), shape=(n, n)), directed=False, indices=seats)
        township[todo] = seats[np.argmin(km[:, todo], axis=0)]
    return township


# ---------------------------------------------------------------------------
# entry point


def _read_settlements(path: Path, cfg: MapConfig) -> _Table:
    """The settlements table of a CSV, or of a GIS file's Point layer (in WGS84 lon/lat)."""
    if _is_csv(path):
        return _read_csv(path, _read_text(path), REQUIRED_SETTLEMENT_COLUMNS, OPTIONAL_SETTLEMENT_COLUMNS)
    frame, _ = read_layer(path, cfg.settlements_layer, cfg.crs, "Point", "map.settlements_layer")
    columns, labels = settlement_columns(frame, path)
    return _Table(str(path), columns, labels)


def _read_roads(
    path: Path, s: _Settlements, cfg: MapConfig, speeds: dict[str, float], settlements_src: str
) -> nx.Graph:
    """The road graph of a roads CSV, an OpenStreetMap GraphML file or a GIS layer of lines."""
    if _is_csv(path):
        return _roads_from_file(path, s, cfg, speeds, settlements_src)
    if path.suffix.lower() in GRAPHML_SUFFIXES:
        return roads_from_osm(path, s.ids, s.kind, s.lon, s.lat, cfg, speeds)
    return roads_from_lines(path, s.ids, s.kind, s.lon, s.lat, cfg, speeds)


def load_map(cfg: MapConfig, settlements_path: Path, roads_path: Path | None = None) -> CountyMap:
    """Load a county from a settlements file and an optional roads file.

    Args:
        cfg: Map section: region (for the terrain factor and default store coverage),
            ``terrain_speed_factor`` override, ``detour_factor`` and road speeds.
        settlements_path: Settlements: a CSV (``.csv``/``.txt``, or no suffix), or any
            vector file GDAL/OGR reads (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, ...)
            with Point features; ``map.settlements_layer`` and ``map.crs`` apply to it.
        roads_path: Roads: a CSV of road edges, a GIS layer of road lines
            (``map.roads_layer``), or an OpenStreetMap road graph in GraphML
            (``.graphml``); None to infer roads from the settlements.

    Returns:
        The county with the county town as node 0, then townships, then villages (each in
        file order), and a connected road graph.

    Raises:
        MapError: Any problem with either file; the message names the file, the row or
            column, and what is allowed.
    """
    spath = Path(settlements_path)
    table = _read_settlements(spath, cfg)
    s = _reorder(_parse_settlements(table))

    # Coordinates far from all others are typos (swapped lon/lat, a dropped digit).
    far = haversine_km(s.lon, s.lat, np.median(s.lon), np.median(s.lat))
    worst = int(np.argmax(far))
    if far[worst] > MAX_SPREAD_KM:
        raise MapError(
            f"settlement {s.ids[worst]!r} lies {far[worst]:.0f} km from the middle of the others; a county is far "
            "smaller, so its lon/lat are probably wrong (swapped, or a typo)",
            source=table.source,
            location=s.labels[worst],
        )

    terrain = terrain_factor(cfg.region, cfg.terrain_speed_factor)
    speeds = road_speeds(cfg, terrain)
    x, y = lonlat_to_xy(s.lon, s.lat, float(s.lon.mean()), float(s.lat.mean()))
    if roads_path is None:
        graph = _infer_roads(s, np.column_stack([x, y]), cfg, speeds)
    else:
        graph = _read_roads(Path(roads_path), s, cfg, speeds, spath.name)
    township = _townships(s, graph)
    return CountyMap(
        ids=s.ids,
        names=s.names,
        kind=s.kind,
        x_km=x,
        y_km=y,
        lon=s.lon.astype(float),
        lat=s.lat.astype(float),
        population=s.population,
        township=township,
        graph=graph,
        region=cfg.region,
        terrain_speed_factor=terrain,
    )
