"""Time to load a county map from each kind of file: CSV, GeoPackage, GeoJSON, OSM GraphML.

Usage: ``python -m benchmarks.map_files [--grid 150] [--settlements 300] [--repeat 3]``.
The example county (configs/data, 30 settlements) is loaded from its CSV files, and from a
GeoPackage in EPSG:4547 and GeoJSON in EPSG:4326 made from them (geopandas' import, about
a second, is paid once before timing). The OpenStreetMap case is a synthetic road grid of
``grid`` × ``grid`` nodes 250 m apart with tertiary roads every 10th line, written as
osmnx-style GraphML, with ``settlements`` settlements on random nodes: it times reading the
XML and contracting the graph onto the settlements separately. Results go to
benchmarks/results/map_files.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from benchmarks import write_results
from sim.config import MapConfig
from sim.geography import load_map
from sim.geography.generator import xy_to_lonlat

DATA = Path(__file__).resolve().parents[1] / "configs" / "data"


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """Shortest wall time of ``repeat`` calls, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def example_files(folder: Path) -> tuple[Path, Path]:
    """The example settlements as a GeoPackage in EPSG:4547 and as GeoJSON."""
    import geopandas as gpd

    table = pd.read_csv(DATA / "example_county_settlements.csv", dtype={"township": str}, keep_default_na=False)
    frame = gpd.GeoDataFrame(table.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(table.lon, table.lat))
    frame = frame.set_crs(4326)
    frame.to_crs(4547).to_file(folder / "s.gpkg", driver="GPKG")
    frame.to_file(folder / "s.geojson", driver="GeoJSON")
    return folder / "s.gpkg", folder / "s.geojson"


def grid_county(folder: Path, side: int, n_settlements: int) -> tuple[Path, Path]:
    """A road grid as osmnx-style GraphML and settlements on random grid nodes (CSV)."""
    rng = np.random.default_rng(1)
    step_km = 0.25
    g = nx.MultiDiGraph(crs="epsg:4326")
    xs = np.arange(side) * step_km
    lon, lat = xy_to_lonlat(np.repeat(xs, side), np.tile(xs, side), 112.6, 27.45)
    for k in range(side * side):
        g.add_node(k, x=repr(float(lon[k])), y=repr(float(lat[k])))
    for i in range(side):
        for j in range(side):
            k = i * side + j
            # East and north neighbours; every 10th grid line is a tertiary (township) road.
            ends = [(k + side, j)] if i + 1 < side else []
            ends += [(k + 1, i)] if j + 1 < side else []
            for other, line in ends:
                tag = "tertiary" if line % 10 == 0 else "residential"
                for a, b in ((k, other), (other, k)):
                    g.add_edge(a, b, highway=tag, length=repr(step_km * 1000))
    nx.write_graphml(g, folder / "grid.graphml")
    nodes = rng.choice(side * side, size=n_settlements, replace=False)
    kinds = ["county_town"] + ["township"] * max(1, n_settlements // 15)
    kinds += ["village"] * (n_settlements - len(kinds))
    pd.DataFrame(
        {
            "id": [f"S{k}" for k in range(n_settlements)],
            "kind": kinds,
            "lon": lon[nodes],
            "lat": lat[nodes],
            "population": 500,
        }
    ).to_csv(folder / "grid.csv", index=False)
    return folder / "grid.csv", folder / "grid.graphml"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--grid", type=int, default=150)
    p.add_argument("--settlements", type=int, default=300)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", default="benchmarks/results/map_files.json")
    args = p.parse_args(argv)
    cfg = MapConfig(source="file", settlements_file=Path("unused"))
    roads = DATA / "example_county_roads.csv"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        gpkg, geojson = example_files(folder)  # also imports geopandas before any timing
        res = {
            "example_csv_s": best_of(
                args.repeat, lambda: load_map(cfg, DATA / "example_county_settlements.csv", roads)
            ),
            "example_gpkg_4547_s": best_of(args.repeat, lambda: load_map(cfg, gpkg, roads)),
            "example_geojson_s": best_of(args.repeat, lambda: load_map(cfg, geojson, roads)),
        }
        settlements, graphml = grid_county(folder, args.grid, args.settlements)
        res["osm_read_graphml_s"] = best_of(args.repeat, lambda: nx.read_graphml(graphml))
        res["osm_load_map_s"] = best_of(args.repeat, lambda: load_map(cfg, settlements, graphml))
        m = load_map(cfg, settlements, graphml)
    res.update(grid=args.grid, nodes=args.grid**2, settlements=args.settlements, model_roads=m.graph.number_of_edges())
    print(", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in res.items()))
    write_results(args.out, **res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
