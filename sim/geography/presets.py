"""Region and size presets for generated counties.

A generated county is described by two independent choices: *where* it is (a region
preset: terrain, settlement density, how population is spread, how many village stores
exist at the start) and *how big* it is (a size preset: townships, villages, people).
Keeping them apart lets a scenario sweep size within a region, or compare regions at a
fixed size, without inventing a preset for every combination.

Sources. The median size comes from DESIGN.md §9 (shared/reference/): a county-level
unit averages about 400,000 residents, ~16 townships and ~250 administrative villages
(MCA division counts and MOFCOM's 740 million county-area residents). Everything else
here is a modelling assumption and says so; the region numbers are orders of magnitude
chosen so that the four regions differ the way Chinese counties do (dense, well-connected
eastern plains; sparse, slow western mountains), not fitted values.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.errors import InputError


@dataclass(frozen=True)
class RegionPreset:
    """What a region's terrain and settlement pattern look like to the generator.

    Attributes:
        name: Region key (``east_plain`` ...).
        terrain_speed_factor: Multiplier on every road class's flat-land speed; hills and
            mountains make roads slower through gradients and bends.
        area_per_village_km2: Land area per administrative village. Sets the spacing of
            settlements (hexagonal lattice spacing ``sqrt(2 A / sqrt(3))``) and hence the
            county's extent: sparse regions have long distances to everything.
        county_town_share: Share of the county's residents living in the county town.
        township_seat_share: Share living in the township seats (all townships together).
        township_pop_sigma: Log-sd of township seat populations around their mean.
        village_pop_sigma: Log-sd of village populations around their mean.
        extra_link_share: Chance that a short local link (between neighbouring villages, or a
            village and a nearby seat) exists on top of the minimal tree of village roads;
            plains have meshed village roads, mountain villages hang on dead-end roads.
        store_coverage: Share of administrative villages with at least one store at the
            start (the model's default for ``stores.initial_village_coverage``).
        lon, lat: Reference point (degrees) where the generated county is placed, typical
            of the region; only used to give generated maps plausible coordinates.
        shape_irregularity: Amplitude of the wobble of the county's outline around a
            circle (0 = round); cosmetic, but keeps townships from sitting on a ring.
    """

    name: str
    terrain_speed_factor: float
    area_per_village_km2: float
    county_town_share: float
    township_seat_share: float
    township_pop_sigma: float
    village_pop_sigma: float
    extra_link_share: float
    store_coverage: float
    lon: float
    lat: float
    shape_irregularity: float


@dataclass(frozen=True)
class SizePreset:
    """How big a generated county is.

    Attributes:
        name: Size key (``small``, ``median``, ``large``).
        n_townships: Township-level units other than the county town.
        n_villages: Administrative villages.
        population: Resident population of the whole county (county town included).
    """

    name: str
    n_townships: int
    n_villages: int
    population: int


REGIONS: dict[str, RegionPreset] = {
    # North China / Huang-Huai plain (e.g. Shandong, north Jiangsu, Henan): flat, dense,
    # many villages close together, meshed roads, near-universal village shops.
    "east_plain": RegionPreset(
        name="east_plain",
        terrain_speed_factor=1.0,  # assumption: flat land is the reference speed
        area_per_village_km2=2.5,  # assumption: ~1.7 km between village centres
        county_town_share=0.30,  # assumption
        township_seat_share=0.18,  # assumption
        township_pop_sigma=0.35,  # assumption
        village_pop_sigma=0.45,  # assumption: plain villages are fairly uniform
        extra_link_share=0.45,  # assumption: meshed village roads
        store_coverage=0.95,  # assumption
        lon=118.5,  # around Xuzhou/Linyi (Huang-Huai plain)
        lat=34.5,
        shape_irregularity=0.12,  # assumption (cosmetic)
    ),
    # Central hills (e.g. Hunan, Jiangxi, Hubei): rolling terrain, medium density.
    "central_hill": RegionPreset(
        name="central_hill",
        terrain_speed_factor=0.75,  # assumption: winding, graded roads
        area_per_village_km2=6.0,  # assumption: ~2.6 km between village centres
        county_town_share=0.28,  # assumption
        township_seat_share=0.18,  # assumption
        township_pop_sigma=0.40,  # assumption
        village_pop_sigma=0.50,  # assumption
        extra_link_share=0.25,  # assumption
        store_coverage=0.90,  # assumption
        lon=112.5,  # around Hengyang/Xiangtan (Hunan hills)
        lat=28.0,
        shape_irregularity=0.18,  # assumption (cosmetic)
    ),
    # South-west mountains (e.g. Guizhou, west Sichuan, Yunnan): slow, sparse, long
    # dead-end village roads, many villages without a shop.
    "west_mountain": RegionPreset(
        name="west_mountain",
        terrain_speed_factor=0.5,  # assumption: mountain roads at about half plain speed
        area_per_village_km2=11.0,  # assumption: ~3.6 km between village centres
        county_town_share=0.25,  # assumption
        township_seat_share=0.15,  # assumption
        township_pop_sigma=0.45,  # assumption
        village_pop_sigma=0.60,  # assumption: scattered hamlets of very different sizes
        extra_link_share=0.08,  # assumption: mostly tree-like village roads
        store_coverage=0.75,  # assumption
        lon=104.0,  # around Bijie (Guizhou/Yunnan/Sichuan border)
        lat=27.0,
        shape_irregularity=0.25,  # assumption (cosmetic)
    ),
    # North-east plain (Heilongjiang, Jilin): flat but large counties with big fields and
    # villages far apart; population concentrated in the county seat.
    "northeast_plain": RegionPreset(
        name="northeast_plain",
        terrain_speed_factor=0.95,  # assumption: flat, some winter/rougher roads
        area_per_village_km2=14.0,  # assumption: ~4.0 km between village centres
        county_town_share=0.35,  # assumption: NE county seats hold a large share
        township_seat_share=0.15,  # assumption
        township_pop_sigma=0.35,  # assumption
        village_pop_sigma=0.45,  # assumption
        extra_link_share=0.30,  # assumption: grid-like field roads
        store_coverage=0.88,  # assumption
        lon=126.0,  # around Suihua (Songnen plain)
        lat=46.0,
        shape_irregularity=0.12,  # assumption (cosmetic)
    ),
}

SIZES: dict[str, SizePreset] = {
    # assumption: a small (often western or remote) county of about 60,000 people
    "small": SizePreset(name="small", n_townships=4, n_villages=40, population=60_000),
    # DESIGN.md §9 / shared/reference: ~400,000 residents, ~16 townships, ~250 villages
    "median": SizePreset(name="median", n_townships=16, n_villages=250, population=400_000),
    # assumption: a large populous county (upper tail of the distribution)
    "large": SizePreset(name="large", n_townships=30, n_villages=600, population=900_000),
}


def region_preset(region: str) -> RegionPreset:
    """The preset of a region, or an InputError listing the known regions.

    Args:
        region: Region key as in ``map.region``.

    Raises:
        InputError: The region is not one of the presets.
    """
    try:
        return REGIONS[region]
    except KeyError:
        raise InputError(f"unknown region '{region}'; allowed: {', '.join(REGIONS)}", location="map.region") from None


def size_preset(size: str) -> SizePreset:
    """The preset of a county size, or an InputError listing the known sizes.

    Args:
        size: Size key as in ``map.size``.

    Raises:
        InputError: The size is not one of the presets.
    """
    try:
        return SIZES[size]
    except KeyError:
        raise InputError(f"unknown size '{size}'; allowed: {', '.join(SIZES)}", location="map.size") from None


def default_store_coverage(region: str) -> float:
    """Share of villages with a store at the start, by region (assumption).

    The model uses it when ``stores.initial_village_coverage`` is not set; it applies to
    file-based maps too, through ``map.region``.

    Args:
        region: Region key as in ``map.region``.
    """
    return region_preset(region).store_coverage


def terrain_factor(region: str, override: float | None) -> float:
    """Road-speed multiplier: the scenario's override when given, else the region's.

    Args:
        region: Region key as in ``map.region``.
        override: ``map.terrain_speed_factor`` (None = use the preset).
    """
    return float(override) if override is not None else region_preset(region).terrain_speed_factor
