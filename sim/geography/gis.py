"""Map layers from GIS files: any vector format GDAL/OGR reads, through geopandas and pyogrio.

Settlements (Points) and roads (LineStrings) come from GeoPackage, Shapefile, GeoJSON,
FlatGeobuf or any other format GDAL/OGR opens. One canonical path keeps every format
giving the same map: each layer is reprojected from the CRS the file declares to WGS84
longitude/latitude (EPSG:4326), and from there the loader treats it exactly as a CSV's
lon/lat columns (great-circle lengths, a local equirectangular projection for km
coordinates). So a county in CGCS2000 / 3-degree Gauss-Kruger (EPSG:4547) and the same
county as GeoJSON in EPSG:4326 give the same map, up to the reprojection's rounding
(~1e-14 degrees).

CRS rules: a file that declares a CRS is reprojected from it; a file that declares none
(a Shapefile without ``.prj``, a FlatGeobuf written without one) is an error unless the
scenario names one in ``map.crs``; a file that declares one CRS while ``map.crs`` names
another is an error too (which one is right cannot be guessed). GeoJSON is WGS84 by
definition (RFC 7946), so GDAL always declares EPSG:4326 for it.

geopandas is a heavy dependency (about a second to import), so it is imported inside the
functions that read files: ``import sim`` and generated-map runs never pay for it.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.errors import MapError

if TYPE_CHECKING:
    import geopandas

#: Folders GDAL opens as one data source (an Esri File Geodatabase is a folder).
_FOLDER_FORMATS = (".gdb",)

#: Attribute columns read from a settlements layer (matched case-insensitively).
SETTLEMENT_ATTRIBUTES = ("id", "kind", "population", "name", "township")
#: Attribute columns read from a roads layer (matched case-insensitively).
ROAD_ATTRIBUTES = ("length_km", "road_class", "highway")

_GEOMETRY_WORDS = {"Point": "Points", "LineString": "lines (LineString)"}


#: A Shapefile is several files beside the ``.shp``; a change to any of them changes the map.
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def source_files(path: Path) -> list[Path]:
    """Every file a map data source consists of, for hashing and change detection.

    A Shapefile's attributes and CRS live in sidecar files (``.dbf``, ``.prj``, ...) and a
    File Geodatabase is a folder: hashing the named path alone would miss an edit to them,
    so provenance and map caches look at all of its parts (sorted, existing ones only).
    """
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    if path.suffix.lower() == ".shp":
        parts = {p for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() in _SHAPEFILE_PARTS}
        return sorted(parts | ({path} if path.exists() else set()))
    return [path] if path.exists() else []


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _pick_layer(path: Path, layer: str | None, field: str) -> str:
    """The layer to read: the one named by ``field``, or the file's only layer."""
    import pyogrio  # with geopandas: only GIS files need it

    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError, and GDAL errors of its own
        raise MapError(f"cannot be read as GIS data ({_first_line(exc)})", source=path) from None
    if not layers:
        raise MapError("holds no layers", source=path)
    if layer is not None:
        if layer not in layers:
            raise MapError(
                f"has no layer {layer!r} (named by {field}); its layers: {', '.join(layers)}",
                source=path,
                location=f"layer {layer}",
            )
        return layer
    if len(layers) > 1:
        raise MapError(
            f"holds {len(layers)} layers ({', '.join(layers)}); name the one to use in {field}",
            source=path,
            location="layers",
        )
    return layers[0]


def _to_wgs84(frame: geopandas.GeoDataFrame, path: Path, where: str, crs: str | None) -> geopandas.GeoDataFrame:
    """The layer in WGS84 lon/lat, from the CRS the file declares (or ``map.crs``)."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError, ProjError

    declared = frame.crs
    if declared is None:
        if crs is None:
            raise MapError(
                "declares no coordinate reference system (CRS), so its coordinates cannot be placed; "
                "set map.crs in the scenario to the CRS they are in (e.g. EPSG:4547 for CGCS2000 / 3-degree "
                "Gauss-Kruger CM 114E, EPSG:4326 for lon/lat), or save the file with its CRS",
                source=path,
                location=where,
            )
        frame = frame.set_crs(CRS.from_user_input(crs))
    elif crs is not None and not declared.equals(CRS.from_user_input(crs), ignore_axis_order=True):
        raise MapError(
            f"declares CRS {declared.to_string()!r} but map.crs is {crs!r}; map.crs is for files that declare "
            "none: remove it, or fix the file's CRS",
            source=path,
            location=where,
        )
    try:
        out = frame.to_crs(4326)
    except (CRSError, ProjError) as exc:
        name = frame.crs.name if frame.crs is not None else "?"
        raise MapError(
            f"its CRS {name!r} cannot be transformed to longitude/latitude ({_first_line(exc)}); "
            "save the file in a georeferenced CRS such as EPSG:4547 or EPSG:4326",
            source=path,
            location=where,
        ) from None
    return out


def read_layer(path: Path, layer: str | None, crs: str | None, geometry: str, layer_field: str) -> tuple[Any, str]:
    """One layer of a GIS file, checked and reprojected to WGS84 lon/lat.

    Args:
        path: Any vector file GDAL/OGR opens.
        layer: The layer to read; None for the file's only layer.
        crs: ``map.crs``: the CRS of a file that declares none (None: such a file is an error).
        geometry: ``"Point"`` or ``"LineString"``: what every feature must be.
        layer_field: The scenario field naming the layer, for messages.

    Returns:
        The layer as a GeoDataFrame in EPSG:4326 with lower-cased attribute names, and
        ``"layer NAME"`` for messages.

    Raises:
        MapError: Missing or unreadable file, no such layer, no geometry column, no
            features, no feature of the expected geometry, no or unusable CRS.
    """
    import geopandas  # heavy optional dependency (about 1 s to import): only GIS files need it

    if not path.exists():
        raise MapError("file not found", source=path)
    if path.is_dir() and path.suffix.lower() not in _FOLDER_FORMATS:
        raise MapError("is a directory; a file is expected", source=path)
    name = _pick_layer(path, layer, layer_field)
    where = f"layer {name}"
    try:
        with warnings.catch_warnings():
            # GDAL's notes on how it typed a column ("leaving as string") would print beside
            # the loader's own messages, which check every value it uses.
            warnings.simplefilter("ignore")
            frame = geopandas.read_file(path, layer=name, engine="pyogrio")
    except Exception as exc:  # GDAL's errors come through pyogrio under several types
        raise MapError(f"cannot be read as GIS data ({_first_line(exc)})", source=path, location=where) from None
    want = _GEOMETRY_WORDS[geometry]
    if not isinstance(frame, geopandas.GeoDataFrame):
        raise MapError(f"has no geometry column; its features must be {want}", source=path, location=where)
    if len(frame) == 0:
        raise MapError(f"has no features; it must hold {want}", source=path, location=where)
    kinds = frame.geometry.geom_type
    if not kinds.isin([geometry, f"Multi{geometry}"]).any():
        found = ", ".join(sorted({str(k) for k in kinds.dropna()}))
        what = f"holds {found} geometries" if found else "has features without geometry"
        raise MapError(f"{what}; its features must be {want}", source=path, location=where)
    frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns if c != frame.geometry.name})
    return _to_wgs84(frame, path, where, crs), where


def _values(frame: geopandas.GeoDataFrame, column: str) -> list[Any]:
    """A column as plain Python values, missing ones as None."""
    col = frame[column].astype(object)
    return col.where(col.notna(), None).tolist()


def settlement_columns(frame: geopandas.GeoDataFrame, path: Path) -> tuple[dict[str, list[Any]], list[str]]:
    """The settlement attributes and lon/lat of a Point layer, with a label per feature.

    A feature whose geometry is not one point (a line, an empty or missing geometry, a
    multi-point of several points) is an error naming it (``feature 3`` is the third
    feature in file order).
    """
    labels = [f"feature {k}" for k in range(1, len(frame) + 1)]
    lon, lat = [], []
    for label, geom in zip(labels, frame.geometry, strict=True):
        if geom is not None and geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
            geom = geom.geoms[0]
        if geom is None or geom.is_empty or geom.geom_type != "Point":
            got = "none" if geom is None else ("an empty geometry" if geom.is_empty else geom.geom_type)
            raise MapError(f"geometry must be a Point (got {got})", source=path, location=label)
        lon.append(float(geom.x))
        lat.append(float(geom.y))
    columns = {c: _values(frame, c) for c in SETTLEMENT_ATTRIBUTES if c in frame.columns}
    missing = [c for c in ("id", "kind", "population") if c not in columns]
    if missing:
        found = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name) or "none"
        raise MapError(
            f"missing required attribute(s): {', '.join(missing)}; found: {found}. Required: id, kind, population "
            "(lon and lat come from the Point geometry); optional: name, township.",
            source=path,
            location="attributes",
        )
    columns["lon"], columns["lat"] = lon, lat
    return columns, labels


def line_coordinates(frame: geopandas.GeoDataFrame, path: Path) -> tuple[list[np.ndarray], list[str]]:
    """Each feature's vertices as an (m, 2) lon/lat array, with a label per feature.

    A MultiLineString is accepted when its parts join into one line (GeoPackages often
    store every line as a multi-line); anything else is an error naming the feature.
    """
    from shapely import line_merge

    labels = [f"feature {k}" for k in range(1, len(frame) + 1)]
    lines = []
    for label, geom in zip(labels, frame.geometry, strict=True):
        if geom is not None and geom.geom_type == "MultiLineString":
            geom = line_merge(geom)
        if geom is None or geom.is_empty or geom.geom_type != "LineString":
            got = "none" if geom is None else ("an empty geometry" if geom.is_empty else geom.geom_type)
            raise MapError(
                f"geometry must be one line (LineString, or a MultiLineString whose parts join; got {got})",
                source=path,
                location=label,
            )
        lines.append(np.asarray(geom.coords, dtype=float)[:, :2])
    return lines, labels


def attribute_values(frame: geopandas.GeoDataFrame, names: tuple[str, ...]) -> dict[str, list[Any]]:
    """The named attribute columns the layer has, as plain Python values."""
    return {c: _values(frame, c) for c in names if c in frame.columns}
