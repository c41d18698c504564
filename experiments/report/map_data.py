"""What the maps draw of a county at the end of a run, read from the model into plain arrays.

The maps (:mod:`experiments.report.maps`) are drawn from this record rather than from the
model itself, so that `countysim run` can draw them in a worker process while the parent
writes the tables (issue 17): the model with its agents is hundreds of megabytes, this
record a few hundred kilobytes. This module imports no plotting library, so the parent
process that builds the record never loads matplotlib.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MapData:
    """A county's roads, settlements, stores, centres, express service and routes at one date.

    Attributes:
        name: The scenario's name (map titles).
        today: The model's date when the record was taken.
        x_km: Easting of every settlement (km), indexed by node.
        y_km: Northing of every settlement (km), indexed by node.
        edges: Roads as ``(u, v, road class)`` (class None where the map names none).
        villages: Node ids of the villages.
        townships: Node ids of the townships.
        stores_per_node: Open village stores at each node.
        newtype: Whether each node has an open new-type store.
        has_center: Whether each township (in the order of ``townships``) has a commerce centre.
        door_share: Share of parcels delivered to the village, by node.
        logistics_center: Whether the county town has a logistics centre.
        routes: Delivery tours as node sequences (township, stops, township).
        routes_of: Whose tours they are (the consortium's, or the largest carrier's).
        latest: The last week's indicators (empty before the first week).
    """

    name: str
    today: dt.date
    x_km: np.ndarray
    y_km: np.ndarray
    edges: tuple[tuple[int, int, str | None], ...]
    villages: np.ndarray
    townships: np.ndarray
    stores_per_node: np.ndarray
    newtype: np.ndarray
    has_center: np.ndarray
    door_share: np.ndarray
    logistics_center: bool
    routes: tuple[tuple[int, ...], ...]
    routes_of: str
    latest: dict[str, Any]


def _routes(model: Any) -> tuple[tuple[tuple[int, ...], ...], str]:
    """The consortium's tours when co-distribution runs, otherwise the largest carrier's."""
    lg = model.logistics
    if lg.consortium is not None and lg.consortium.plans and any(car.member for car in lg.carriers):
        plans, who = lg.consortium.plans, "co-distribution consortium"
    else:
        top = max(lg.carriers, key=lambda car: car.share)
        plans, who = top.plans, f"carrier {top.name}"
    tours = tuple((int(t), *map(int, plan.served), int(t)) for t, plan in plans.items() if plan.served)
    return tours, who


def map_data(model: Any) -> MapData:
    """Read what the maps draw from a model (at its current date, usually the end of a run)."""
    c = model.county
    routes, routes_of = _routes(model)
    return MapData(
        name=model.config.name,
        today=model.today,
        x_km=np.asarray(c.x_km, dtype=float),
        y_km=np.asarray(c.y_km, dtype=float),
        edges=tuple((int(u), int(v), d.get("road_class")) for u, v, d in c.graph.edges(data=True)),
        villages=np.asarray(c.villages),
        townships=np.asarray(c.townships),
        stores_per_node=model.stores_per_node(),
        newtype=model.newtype_at(),
        has_center=model.center_table.at_node[c.townships] >= 0,
        door_share=np.array(model.logistics.door_share, dtype=float),
        logistics_center=bool(model.logistics.center),
        routes=routes,
        routes_of=routes_of,
        latest=dict(model.rows[-1]) if model.rows else {},
    )


def as_map_data(model_or_data: Any) -> MapData:
    """A map record as is, or read from a model (the maps accept either)."""
    return model_or_data if isinstance(model_or_data, MapData) else map_data(model_or_data)
