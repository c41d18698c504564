"""Analysis results as plain JSON data: NumPy scalars as Python numbers, NaN and NA as null.

Every analysis module writes its results to JSON (``sensitivity.json``, ``attainment.json``,
``prim_boxes.json``) through these two functions, so that a NaN never reaches a JSON file
(where it is not valid) and a NumPy integer never stops :mod:`json`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as JSON-ready dicts (see :func:`jsonable`)."""
    return [{k: jsonable(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def jsonable(v: Any) -> Any:
    """``v`` with every NumPy scalar made a Python one and every non-finite float or NA made None,
    through dicts (keys become strings), lists and tuples."""
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v) if math.isfinite(v) else None
    if v is pd.NA or v is pd.NaT:
        return None
    return v
