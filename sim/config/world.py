"""When, where and who: the timeline, the county map and its population.

These sections fix the county a run simulates before any policy acts. The table of Spring
Festival dates lives here because it bounds the timeline a scenario may ask for; the
market calendar (:mod:`sim.markets.calendar`) reads the same table for seasonal spending.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import field_validator, model_validator

from sim.config.fields import P, Section

#: Gregorian dates of Spring Festival (春节, first day of the lunar year). These are
#: astronomical-calendar facts (published lunar calendars), not assumptions.
SPRING_FESTIVAL = {
    2015: dt.date(2015, 2, 19),
    2016: dt.date(2016, 2, 8),
    2017: dt.date(2017, 1, 28),
    2018: dt.date(2018, 2, 16),
    2019: dt.date(2019, 2, 5),
    2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12),
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
    2031: dt.date(2031, 1, 23),
    2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31),
    2034: dt.date(2034, 2, 19),
    2035: dt.date(2035, 2, 8),
}

Region = Literal["east_plain", "central_hill", "west_mountain", "northeast_plain"]
Size = Literal["small", "median", "large"]


class TimelineConfig(Section):
    start: dt.date = P(dt.date(2023, 7, 1), "date", "First simulated week (the plan was issued 2023-07-27).")
    end: dt.date = P(
        dt.date(2025, 12, 31), "date", "Last simulated day; default covers the plan and its final evaluation."
    )

    @model_validator(mode="after")
    def _ordered(self) -> TimelineConfig:
        if self.end <= self.start:
            raise ValueError("timeline.end must be after timeline.start")
        if (self.end - self.start).days < 7:
            raise ValueError("timeline must span at least one week (7 days)")
        first, last = min(SPRING_FESTIVAL), max(SPRING_FESTIVAL) - 1
        if self.start.year < first or self.end.year > last:
            raise ValueError(f"timeline must lie within {first}-{last} (years with a known Spring Festival date)")
        return self


class MapConfig(Section):
    source: Literal["generated", "file"] = P(
        "generated", "choice", "Generate a synthetic county, or load settlements from a file."
    )
    region: Region = P(
        "central_hill",
        "choice",
        "Region/terrain preset for the generator: east_plain, central_hill, west_mountain, northeast_plain.",
    )
    size: Size = P(
        "median",
        "choice",
        "County size preset: small (~4 townships, 40 villages), median (~16, 250, 400,000 people), large (~30, 600).",
    )
    map_seed: int = P(
        1,
        "seed",
        "Seed of the generated geography; kept apart from the run seed so replicates share one county.",
        ge=0,
        le=2**32 - 1,
    )
    n_townships: int | None = P(None, "count", "Override the preset's number of townships.", ge=1, le=200)
    n_villages: int | None = P(None, "count", "Override the preset's number of administrative villages.", ge=1, le=5000)
    population: int | None = P(None, "persons", "Override the preset's resident population.", ge=100, le=5_000_000)
    terrain_speed_factor: float | None = P(
        None, "share", "Override the preset's multiplier on road speeds for terrain (1 = flat).", gt=0.1, le=1.5
    )
    detour_factor: float = P(
        1.3,
        "ratio",
        "Road length over straight-line distance for inferred roads (assumption; 1.2-1.4 is typical of rural networks).",
        ge=1.0,
        le=3.0,
    )
    speed_county_road_kmh: float = P(
        60.0, "km/h", "Speed on county roads (county town to townships) on flat land (assumption).", gt=5, le=120
    )
    speed_township_road_kmh: float = P(
        40.0, "km/h", "Speed on township roads (township to township) on flat land (assumption).", gt=5, le=100
    )
    speed_village_road_kmh: float = P(25.0, "km/h", "Speed on village roads on flat land (assumption).", gt=2, le=80)
    settlements_file: Path | None = P(
        None,
        "path",
        "Settlements (id, kind, population, optional name and township): a CSV with lon, lat columns (WGS84 degrees), "
        "or any vector file GDAL/OGR reads (GeoPackage, Shapefile, GeoJSON, FlatGeobuf) with Point features in any "
        "declared CRS; relative to the scenario file.",
    )
    roads_file: Path | None = P(
        None,
        "path",
        "Optional roads: a CSV of edges (from, to, optional length_km, road_class), a GIS layer of road lines snapped "
        "to settlements, or an OpenStreetMap road graph in GraphML (.graphml, as osmnx.save_graphml writes it); "
        "relative to the scenario file. Inferred when absent.",
    )
    settlements_layer: str | None = P(
        None, "name", "Layer of settlements_file to read (a GeoPackage may hold several); None: the file's only layer."
    )
    roads_layer: str | None = P(
        None,
        "name",
        "Layer of roads_file to read (may be another layer of the settlements' GeoPackage); None: its only layer.",
    )
    crs: str | None = P(
        None,
        "CRS",
        "Coordinate reference system of GIS map files that declare none (e.g. 'EPSG:4547' for CGCS2000 / 3-degree "
        "Gauss-Kruger CM 114E, or WKT); files that declare one must agree. None: such files are an error. CSV is always "
        "WGS84 lon/lat.",
        min_length=1,
    )
    snap_tolerance_m: float = P(
        1000.0,
        "m",
        "Farthest a road line's end may lie from the settlement it is joined to, and a settlement from its nearest node "
        "of an OpenStreetMap road graph (assumption: 1 km, under the usual spacing of villages, over the offset of a "
        "village's mapped point from its road).",
        gt=0,
        le=50_000,
    )

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from pyproj import CRS  # only scenarios that name a CRS pay for the import
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(value)
        except CRSError:
            raise ValueError(
                f"unknown CRS {value!r}; give an EPSG code such as 'EPSG:4547' or 'EPSG:4326', or WKT"
            ) from None
        return value

    @model_validator(mode="after")
    def _file_needs_path(self) -> MapConfig:
        if self.source == "file" and self.settlements_file is None:
            raise ValueError("map.source is 'file' but map.settlements_file is not set")
        if self.roads_file is not None and self.source != "file":
            raise ValueError("map.roads_file is only used with map.source: file")
        if self.roads_layer is not None and self.roads_file is None:
            raise ValueError("map.roads_layer names a layer of map.roads_file, which is not set")
        if self.n_townships and self.n_villages and self.n_villages < self.n_townships:
            raise ValueError("map.n_villages must be at least map.n_townships (every township has a village)")
        return self


class PopulationConfig(Section):
    households_per_agent: int = P(
        1,
        "households",
        "How many real households one household agent stands for (1 = one agent per household; larger is faster).",
        ge=1,
        le=10_000,
    )
    household_size: float = P(
        3.0, "persons", "Mean persons per rural household (census-scale rural households are about 3).", ge=1.0, le=10.0
    )
    income_per_capita: float = P(
        21691.0, "yuan/person/year", "Mean rural per-capita disposable income (NBS, 2023: 21,691).", gt=0, le=1_000_000
    )
    income_sigma: float = P(
        0.55,
        "log sd",
        "Spread of log household income per capita (assumption, typical of rural income distributions).",
        ge=0.0,
        le=2.0,
    )
    farm_income_share: float = P(
        0.34,
        "share",
        "Share of income from farming/household operations (NBS 2023 rural operating income is about a third).",
        ge=0.0,
        le=1.0,
    )
    vehicle_share: float = P(
        0.45, "share", "Share of households with a car or motorbike usable for shopping (assumption).", ge=0.0, le=1.0
    )
    online_buyer_share: float = P(
        0.55,
        "share",
        "Share of households buying online at the start (assumption; adoption becomes dynamic with the e-commerce issue).",
        ge=0.0,
        le=1.0,
    )
    age_head_mean: float = P(
        55.0,
        "years",
        "Mean age of household heads (assumption; rural heads are older than the national average).",
        ge=18,
        le=90,
    )
    age_head_sd: float = P(12.0, "years", "Spread of household heads' ages (assumption).", ge=0.0, le=40.0)
    online_age_years_per_logit: float = P(
        20.0,
        "years",
        "Years of age of the head that lower the log-odds of buying online by one (assumption).",
        gt=0.0,
        le=1000.0,
    )
