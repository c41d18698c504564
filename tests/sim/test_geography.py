"""Tests of county maps: the generator, the file loader and its error messages."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config import MapConfig
from sim.errors import InputError, MapError
from sim.geography import (
    KIND_NAMES,
    ROAD_CLASSES,
    SIZES,
    CountyMap,
    SettlementKind,
    build_map,
    default_store_coverage,
    generate_map,
    load_map,
)

DATA = Path(__file__).resolve().parents[2] / "configs" / "data"
EXAMPLE_CSV = DATA / "example_county_settlements.csv"
EXAMPLE_GEOJSON = DATA / "example_county_settlements.geojson"
EXAMPLE_ROADS = DATA / "example_county_roads.csv"

FILE_CFG = MapConfig(source="file", settlements_file=Path("unused.csv"))


def check_map(m: CountyMap) -> None:
    """Invariants every county map must satisfy, however it was made."""
    n = m.n
    assert m.kind[0] == SettlementKind.COUNTY_TOWN and np.sum(m.kind == SettlementKind.COUNTY_TOWN) == 1
    assert np.all(np.diff(m.kind) >= 0), "node order must be county town, townships, villages"
    assert len(m.ids) == len(set(m.ids)) == len(m.names) == n
    for arr in (m.kind, m.x_km, m.y_km, m.lon, m.lat, m.population, m.township):
        assert arr.shape == (n,)
    assert np.all(m.population >= 1)
    assert sorted(m.graph.nodes) == list(range(n))
    assert nx.is_connected(m.graph)
    for _, _, d in m.graph.edges(data=True):
        assert d["length_km"] > 0 and d["minutes"] > 0 and d["road_class"] in ROAD_CLASSES
    hubs = np.flatnonzero(m.kind != SettlementKind.VILLAGE)
    assert np.array_equal(m.township[hubs], hubs)
    assert np.all(m.kind[m.township[m.villages]] == SettlementKind.TOWNSHIP)
    for mat in (m.travel_min, m.travel_km):
        assert mat.shape == (n, n)
        assert np.all(np.isfinite(mat)) and np.all(mat >= 0)
        assert np.allclose(mat, mat.T)
        assert np.all(np.diag(mat) == 0)


# ---------------------------------------------------------------------------
# generator


def test_generator_is_deterministic_in_map_seed() -> None:
    a = generate_map(MapConfig(size="small", map_seed=7))
    b = generate_map(MapConfig(size="small", map_seed=7))
    c = generate_map(MapConfig(size="small", map_seed=8))
    for name in ("x_km", "y_km", "lon", "lat", "population", "township", "kind", "travel_min", "travel_km"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.ids == b.ids and a.names == b.names
    assert sorted(a.graph.edges(data=True)) == sorted(b.graph.edges(data=True))
    assert not np.array_equal(a.x_km, c.x_km)
    assert not np.array_equal(a.population, c.population)


@pytest.mark.parametrize("size", ["small", "median"])
@pytest.mark.parametrize("region", ["east_plain", "central_hill", "west_mountain", "northeast_plain"])
def test_generated_sizes_match_presets(region: str, size: str) -> None:
    m = generate_map(MapConfig(region=region, size=size, map_seed=3))
    preset = SIZES[size]
    check_map(m)
    assert len(m.townships) == preset.n_townships
    assert len(m.villages) == preset.n_villages
    assert m.total_population == preset.population
    assert m.population.dtype.kind == "i"
    assert np.all(m.population[m.villages] >= 100)
    assert 0.2 < m.population[0] / m.total_population < 0.4  # county town holds a sizeable share
    assert np.all(np.bincount(m.township[m.villages], minlength=m.n)[m.townships] >= 1)
    assert m.ids[0] == "C0" and m.ids[1] == "T01" and m.ids[-1] == f"V{preset.n_villages:04d}"
    assert {d["road_class"] for _, _, d in m.graph.edges(data=True)} == set(ROAD_CLASSES)
    # The county town is near the middle of the county.
    assert np.hypot(m.x_km[0] - m.x_km.mean(), m.y_km[0] - m.y_km.mean()) < 0.25 * np.ptp(m.x_km)


def test_overrides_replace_preset_values() -> None:
    cfg = MapConfig(size="median", n_townships=6, n_villages=50, population=12_345, terrain_speed_factor=0.6)
    m = generate_map(cfg)
    check_map(m)
    assert (len(m.townships), len(m.villages), m.total_population) == (6, 50, 12_345)
    assert m.terrain_speed_factor == 0.6


def test_tiny_population_still_gives_everyone_a_resident() -> None:
    m = generate_map(MapConfig(n_townships=2, n_villages=5, population=100))
    check_map(m)
    assert m.total_population == 100


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"size": "small", "n_townships": 50}, "map.n_villages"),
        ({"size": "median", "population": 100}, "map.population"),
    ],
)
def test_impossible_overrides_are_input_errors(overrides: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        generate_map(MapConfig(**overrides))
    assert field in str(err.value)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    region=st.sampled_from(["east_plain", "central_hill", "west_mountain", "northeast_plain"]),
    n_townships=st.integers(1, 8),
    extra_villages=st.integers(0, 40),
    population=st.integers(100, 200_000),
)
def test_random_small_counties_are_valid(
    seed: int, region: str, n_townships: int, extra_villages: int, population: int
) -> None:
    n_villages = n_townships + extra_villages
    cfg = MapConfig(region=region, map_seed=seed, n_townships=n_townships, n_villages=n_villages)
    cfg.population = max(population, 1 + n_townships + n_villages)
    m = generate_map(cfg)
    check_map(m)
    assert (len(m.townships), len(m.villages), m.total_population) == (n_townships, n_villages, cfg.population)


def test_generated_map_survives_a_file_round_trip(tmp_path: Path) -> None:
    m = generate_map(MapConfig(size="small", region="northeast_plain", map_seed=11))
    kinds = [KIND_NAMES[k] for k in m.kind]
    township = ["" if k != SettlementKind.VILLAGE else m.ids[t] for k, t in zip(m.kind, m.township, strict=True)]
    frame = pd.DataFrame(
        {"id": m.ids, "name": m.names, "kind": kinds, "lon": m.lon, "lat": m.lat, "population": m.population}
    )
    frame["township"] = township
    frame.to_csv(tmp_path / "s.csv", index=False)
    edges = [(m.ids[u], m.ids[v], d["length_km"], d["road_class"]) for u, v, d in m.graph.edges(data=True)]
    pd.DataFrame(edges, columns=["from", "to", "length_km", "road_class"]).to_csv(tmp_path / "r.csv", index=False)
    cfg = MapConfig(source="file", region="northeast_plain", settlements_file=tmp_path / "s.csv")
    back = load_map(cfg, tmp_path / "s.csv", tmp_path / "r.csv")
    assert back.ids == m.ids
    for name in ("kind", "population", "township"):
        assert np.array_equal(getattr(back, name), getattr(m, name))
    assert np.allclose(back.travel_min, m.travel_min) and np.allclose(back.travel_km, m.travel_km)
    assert np.allclose(back.x_km - back.x_km[0], m.x_km - m.x_km[0], atol=0.05)


def test_mountain_is_slower_than_plain() -> None:
    plain = generate_map(MapConfig(region="east_plain", size="small", map_seed=5))
    mountain = generate_map(MapConfig(region="west_mountain", size="small", map_seed=5))
    v_p, v_m = plain.villages, mountain.villages
    assert mountain.travel_min[v_m, 0].mean() > 1.5 * plain.travel_min[v_p, 0].mean()
    assert mountain.travel_km[v_m, 0].mean() > plain.travel_km[v_p, 0].mean()


def test_road_minutes_follow_length_class_and_terrain() -> None:
    cfg = MapConfig(region="central_hill", size="small")
    m = generate_map(cfg)
    speed = {
        "county_road": cfg.speed_county_road_kmh,
        "township_road": cfg.speed_township_road_kmh,
        "village_road": cfg.speed_village_road_kmh,
    }
    for _, _, d in m.graph.edges(data=True):
        assert d["minutes"] == pytest.approx(d["length_km"] / (speed[d["road_class"]] * 0.75) * 60)


def test_large_preset_builds_connected() -> None:
    # its speed is measured in benchmarks/, never asserted in a test
    m = generate_map(MapConfig(size="large", region="west_mountain"))
    assert len(m.villages) == 600 and nx.is_connected(m.graph)


def test_default_store_coverage_by_region() -> None:
    assert default_store_coverage("east_plain") > default_store_coverage("west_mountain")
    for region in ("east_plain", "central_hill", "west_mountain", "northeast_plain"):
        assert 0 < default_store_coverage(region) <= 1
    with pytest.raises(InputError, match="allowed"):
        default_store_coverage("moon")


# ---------------------------------------------------------------------------
# loader: the example files


def test_example_csv_and_geojson_give_the_same_county() -> None:
    a = load_map(FILE_CFG, EXAMPLE_CSV, EXAMPLE_ROADS)
    b = load_map(FILE_CFG, EXAMPLE_GEOJSON, EXAMPLE_ROADS)
    for m in (a, b):
        check_map(m)
    assert a.ids == b.ids and a.names == b.names
    assert a.ids[0] == "QX00"
    for name in ("kind", "population", "township"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert np.allclose(a.travel_min, b.travel_min)
    assert (len(a.townships), len(a.villages), a.total_population) == (4, 25, 83_630)
    # The file's township column is kept; the county road's given length is used.
    assert a.ids[a.township[a.ids.index("QX05")]] == "QX01"
    assert a.graph.edges[0, a.ids.index("QX01")]["length_km"] == pytest.approx(17.5)
    assert a.graph.edges[0, a.ids.index("QX01")]["road_class"] == "county_road"


def test_inferred_roads_are_connected_and_comparable() -> None:
    given = load_map(FILE_CFG, EXAMPLE_CSV, EXAMPLE_ROADS)
    inferred = load_map(FILE_CFG, EXAMPLE_GEOJSON, None)
    check_map(inferred)
    assert inferred.graph.number_of_edges() >= inferred.n - 1
    ratio = inferred.travel_min[inferred.villages, 0].mean() / given.travel_min[given.villages, 0].mean()
    assert 0.5 < ratio < 2.0


def test_build_map_resolves_paths_against_base_dir() -> None:
    cfg = MapConfig(
        source="file",
        region="west_mountain",
        settlements_file=Path("data/example_county_settlements.csv"),
        roads_file=Path("data/example_county_roads.csv"),
    )
    m = build_map(cfg, base_dir=DATA.parent)
    check_map(m)
    assert m.region == "west_mountain" and m.terrain_speed_factor == 0.5
    assert isinstance(build_map(MapConfig(size="small")), CountyMap)


# ---------------------------------------------------------------------------
# loader: small hand-made files

SETTLEMENTS = """id,name,kind,lon,lat,population,township
C,Town,county_town,112.60,27.45,20000,
T1,East,township,112.70,27.46,3000,
T2,West,township,112.50,27.44,2500,
V1,V one,village,112.72,27.48,800,T1
V2,V two,village,112.68,27.43,700,T1
V3,V three,village,112.48,27.46,900,T2
V4,V four,village,112.52,27.41,600,
"""

ROADS = """from,to,length_km,road_class
C,T1,12,county_road
C,T2,11,
T1,V1,,
T1,V2,,
T2,V3,,
T2,V4,3.5,village_road
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def replace_row(text: str, row: int, new: str) -> str:
    """Replace data row ``row`` (1-based, after the header) of a CSV text."""
    lines = text.splitlines()
    lines[row] = new
    return "\n".join(lines) + "\n"


def to_geojson(text: str) -> dict:
    lines = text.strip().splitlines()
    header = lines[0].split(",")
    feats = []
    for line in lines[1:]:
        rec = dict(zip(header, line.split(","), strict=True))
        props = {"id": rec["id"], "name": rec["name"], "kind": rec["kind"], "population": int(rec["population"])}
        if rec["township"]:
            props["township"] = rec["township"]
        geom = {"type": "Point", "coordinates": [float(rec["lon"]), float(rec["lat"])]}
        feats.append({"type": "Feature", "geometry": geom, "properties": props})
    return {"type": "FeatureCollection", "features": feats}


def test_small_files_load_and_unassigned_village_goes_to_nearest_township(tmp_path: Path) -> None:
    # County town listed last: it must still become node 0.
    lines = SETTLEMENTS.strip().splitlines()
    text = "\n".join([lines[0], *lines[2:], lines[1]]) + "\n"
    s = write(tmp_path, "s.csv", text)
    for roads in (write(tmp_path, "r.csv", ROADS), None):
        m = load_map(FILE_CFG, s, roads)
        check_map(m)
        assert m.ids[:3] == ["C", "T1", "T2"]
        assert m.ids[m.township[m.ids.index("V4")]] == "T2"
        assert m.ids[m.township[m.ids.index("V1")]] == "T1"
    m = load_map(FILE_CFG, s, write(tmp_path, "r.csv", ROADS))
    assert m.graph.edges[0, 2]["road_class"] == "county_road"  # inferred from the kinds
    assert m.graph.edges[1, m.ids.index("V1")]["road_class"] == "village_road"


def test_settlements_without_optional_columns(tmp_path: Path) -> None:
    lines = [",".join(line.split(",")[:1] + line.split(",")[2:6]) for line in SETTLEMENTS.strip().splitlines()]
    m = load_map(FILE_CFG, write(tmp_path, "s.csv", "\n".join(lines) + "\n"), None)
    check_map(m)
    assert m.names == m.ids


def test_feature_level_id_and_bom_are_accepted(tmp_path: Path) -> None:
    doc = to_geojson(SETTLEMENTS)
    doc["features"][0]["id"] = doc["features"][0]["properties"].pop("id")
    m = load_map(FILE_CFG, write(tmp_path, "s.geojson", json.dumps(doc)), None)
    assert m.ids[0] == "C"
    m = load_map(FILE_CFG, write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + SETTLEMENTS.encode()), None)
    assert m.ids[0] == "C"


# Each case: (case id, settlements text, roads text or None, file that is wrong, location, words in message).
S = SETTLEMENTS
BAD_SETTLEMENTS = [
    ("empty", "", None, "s", None, "empty"),
    ("whitespace only", "  \n\n", None, "s", None, "empty"),
    ("too many fields", replace_row(S, 3, "T2,West,township,112.50,27.44,2500,,extra"), None, "s", "line 4", "fields"),
    ("missing columns", S.replace("lon,lat,", "x,y,"), None, "s", "header", "lon, lat"),
    ("header only", S.splitlines()[0] + "\n", None, "s", None, "no data rows"),
    ("semicolons", S.replace(",", ";"), None, "s", "header", "comma-separated"),
    ("duplicate column", S.replace("township\n", "name\n", 1), None, "s", "column name", "twice"),
    (
        "duplicate id",
        replace_row(S, 5, "V1,V two,village,112.68,27.43,700,T1"),
        None,
        "s",
        "row 5",
        "'V1' (also in row 4)",
    ),
    ("missing id", replace_row(S, 5, ",V two,village,112.68,27.43,700,T1"), None, "s", "row 5", "id is missing"),
    ("lon text", replace_row(S, 4, "V1,V one,village,east,27.48,800,T1"), None, "s", "row 4", "lon must be a number"),
    ("lon range", replace_row(S, 4, "V1,V one,village,212.72,27.48,800,T1"), None, "s", "row 4", "-180 and 180"),
    ("lat range", replace_row(S, 4, "V1,V one,village,112.72,-97.48,800,T1"), None, "s", "row 4", "-90 and 90"),
    ("lat nan", replace_row(S, 4, "V1,V one,village,112.72,nan,800,T1"), None, "s", "row 4", "lat must be a finite"),
    ("lat missing", replace_row(S, 4, "V1,V one,village,112.72,,800,T1"), None, "s", "row 4", "lat is missing"),
    ("pop zero", replace_row(S, 6, "V3,V three,village,112.48,27.46,0,T2"), None, "s", "row 6", "positive"),
    ("pop negative", replace_row(S, 6, "V3,V three,village,112.48,27.46,-5,T2"), None, "s", "row 6", "positive"),
    ("pop fraction", replace_row(S, 6, "V3,V three,village,112.48,27.46,12.5,T2"), None, "s", "row 6", "whole number"),
    (
        "pop missing",
        replace_row(S, 6, "V3,V three,village,112.48,27.46,,T2"),
        None,
        "s",
        "row 6",
        "population is missing",
    ),
    ("pop text", replace_row(S, 6, "V3,V three,village,112.48,27.46,many,T2"), None, "s", "row 6", "must be a number"),
    ("unknown kind", replace_row(S, 6, "V3,V three,hamlet,112.48,27.46,900,T2"), None, "s", "row 6", "county_town"),
    (
        "no county town",
        replace_row(S, 1, "C,Town,township,112.60,27.45,20000,"),
        None,
        "s",
        "column kind",
        "exactly one",
    ),
    (
        "two county towns",
        replace_row(S, 3, "T2,West,county_town,112.50,27.44,2500,"),
        None,
        "s",
        "row 3",
        "row 1, row 3",
    ),
    (
        "no township",
        "\n".join(line for line in S.splitlines() if ",township," not in line).replace(",T1", ",").replace(",T2", ",")
        + "\n",
        None,
        "s",
        "column kind",
        "at least one",
    ),
    ("unknown township", replace_row(S, 4, "V1,V one,village,112.72,27.48,800,T9"), None, "s", "row 4", "'T9'"),
    (
        "township not a township",
        replace_row(S, 4, "V1,V one,village,112.72,27.48,800,V2"),
        None,
        "s",
        "row 4",
        "village",
    ),
    ("far away", replace_row(S, 4, "V1,V one,village,27.48,112.72,800,T1"), None, "s", "row 4", "-90 and 90"),
    ("swapped sign", replace_row(S, 4, "V1,V one,village,-112.72,27.48,800,T1"), None, "s", "row 4", "km from"),
]

BAD_ROADS = [
    ("road unknown id", replace_row(ROADS, 3, "T1,V9,,"), "r", "row 3", "'V9'"),
    ("road missing end", replace_row(ROADS, 3, "T1,,,"), "r", "row 3", "'to' is missing"),
    ("road self loop", replace_row(ROADS, 3, "V1,V1,,"), "r", "row 3", "itself"),
    ("road zero length", replace_row(ROADS, 1, "C,T1,0,county_road"), "r", "row 1", "positive"),
    ("road negative length", replace_row(ROADS, 1, "C,T1,-3,county_road"), "r", "row 1", "positive"),
    ("road text length", replace_row(ROADS, 1, "C,T1,far,county_road"), "r", "row 1", "must be a number"),
    ("road unknown class", replace_row(ROADS, 1, "C,T1,12,highway"), "r", "row 1", "village_road"),
    ("road missing columns", ROADS.replace("from,to", "a,b"), "r", "header", "from, to"),
    ("road too many fields", replace_row(ROADS, 2, "C,T2,11,,x"), "r", "line 3", "fields"),
    ("road empty", "", "r", None, "empty"),
    ("unreachable", ROADS.replace("T1,V1,,\n", "").replace("T2,V3,,\n", ""), "r", "road network", "V1, V3"),
]


@pytest.mark.parametrize(
    ("text", "roads", "wrong", "location", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_SETTLEMENTS]
    + [pytest.param(S, *case[1:], id=case[0]) for case in BAD_ROADS],
)
def test_bad_csv_inputs_name_file_and_place(
    tmp_path: Path, text: str, roads: str | None, wrong: str, location: str | None, words: str
) -> None:
    s = write(tmp_path, "settlements_bad.csv", text)
    r = write(tmp_path, "roads_bad.csv", roads) if roads is not None else None
    with pytest.raises(MapError) as err:
        load_map(FILE_CFG, s, r)
    msg = str(err.value)
    assert (s.name if wrong == "s" else r.name) in msg
    if location:
        assert location in msg
        assert err.value.location == location
    assert words in msg
    assert "Traceback" not in msg and "\n" not in msg


def test_unreachable_lists_at_most_five(tmp_path: Path) -> None:
    lines = ["id,kind,lon,lat,population", "C,county_town,112.6,27.45,1000", "T,township,112.7,27.45,500"]
    lines += [f"V{k},village,{112.6 + k / 100:.2f},27.5,100" for k in range(8)]
    s = write(tmp_path, "s.csv", "\n".join(lines) + "\n")
    r = write(tmp_path, "r.csv", "from,to\nC,T\n")
    with pytest.raises(MapError, match=r"8 settlement\(s\).*V0, V1, V2, V3, V4 and 3 more"):
        load_map(FILE_CFG, s, r)


def test_file_problems(tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", SETTLEMENTS)
    cases = [
        (tmp_path / "nowhere.csv", None, "nowhere.csv", "not found"),
        (tmp_path, None, tmp_path.name, "directory"),
        (
            write(tmp_path, "latin.csv", SETTLEMENTS.replace("East", "Ost\xe9").encode("latin-1")),
            None,
            "latin.csv",
            "UTF-8",
        ),
        (good, tmp_path / "noroads.csv", "noroads.csv", "not found"),
        (good, tmp_path, tmp_path.name, "directory"),
    ]
    for s, r, name, words in cases:
        with pytest.raises(MapError) as err:
            load_map(FILE_CFG, s, r)
        assert name in str(err.value) and words in str(err.value)


def _geojson_case(mutate: str) -> dict | str:
    doc = to_geojson(SETTLEMENTS)
    f = doc["features"]
    if mutate == "not json":
        return '{"type": "FeatureCollection", "features": [}'
    if mutate == "not collection":
        return {"type": "Feature"}
    if mutate == "no features":
        doc["features"] = []
    elif mutate == "line geometry":
        f[2]["geometry"] = {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}
    elif mutate == "null geometry":
        f[2]["geometry"] = None
    elif mutate == "missing property":
        del f[2]["properties"]["population"]
    elif mutate == "bad lat":
        f[2]["geometry"]["coordinates"] = [112.5, 95.0]
    elif mutate == "text population":
        f[2]["properties"]["population"] = "lots"
    elif mutate == "fraction population":
        f[2]["properties"]["population"] = 12.5
    elif mutate == "duplicate id":
        f[2]["properties"]["id"] = "T1"
    return doc


@pytest.mark.parametrize(
    ("mutate", "location", "words"),
    [
        ("not json", "cannot be read as GIS data", "Unexpected character"),
        ("not collection", "layer bad_map", "features without geometry"),
        ("no features", "layer bad_map", "no features"),
        ("line geometry", "feature 3", "Point"),
        ("null geometry", "feature 3", "Point"),
        ("missing property", "feature 3", "population"),
        ("bad lat", "feature 3", "-90 and 90"),
        ("text population", "feature 3", "must be a number"),
        ("fraction population", "feature 3", "whole number"),
        ("duplicate id", "feature 3", "also in feature 2"),
    ],
)
def test_bad_geojson_inputs(tmp_path: Path, mutate: str, location: str, words: str) -> None:
    doc = _geojson_case(mutate)
    p = write(tmp_path, "bad_map.geojson", doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(MapError) as err:
        load_map(FILE_CFG, p, None)
    msg = str(err.value)
    assert "bad_map.geojson" in msg and location in msg and words in msg


def test_kind_names_are_the_loader_vocabulary() -> None:
    assert KIND_NAMES == ("county_town", "township", "village")
    assert [k.label for k in SettlementKind] == list(KIND_NAMES)
    assert [int(k) for k in SettlementKind] == [0, 1, 2]  # the values of the map's kind column
