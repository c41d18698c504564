"""County geography: settlements, roads and travel times, generated or loaded from files.

The rest of the model needs only :func:`build_map` (a :class:`CountyMap` from the
scenario's ``map`` section) and :func:`default_store_coverage` (the region's starting
share of villages with a store).
"""

from __future__ import annotations

from pathlib import Path

from sim.config import MapConfig
from sim.geography.county_map import KIND_NAMES, ROAD_CLASSES, CountyMap, SettlementKind
from sim.geography.generator import generate_map
from sim.geography.gis import source_files
from sim.geography.loader import load_map
from sim.geography.presets import (
    REGIONS,
    SIZES,
    RegionPreset,
    SizePreset,
    default_store_coverage,
    region_preset,
    size_preset,
)


def _resolve(p: Path, base_dir: Path | None) -> Path:
    return p if p.is_absolute() or base_dir is None else base_dir / p


def build_map(cfg: MapConfig, base_dir: Path | None = None) -> CountyMap:
    """The county a scenario describes: generated from presets, or loaded from files.

    Args:
        cfg: The scenario's ``map`` section.
        base_dir: Folder that relative ``settlements_file``/``roads_file`` paths are
            relative to (the scenario file's folder); None leaves them as given.

    Raises:
        MapError: A map file is missing or malformed (names the file and row/field).
        InputError: Generator overrides that cannot be satisfied together.
    """
    if cfg.source == "generated":
        return generate_map(cfg)
    assert cfg.settlements_file is not None  # MapConfig's validator guarantees it
    roads = _resolve(cfg.roads_file, base_dir) if cfg.roads_file is not None else None
    return load_map(cfg, _resolve(cfg.settlements_file, base_dir), roads)


#: Alias: the region's preset (terrain, density, default store coverage).
preset_for = region_preset

__all__ = [
    "KIND_NAMES",
    "REGIONS",
    "ROAD_CLASSES",
    "SIZES",
    "CountyMap",
    "RegionPreset",
    "SettlementKind",
    "SizePreset",
    "build_map",
    "default_store_coverage",
    "generate_map",
    "load_map",
    "preset_for",
    "region_preset",
    "size_preset",
    "source_files",
]
