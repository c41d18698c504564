"""The runs table's columns: part of what a spec promises its reader.

Every runs table has the same head (which run, where in the design, which seed) and tail
(how it went), with the spec's lever and metric columns between them. A spec may not name
a metric after one of these columns, so the spec layer owns them; the store
(:mod:`experiments.run.store`) writes tables of this schema.
"""

from __future__ import annotations

import pyarrow as pa

#: Columns every runs table has, around the lever and metric columns.
HEAD_COLUMNS: dict[str, pa.DataType] = {
    "run_id": pa.int64(),
    "point": pa.int64(),
    "replicate": pa.int64(),
    "base": pa.string(),
    "seed": pa.int64(),
}
TAIL_COLUMNS: dict[str, pa.DataType] = {
    "status": pa.string(),
    "error": pa.string(),
    "wall_seconds": pa.float64(),
    "worker": pa.string(),
    "traceback": pa.string(),
}
RESERVED_COLUMNS: tuple[str, ...] = (*HEAD_COLUMNS, *TAIL_COLUMNS)

#: Arrow type of each lever column kind; "json" holds mixed values as JSON text.
LEVER_TYPES: dict[str, pa.DataType] = {
    "bool": pa.bool_(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "str": pa.string(),
    "date": pa.string(),
    "json": pa.string(),
}


def table_schema(levers: dict[str, pa.DataType], metrics: dict[str, pa.DataType]) -> pa.Schema:
    """The runs table's schema: head columns, levers, metrics, then status and timings."""
    return pa.schema([*HEAD_COLUMNS.items(), *levers.items(), *metrics.items(), *TAIL_COLUMNS.items()])
