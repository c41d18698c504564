"""Map files through geopandas/pyogrio: GIS formats, CRS handling, road lines and OSM graphs.

Every file is made here from the shipped example county (configs/data), so nothing is
downloaded: a GeoPackage in CGCS2000 / 3-degree Gauss-Kruger CM 114E (EPSG:4547) with a
settlements and a roads layer, the same county as GeoJSON in EPSG:4326, a Shapefile, a
FlatGeobuf without a CRS, and an OpenStreetMap road graph in the GraphML form
``osmnx.save_graphml`` writes (every attribute a string, graph attribute ``crs``).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import LineString, MultiLineString

from sim.config import MapConfig
from sim.errors import InputError, MapError
from sim.geography import CountyMap, load_map, source_files
from sim.geography.networks import haversine_km, highway_class
from tests.helpers import tiny

DATA = Path(__file__).resolve().parents[2] / "configs" / "data"
EXAMPLE_CSV = DATA / "example_county_settlements.csv"
EXAMPLE_ROADS = DATA / "example_county_roads.csv"
GK114 = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E: the example county's zone

#: OSM highway tags that map back to each model class (sim.geography.networks.OSM_HIGHWAY_CLASSES).
TAG = {"county_road": "secondary", "township_road": "tertiary", "village_road": "residential"}


def cfg(**fields: object) -> MapConfig:
    roads = {"roads_file": Path("unused")} if "roads_layer" in fields else {}
    return MapConfig(source="file", settlements_file=Path("unused"), **roads, **fields)


@pytest.fixture(scope="module")
def csv_map() -> CountyMap:
    """The example county from its CSV files: the map every GIS form must reproduce."""
    return load_map(cfg(), EXAMPLE_CSV, EXAMPLE_ROADS)


@pytest.fixture(scope="module")
def layers(csv_map: CountyMap) -> tuple:
    """Settlements (Points) and roads (lines with the CSV map's lengths and classes), in EPSG:4326."""
    table = pd.read_csv(EXAMPLE_CSV, dtype=str, keep_default_na=False)
    settlements = gpd.GeoDataFrame(
        table.drop(columns=["lon", "lat"]).assign(population=table.population.astype(int)),
        geometry=gpd.points_from_xy(table.lon.astype(float), table.lat.astype(float)),
        crs="EPSG:4326",
    )
    m = csv_map
    rows = []
    for u, v, d in m.graph.edges(data=True):
        # A bend halfway, as real roads have, so that reprojection moves more than the ends.
        mid = ((m.lon[u] + m.lon[v]) / 2 + 0.003, (m.lat[u] + m.lat[v]) / 2)
        line = LineString([(m.lon[u], m.lat[u]), mid, (m.lon[v], m.lat[v])])
        rows.append({"length_km": d["length_km"], "road_class": d["road_class"], "geometry": line})
    roads = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    return settlements, roads


@pytest.fixture(scope="module")
def gpkg(layers: tuple, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example county as one GeoPackage in EPSG:4547, layers 'settlements' and 'roads'."""
    path = tmp_path_factory.mktemp("gpkg") / "county.gpkg"
    settlements, roads = layers
    settlements.to_crs(GK114).to_file(path, layer="settlements", driver="GPKG")
    roads.to_crs(GK114).to_file(path, layer="roads", driver="GPKG")
    return path


def same_map(a: CountyMap, b: CountyMap, rel: float = 1e-6) -> None:
    """Same settlements, townships and road graph; coordinates and times equal within ``rel``."""
    assert a.ids == b.ids and a.names == b.names
    for name in ("kind", "population", "township"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.allclose(a.lon, b.lon, rtol=0, atol=1e-9) and np.allclose(a.lat, b.lat, rtol=0, atol=1e-9)
    assert {tuple(sorted(e)) for e in a.graph.edges} == {tuple(sorted(e)) for e in b.graph.edges}
    for u, v, d in a.graph.edges(data=True):
        assert b.graph.edges[u, v]["road_class"] == d["road_class"]
        assert b.graph.edges[u, v]["length_km"] == pytest.approx(d["length_km"], rel=rel)
    assert np.allclose(a.travel_min, b.travel_min, rtol=rel, atol=0)
    assert np.allclose(a.travel_km, b.travel_km, rtol=rel, atol=0)
    assert np.allclose(a.x_km, b.x_km, rtol=0, atol=1e-6) and np.allclose(a.y_km, b.y_km, rtol=0, atol=1e-6)


# ---------------------------------------------------------------------------
# formats and CRS


def test_geopackage_in_gauss_kruger_gives_the_geojson_and_csv_map(
    gpkg: Path, layers: tuple, csv_map: CountyMap, tmp_path: Path
) -> None:
    settlements, roads = layers
    settlements.to_file(tmp_path / "s.geojson", driver="GeoJSON")
    roads.to_file(tmp_path / "r.geojson", driver="GeoJSON")
    from_gpkg = load_map(cfg(settlements_layer="settlements", roads_layer="roads"), gpkg, gpkg)
    from_geojson = load_map(cfg(), tmp_path / "s.geojson", tmp_path / "r.geojson")
    same_map(from_gpkg, from_geojson)
    same_map(from_gpkg, csv_map)
    # The file really holds metres (false easting 500 km on 114E), not degrees.
    xy = gpd.read_file(gpkg, layer="settlements").geometry
    assert xy.x.min() > 300_000 and xy.x.max() < 500_000 and xy.y.min() > 3_000_000


@pytest.mark.parametrize(("suffix", "driver"), [(".shp", "ESRI Shapefile"), (".fgb", "FlatGeobuf")])
def test_shapefile_and_flatgeobuf_load(layers: tuple, csv_map: CountyMap, tmp_path: Path, suffix, driver) -> None:
    settlements, _ = layers
    path = tmp_path / f"s{suffix}"
    # Without its spatial index a FlatGeobuf keeps the features in the order written (with
    # one, they are stored in spatial order, and node order follows the file).
    options = {"SPATIAL_INDEX": "NO"} if driver == "FlatGeobuf" else {}
    settlements.to_crs(GK114).to_file(path, driver=driver, **options)
    same_map(load_map(cfg(), path, EXAMPLE_ROADS), csv_map)


def test_a_shapefile_is_all_its_parts(layers: tuple, tmp_path: Path) -> None:
    """Provenance hashes and map caches see a Shapefile's sidecars: editing the .dbf
    (the attributes) or the .prj (the CRS) must change the map's identity."""
    path = tmp_path / "s.shp"
    layers[0].to_crs(GK114).to_file(path, driver="ESRI Shapefile")
    (tmp_path / "other.dbf").write_bytes(b"not part of it")
    parts = source_files(path)
    assert {p.suffix for p in parts} >= {".shp", ".shx", ".dbf", ".prj"}
    assert all(p.stem == "s" for p in parts)
    assert source_files(tmp_path / "absent.shp") == []
    assert source_files(EXAMPLE_ROADS) == [EXAMPLE_ROADS]


def test_a_file_without_crs_needs_map_crs(layers: tuple, csv_map: CountyMap, tmp_path: Path) -> None:
    path = tmp_path / "nocrs.fgb"
    with pytest.warns(UserWarning, match="crs"):  # geopandas warns that the file will have no CRS: the point
        layers[0].to_crs(GK114).set_crs(None, allow_override=True).to_file(
            path, driver="FlatGeobuf", SPATIAL_INDEX="NO"
        )
    with pytest.raises(MapError, match=r"declares no coordinate reference system.*map\.crs") as err:
        load_map(cfg(), path, EXAMPLE_ROADS)
    assert "nocrs.fgb" in str(err.value) and err.value.location == "layer nocrs"
    same_map(load_map(cfg(crs=GK114), path, EXAMPLE_ROADS), csv_map)


def test_map_crs_that_contradicts_the_file_is_an_error(gpkg: Path) -> None:
    with pytest.raises(MapError, match=r"declares CRS 'EPSG:4547' but map.crs is 'EPSG:4326'"):
        load_map(cfg(crs="EPSG:4326", settlements_layer="settlements"), gpkg)
    # Naming the file's own CRS is harmless.
    assert load_map(cfg(crs="EPSG:4547", settlements_layer="settlements"), gpkg).n == 30


def test_unknown_map_crs_is_a_scenario_error() -> None:
    with pytest.raises(InputError, match=r"map.crs.*unknown CRS 'EPSG:999999'"):
        tiny(**{"map.crs": "EPSG:999999"})
    with pytest.raises(InputError, match=r"map\.roads_layer"):
        tiny(**{"map.source": "file", "map.settlements_file": "x.gpkg", "map.roads_layer": "roads"})


def test_a_few_weeks_run_on_the_geopackage_county(gpkg: Path) -> None:
    from sim import CountyModel

    scenario = tiny(
        **{
            "map.source": "file",
            "map.settlements_file": str(gpkg),
            "map.settlements_layer": "settlements",
            "map.roads_file": str(gpkg),
            "map.roads_layer": "roads",
            "timeline.end": "2023-08-05",
        }
    )
    result = CountyModel(scenario, seed=3).run()
    weekly = result.timeseries
    assert len(weekly) >= 4 and result.facts is not None
    assert np.isfinite(weekly.select_dtypes("number").to_numpy()).all()


# ---------------------------------------------------------------------------
# road lines


def test_line_length_class_and_snapping(csv_map: CountyMap, tmp_path: Path) -> None:
    m = csv_map
    i, j, k = 0, m.ids.index("QX01"), m.ids.index("QX05")
    # Ends 300 m off the settlements (within the default 1 km tolerance); a bend on the way.
    off = 300 / 111_000
    bend = (m.lon[i] + 0.02, m.lat[i] + 0.01)
    pts = [(m.lon[i] + off, m.lat[i]), bend, (m.lon[j], m.lat[j] - off)]
    lines = gpd.GeoDataFrame(
        {"highway": ["primary", None], "road_class": [None, "township_road"]},
        geometry=[LineString(pts), MultiLineString([[(m.lon[j], m.lat[j]), (m.lon[k], m.lat[k])]])],
        crs="EPSG:4326",
    )
    # Every other settlement hangs on the county town by a plain line, so the map is connected.
    rest = [LineString([(m.lon[0], m.lat[0]), (m.lon[n], m.lat[n])]) for n in range(1, m.n) if n not in (j, k)]
    lines = pd.concat([lines, gpd.GeoDataFrame(geometry=rest, crs="EPSG:4326")], ignore_index=True)
    lines.to_file(tmp_path / "r.gpkg", driver="GPKG")
    got = load_map(cfg(), EXAMPLE_CSV, tmp_path / "r.gpkg")
    p = np.array(pts)
    assert got.graph.edges[i, j]["length_km"] == pytest.approx(
        haversine_km(p[:-1, 0], p[:-1, 1], p[1:, 0], p[1:, 1]).sum()
    )
    assert got.graph.edges[i, j]["road_class"] == "county_road"  # from highway=primary
    assert got.graph.edges[j, k]["road_class"] == "township_road"  # road_class wins over the kinds
    n = m.ids.index("QX02")
    assert got.graph.edges[0, n]["road_class"] == "county_road"  # county town-township, from the kinds
    assert got.graph.edges[0, n]["length_km"] == pytest.approx(haversine_km(m.lon[0], m.lat[0], m.lon[n], m.lat[n]))


def test_highway_tags_map_to_model_classes() -> None:
    assert highway_class("trunk") == highway_class("secondary_link") == "county_road"
    assert highway_class("tertiary") == highway_class("unclassified") == "township_road"
    assert highway_class("track") == highway_class("residential") == "village_road"
    assert highway_class("['residential', 'tertiary']") == "township_road"  # the fastest of a simplified edge
    assert highway_class(None) is None and highway_class("") is None


# ---------------------------------------------------------------------------
# OpenStreetMap GraphML


def write_osm_graphml(m: CountyMap, path: Path, crs: str = "EPSG:4326") -> None:
    """The CSV map's roads as an osmnx-style GraphML: each road split at a midpoint node,
    both directions, lengths in metres, highway tags, every attribute a string."""
    from pyproj import Transformer

    to = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    g = nx.MultiDiGraph(crs=crs.lower(), simplified=True)

    def node(key: str, lon: float, lat: float) -> None:
        x, y = to.transform(lon, lat)
        g.add_node(key, x=repr(float(x)), y=repr(float(y)), street_count="2")

    for n in range(m.n):
        node(f"s{n}", m.lon[n], m.lat[n])
    for u, v, d in m.graph.edges(data=True):
        mid = f"m{u}_{v}"
        node(mid, (m.lon[u] + m.lon[v]) / 2, (m.lat[u] + m.lat[v]) / 2)
        half = repr(d["length_km"] * 1000 / 2)
        for a, b in ((f"s{u}", mid), (mid, f"s{v}")):
            for x, y in ((a, b), (b, a)):
                g.add_edge(x, y, osmid="1", highway=TAG[d["road_class"]], oneway="False", length=half)
    g.add_node("stray", x=g.nodes["s0"]["x"], y=g.nodes["s0"]["y"])  # an isolated node changes nothing
    nx.write_graphml(g, path)


@pytest.mark.parametrize("crs", ["EPSG:4326", GK114])
def test_osm_graph_gives_the_csv_travel_times(csv_map: CountyMap, tmp_path: Path, crs: str) -> None:
    path = tmp_path / "roads.graphml"
    write_osm_graphml(csv_map, path, crs)
    got = load_map(cfg(), EXAMPLE_CSV, path)
    assert np.allclose(got.travel_min, csv_map.travel_min, rtol=1e-9, atol=0)
    assert np.array_equal(got.township, csv_map.township)
    # The contracted graph keeps every road no settlement lies on, with its class.
    for u, v, d in got.graph.edges(data=True):
        assert csv_map.graph.has_edge(u, v) and csv_map.graph.edges[u, v]["road_class"] == d["road_class"]


def test_osm_settlements_sharing_a_node_are_joined(csv_map: CountyMap, tmp_path: Path) -> None:
    path = tmp_path / "roads.graphml"
    write_osm_graphml(csv_map, path)
    table = pd.read_csv(EXAMPLE_CSV)
    extra = table[table.id == "QX05"].assign(id="QX99", name="Twin", lon=lambda t: t.lon + 0.002)
    pd.concat([table, extra]).to_csv(tmp_path / "s.csv", index=False)
    got = load_map(cfg(), tmp_path / "s.csv", path)
    twin, k = got.ids.index("QX99"), got.ids.index("QX05")
    assert got.graph.has_edge(k, twin) and got.travel_min[0, twin] > got.travel_min[0, k]


def test_osm_problems_name_the_file(csv_map: CountyMap, tmp_path: Path) -> None:
    path = tmp_path / "bad.graphml"
    write_osm_graphml(csv_map, path)
    with pytest.raises(MapError, match=r"bad\.graphml: nodes: \d+ settlement\(s\) lie farther than"):
        load_map(cfg(), _shifted_csv(tmp_path), path)
    path.write_text("<graphml><node")
    with pytest.raises(MapError, match=r"bad\.graphml: is not a readable GraphML file"):
        load_map(cfg(), EXAMPLE_CSV, path)
    g = nx.Graph(crs="epsg:4326")
    g.add_edge("a", "b", length="10")
    nx.write_graphml(g, path)
    with pytest.raises(MapError, match=r"bad\.graphml: node a: needs numeric x and y"):
        load_map(cfg(), EXAMPLE_CSV, path)
    with pytest.raises(MapError, match="file not found"):
        load_map(cfg(), EXAMPLE_CSV, tmp_path / "none.graphml")


def _shifted_csv(tmp_path: Path) -> Path:
    """The example settlements moved 2 km north of every road node."""
    table = pd.read_csv(EXAMPLE_CSV)
    table["lat"] += 0.02
    table.to_csv(tmp_path / "shifted.csv", index=False)
    return tmp_path / "shifted.csv"


# ---------------------------------------------------------------------------
# bad GIS files: a MapError naming the file and the layer, feature or field


def _bad(tmp_path: Path, case: str, layers: tuple) -> Path:
    """A settlements file with the problem ``case``."""
    settlements, roads = layers
    s = tmp_path / "bad.gpkg"
    if case == "lines for points":
        roads.to_file(s, driver="GPKG", layer="bad")
    elif case == "empty layer":
        settlements.iloc[:0].to_file(s, driver="GPKG", layer="bad")
    elif case == "no geometry":
        pyogrio.write_dataframe(pd.DataFrame(settlements.drop(columns="geometry")), s, layer="bad", driver="GPKG")
    elif case == "unreadable":
        s.write_text("this is not a GeoPackage\n")
    elif case == "two layers":
        settlements.to_file(s, layer="a", driver="GPKG")
        settlements.to_file(s, layer="b", driver="GPKG")
    elif case == "missing attribute":
        settlements.drop(columns="population").to_file(s, driver="GPKG", layer="bad")
    elif case == "mixed geometry":
        mixed = settlements.copy()
        mixed.loc[3, "geometry"] = LineString([(112.5, 27.5), (112.6, 27.6)])
        s = tmp_path / "bad.geojson"
        mixed.to_file(s, driver="GeoJSON")
    return s


BAD_GIS = [
    ("lines for points", "layer bad", "holds LineString geometries; its features must be Points"),
    ("empty layer", "layer bad", "has no features"),
    ("no geometry", "layer bad", "has no geometry column"),
    ("unreadable", None, "cannot be read as GIS data"),
    ("two layers", "layers", "name the one to use in map.settlements_layer"),
    ("missing attribute", "attributes", "missing required attribute(s): population"),
    ("mixed geometry", "feature 4", "geometry must be a Point (got LineString)"),
]


@pytest.mark.parametrize(("case", "location", "words"), BAD_GIS, ids=[c[0] for c in BAD_GIS])
def test_bad_gis_settlements(tmp_path: Path, layers: tuple, case: str, location: str | None, words: str) -> None:
    s = _bad(tmp_path, case, layers)
    with pytest.raises(MapError) as err:
        load_map(cfg(), s)
    assert s.name in str(err.value) and words in str(err.value)
    assert err.value.location == location
    assert "\n" not in str(err.value)


def test_unknown_layer_and_untransformable_crs(gpkg: Path, layers: tuple, tmp_path: Path) -> None:
    with pytest.raises(MapError, match=r"has no layer 'villages'.*settlements, roads"):
        load_map(cfg(settlements_layer="villages"), gpkg)
    path = tmp_path / "site.shp"
    layers[0].to_crs(GK114).to_file(path)
    path.with_suffix(".prj").write_text('LOCAL_CS["Site grid",LOCAL_DATUM["d",0],UNIT["metre",1]]')
    with pytest.raises(MapError, match=r"site\.shp: layer site: its CRS 'Site grid' cannot be transformed"):
        load_map(cfg(), path)


def test_bad_road_lines(gpkg: Path, layers: tuple, csv_map: CountyMap, tmp_path: Path) -> None:
    m = csv_map
    far = gpd.GeoDataFrame(geometry=[LineString([(m.lon[0], m.lat[0]), (m.lon[0] + 0.1, m.lat[0])])], crs=4326)
    same = gpd.GeoDataFrame(geometry=[LineString([(m.lon[0], m.lat[0]), (m.lon[0] + 0.001, m.lat[0])])], crs=4326)
    split = gpd.GeoDataFrame(
        geometry=[
            MultiLineString(
                [[(m.lon[0], m.lat[0]), (m.lon[1], m.lat[1])], [(m.lon[2], m.lat[2]), (m.lon[3], m.lat[3])]]
            )
        ],
        crs=4326,
    )
    cases = [
        (far, "feature 1", "m from the nearest settlement"),
        (same, "feature 1", "both ends snap to settlement 'QX00'"),
        (split, "feature 1", "geometry must be one line"),
        (layers[1].iloc[:3], "road network", "cannot be reached from the county town"),
        (layers[1].assign(road_class="highway"), "feature 1", "unknown road_class 'highway'"),
        (layers[1].assign(length_km=-1.0), "feature 1", "length_km must be a positive number"),
        (layers[0], "layer r", "holds Point geometries; its features must be lines"),
    ]
    for frame, location, words in cases:
        path = tmp_path / "r.geojson"
        frame.to_file(path, driver="GeoJSON")
        with pytest.raises(MapError) as err:
            load_map(cfg(), EXAMPLE_CSV, path)
        assert "r.geojson" in str(err.value) and words in str(err.value), str(err.value)
        assert err.value.location == location
