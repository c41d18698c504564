"""The national ensemble: county types weighted to the nation's county count.

The plan's targets are national (about 500 leading counties, 90% of counties at basic
tier or better by 2025), so one simulated county cannot answer them. This module turns a
county typology (``configs/data/county_typology.csv``: region × size strata, each with
its number of real county units) into base scenarios for the experiment runner, one per
simulated county unit, and turns the runs table back into national indicators with
uncertainty bands.

Two ways to cover the nation (``ensemble.sample``):

- ``full``: one simulated county per real county unit (1,871 runs per replicate); each
  gets its own generated map (``map.map_seed``) and its own draw of the sampled starting
  attributes. Weight 1 each.
- ``stratified``: ``per_stratum`` counties drawn from each stratum, each standing for
  ``county_units / per_stratum`` real units. National estimates carry the stratified
  sampling error, which :func:`national_indicators` reports.

The ensemble enters the experiment spec as ``ensemble:`` in place of ``base:``; it is
expanded to an ordinary list of labelled base scenarios before the spec is validated, so
the runner, its seeds, ``--resume``, Dask and the store treat it like any other
experiment. Sampled attributes and map seeds come from ``ensemble.seed`` alone, so the
same ensemble gives the same counties on every machine.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import InputError
from sim.policy.tiers import TIER_LABELS

#: Non-district county-level units of mainland China, 2022 (MCA: 2,844 county-level
#: units minus 973 city districts; configs/data/official/official_statistics.csv).
NATIONAL_COUNTY_UNITS = 1871

#: Official series (configs/data/official/official_statistics.csv) → the national indicator
#: they are compared with; why each pairing holds is in experiments/national/calibration.py.
SERIES_INDICATOR: dict[str, str] = {
    "rural_online_retail_growth": "online_spending_growth",
    "farm_online_retail_growth": "farm_online_sales_growth",
    "express_village_coverage": "express_village_coverage",
    "leading_counties_batch": "leading_counties",
}

_COLUMNS = ("stratum", "region", "map_region", "size", "county_units", "logistics_center_share")
_REGIONS = ("east_plain", "central_hill", "west_mountain", "northeast_plain")
_SIZES = ("small", "median", "large")


@dataclass(frozen=True)
class Stratum:
    """One county type of the typology.

    Attributes:
        name: Stratum id (e.g. ``west_median``).
        region: NBS region (east, central, west, northeast).
        map_region: The map generator's region preset standing for the region's terrain.
        size: The map generator's size preset.
        county_units: Real county units of this type [count].
        logistics_center_share: Share of them with a county logistics centre at the start [0-1].
    """

    name: str
    region: str
    map_region: str
    size: str
    county_units: int
    logistics_center_share: float


def load_typology(path: str | Path, national_count: int | None = NATIONAL_COUNTY_UNITS) -> list[Stratum]:
    """Read and check a typology CSV (``#`` lines are comments).

    Args:
        path: The CSV file.
        national_count: The total the ``county_units`` must sum to (None: any total, for
            small test typologies).

    Raises:
        InputError: Missing file or column, a bad value (naming the row and column), or
            weights that do not sum to ``national_count``.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", source=p)
    try:
        df = pd.read_csv(p, comment="#", skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(f"not a readable CSV ({err})", source=p) from None
    missing = [c for c in _COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; expected {', '.join(_COLUMNS)}", source=p)
    out: list[Stratum] = []
    for i, row in df.iterrows():
        where = f"row {int(i) + 1}"
        if row["map_region"] not in _REGIONS:
            raise InputError(
                f"{where}, map_region: must be one of {', '.join(_REGIONS)} (got {row['map_region']!r})", source=p
            )
        if row["size"] not in _SIZES:
            raise InputError(f"{where}, size: must be one of {', '.join(_SIZES)} (got {row['size']!r})", source=p)
        units = pd.to_numeric(row["county_units"], errors="coerce")
        if not (np.isfinite(units) and units == int(units) and units >= 1):
            raise InputError(
                f"{where}, county_units: must be a whole number >= 1 (got {row['county_units']!r})", source=p
            )
        share = pd.to_numeric(row["logistics_center_share"], errors="coerce")
        if not (np.isfinite(share) and 0.0 <= share <= 1.0):
            raise InputError(
                f"{where}, logistics_center_share: must be a share in [0, 1] (got {row['logistics_center_share']!r})",
                source=p,
            )
        out.append(
            Stratum(
                str(row["stratum"]),
                str(row["region"]),
                str(row["map_region"]),
                str(row["size"]),
                int(units),
                float(share),
            )
        )
    names = [s.name for s in out]
    if len(set(names)) != len(names) or not out:
        raise InputError("stratum: ids must be unique and at least one row is needed", source=p)
    total = sum(s.county_units for s in out)
    if national_count is not None and total != national_count:
        raise InputError(f"county_units: sum to {total}, not the national count {national_count}", source=p)
    return out


class Attribute(BaseModel):
    """How one starting attribute of a county follows its development level ``d`` in [0, 1).

    Either a range — the value is ``low + (high - low) * d`` (a number field) — or a step —
    the field is set to ``value`` when ``d > above`` and left as the scenario (or the
    stratum) has it otherwise (a switch or a date).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: float | None = None
    high: float | None = None
    above: float | None = Field(None, ge=0.0, le=1.0)
    value: bool | float | str | dt.date | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Attribute:
        ranged = self.low is not None and self.high is not None and self.above is None and self.value is None
        stepped = self.above is not None and self.value is not None and self.low is None and self.high is None
        if not (ranged or stepped):
            raise ValueError("give either low and high (a range) or above and value (a step)")
        return self

    def at(self, d: float) -> Any:
        """The attribute's override at development level ``d`` (None: leave as it is)."""
        if self.low is not None and self.high is not None:
            return self.low + (self.high - self.low) * d
        if d > float(self.above or 0.0):
            return self.value.isoformat() if isinstance(self.value, dt.date) else self.value
        return None


class EnsembleSpec(BaseModel):
    """The ``ensemble:`` section of an experiment spec.

    Attributes:
        typology: Typology CSV, relative to the spec file.
        scenario: Scenario every county starts from (policy, timeline, behaviour), relative to the spec file.
        overrides: Dotted-path overrides for every county (e.g. households_per_agent for speed).
        sample: ``full`` (every county unit) or ``stratified`` (``per_stratum`` per type).
        per_stratum: Counties simulated per stratum when stratified [count, 2-1000]; at
            least 2 so the within-stratum variance, and hence the band, can be estimated.
        national_count: Total the typology's weights must sum to (None for a test typology).
        seed: Seed of the county draws (map seeds, logistics centre at start) [0, 2**32-1].
        years: First and last calendar year to report national indicators for.
        development: Starting attributes that follow each county's commerce development
            level (scenario path → range or step; see :class:`Attribute`). Counties differ
            in how far their commerce had come before the plan (the first batch of 123
            leading counties in November 2023 met the top tier within four months of the
            plan's start); one level per county, drawn uniformly, moves all these
            attributes together (assumption: development is one dimension).
        calibrated: A file of fitted values written by ``countysim calibrate`` (relative to
            the spec file); its values are applied on top of ``overrides`` and
            ``development`` (see :func:`apply_values`), so a projection runs the calibrated model.
        official: The official statistics CSV (relative to the spec file) whose series
            (``SERIES_INDICATOR``) the projection figure draws beside the simulated ones.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    typology: Path
    scenario: Path
    overrides: dict[str, Any] = Field(default_factory=dict)
    sample: Literal["full", "stratified"] = "stratified"
    per_stratum: int = Field(3, ge=2, le=1000)
    national_count: int | None = Field(NATIONAL_COUNTY_UNITS, ge=1)
    seed: int = Field(1, ge=0, le=2**32 - 1)
    years: tuple[int, int] = (2023, 2025)
    development: dict[str, Attribute] = Field(default_factory=dict)
    calibrated: Path | None = None
    official: Path | None = None

    @model_validator(mode="after")
    def _ordered(self) -> EnsembleSpec:
        if not 2000 <= self.years[0] <= self.years[1] <= 2100:
            raise ValueError("years must be [first, last] with 2000 <= first <= last <= 2100")
        return self


@dataclass(frozen=True)
class County:
    """One simulated county: its label in the runs table, stratum, weight, overrides and
    commerce development level (0-1, see ``EnsembleSpec.development``)."""

    label: str
    stratum: str
    weight: float
    overrides: dict[str, Any]
    development: float = 0.0


def spec_path(path: str | Path, base_dir: Path | None) -> Path:
    """A path of the ensemble section: as given when absolute (or without a spec folder),
    else relative to the folder of the spec file."""
    p = Path(path)
    return p if p.is_absolute() or base_dir is None else base_dir / p


def apply_values(ensemble: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of an ``ensemble`` section with fitted or trial values set.

    A path that starts with ``ensemble/`` names a field of the ensemble section itself,
    with ``/`` between levels (e.g. ``ensemble/development/logistics.cold_storage_at_start/above``,
    since the development keys are dotted scenario paths); any other path is a scenario
    override for every county.
    """
    ens = copy.deepcopy(dict(ensemble))
    scenario: dict[str, Any] = {}
    for path, value in values.items():
        if path.startswith("ensemble/"):
            keys = path.split("/")[1:]
            here = ens
            for k in keys[:-1]:
                nxt = here.get(k)
                if not isinstance(nxt, dict):
                    raise InputError(f"{path}: the ensemble section has no {k!r} to set a value in")
                here[k] = dict(nxt)  # copy each level on the way down: the caller's dict is untouched
                here = here[k]
            here[keys[-1]] = value
        else:
            scenario[path] = value
    ens["overrides"] = {**(ens.get("overrides") or {}), **scenario}
    return ens


def resolve_calibrated(data: Any, source: str, base_dir: Path | None) -> Any:
    """The ensemble section with the values of its ``calibrated`` file applied (if it names one)."""
    if not isinstance(data, dict) or not data.get("calibrated"):
        return data
    import yaml

    path = spec_path(data["calibrated"], base_dir)
    if not path.is_file():
        raise InputError(f"ensemble.calibrated: file not found: {path}", source=source)
    try:
        record = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise InputError(f"ensemble.calibrated: not readable YAML ({err})", source=source) from None
    values = record.get("values") if isinstance(record, dict) else None
    if not isinstance(values, dict) or not values:
        raise InputError(f"ensemble.calibrated: {path} has no 'values' mapping of fitted values", source=source)
    try:
        return apply_values(data, values)
    except InputError as err:
        raise InputError(f"ensemble.calibrated: {err.message}", source=source) from None


def parse_ensemble(data: Any, source: str) -> EnsembleSpec:
    """Validate the ``ensemble`` mapping, naming the bad field in an InputError."""
    try:
        return EnsembleSpec.model_validate(data)
    except ValidationError as err:
        e = err.errors()[0]
        loc = ".".join(str(x) for x in e["loc"])
        raise InputError(f"ensemble.{loc}: {e['msg']}", source=source) from None


def counties(ens: EnsembleSpec, base_dir: Path | None = None) -> list[County]:
    """The simulated counties of an ensemble, drawn reproducibly from ``ens.seed``.

    Each county draws its own map seed (so no two share a geography) and whether it has
    a logistics centre at the start (Bernoulli with its stratum's share), so the
    ensemble's spread covers county attributes as well as run seeds.
    """
    path = spec_path(ens.typology, base_dir)
    strata = load_typology(path, ens.national_count)
    rng = np.random.default_rng(np.random.SeedSequence(ens.seed))
    # development levels from a stream of their own, so adding them moved no other draw
    dev_rng = np.random.default_rng(np.random.SeedSequence([ens.seed, 1]))
    out: list[County] = []
    for s in strata:
        n = s.county_units if ens.sample == "full" else min(ens.per_stratum, s.county_units)
        seeds = rng.integers(0, 2**32 - 1, size=n)
        centre = rng.random(n) < s.logistics_center_share
        # stratified within the stratum too (one level in each 1/n of [0, 1)), so a small
        # sample spans the range of development instead of clustering by chance
        levels = (dev_rng.permutation(n) + dev_rng.random(n)) / n
        for k in range(n):
            ov = {
                **ens.overrides,
                "map.region": s.map_region,
                "map.size": s.size,
                "map.map_seed": int(seeds[k]),
                "logistics.center_at_start": bool(centre[k]),
            }
            for path, attr in ens.development.items():
                v = attr.at(float(levels[k]))
                if v is not None:
                    ov[path] = v
            out.append(County(f"{s.name}-{k:04d}", s.name, s.county_units / n, ov, float(levels[k])))
    return out


def expand_bases(data: Any, source: str, base_dir: Path | None) -> list[dict[str, Any]]:
    """The ``base`` list an ``ensemble`` section stands for (one labelled base per county)."""
    ens = parse_ensemble(data, source)
    return [
        {"scenario": str(ens.scenario), "overrides": c.overrides, "label": c.label} for c in counties(ens, base_dir)
    ]


# ---------------------------------------------------------------------------
# national indicators


def year_metrics(start_year: int, end_year: int) -> list[dict[str, Any]]:
    """The metrics a national ensemble needs, per calendar year (for an experiment spec).

    Tier and express coverage are read at 31 December; leading status is the maximum
    from the start to 31 December (ever recommended, i.e. cumulative after each November
    review); spending, online share and farm online sales are weekly means over the year.
    """
    out: list[dict[str, Any]] = []
    for y in range(start_year, end_year + 1):
        dec = dt.date(y, 12, 31).isoformat()
        out += [
            {"indicator": "county_tier", "stat": "at", "date": dec, "name": f"tier_{y}"},
            {"indicator": "leading_county", "stat": "max", "to": dec, "name": f"leading_{y}"},
            {"indicator": "express_village_coverage", "stat": "at", "date": dec, "name": f"express_{y}"},
            {"indicator": "household_spending", "stat": "mean", "year": y, "name": f"spending_{y}"},
            {"indicator": "online_share", "stat": "mean", "year": y, "name": f"online_share_{y}"},
            {"indicator": "farm_online_sales", "stat": "mean", "year": y, "name": f"farm_online_{y}"},
        ]
    return out


def _years(runs: pd.DataFrame) -> list[int]:
    return sorted(int(c.split("_")[1]) for c in runs.columns if c.startswith("tier_"))


def _county_values(runs: pd.DataFrame, y: int) -> dict[str, pd.Series]:
    """Per-run quantities whose weighted national mean (or total) is an indicator."""
    tier = runs[f"tier_{y}"]
    vals = {f"share_tier_{name}": (tier.round() == code).astype(float) for code, name in TIER_LABELS.items()}
    vals["share_basic_or_better"] = (tier.round() >= 1).astype(float)
    vals["leading_counties"] = runs[f"leading_{y}"].astype(float)
    vals["express_village_coverage"] = runs[f"express_{y}"].astype(float)
    vals["online_spending"] = runs[f"spending_{y}"] * runs[f"online_share_{y}"]
    vals["farm_online_sales"] = runs[f"farm_online_{y}"].astype(float)
    return vals


#: National indicators that are totals over counties (the others are county-weighted means).
_TOTALS = ("leading_counties", "online_spending", "farm_online_sales")


def _estimate(values: pd.Series, strata: pd.Series, weights: pd.Series, total: bool) -> tuple[float, float]:
    """Weighted national estimate and its stratified-sampling standard error.

    Standard stratified estimator of a total, sum_h N_h ybar_h, with variance
    sum_h N_h^2 (1 - n_h/N_h) s_h^2 / n_h (Cochran 1977, ch. 5); a mean divides both by N.
    A full ensemble (n_h = N_h) has no sampling error.
    """
    est = 0.0
    var = 0.0
    n_units = 0.0
    for _, idx in values.groupby(strata).groups.items():
        v = values.loc[idx]
        n = len(v)
        big_n = float(weights.loc[idx].sum())
        n_units += big_n
        est += big_n * float(v.mean())
        if n > 1:
            var += big_n**2 * max(0.0, 1 - n / big_n) * float(v.var(ddof=1)) / n
    if not total:
        est, var = est / n_units, var / n_units**2
    return est, math.sqrt(var)


def national_indicators(runs: pd.DataFrame, weights: dict[str, float], strata: dict[str, str]) -> pd.DataFrame:
    """National indicators by year with bands over seeds and sampled counties.

    Args:
        runs: The experiment's runs table (ok runs are used), with the columns of
            :func:`year_metrics`.
        weights: Real county units each base label stands for.
        strata: Stratum of each base label.

    Returns:
        One row per (year, indicator): ``mean`` over replicates of the national estimate,
        ``se`` (sampling error, root mean square over replicates, combined with the spread
        between replicates), ``low``/``high`` = mean ∓ 1.96·se, and for the growth rows
        (``online_spending_growth``, ``farm_online_sales_growth``) the year-on-year
        growth of the national total. Growth of a year whose previous year is a part year
        mixes seasons; read it only for full years.
    """
    ok = runs[runs["status"] == "ok"].copy()
    ok["_w"] = ok["base"].map(weights)
    ok["_s"] = ok["base"].map(strata)
    rows: list[dict[str, Any]] = []
    per_rep: dict[tuple[int, str], list[tuple[float, float]]] = {}
    years = _years(ok)
    for _rep, grp in ok.groupby("replicate"):
        for y in years:
            for name, v in _county_values(grp, y).items():
                per_rep.setdefault((y, name), []).append(_estimate(v, grp["_s"], grp["_w"], name in _TOTALS))
    for (y, name), pairs in per_rep.items():
        row = _band(y, name, [p[0] for p in pairs], [p[1] for p in pairs])
        if name not in _TOTALS:  # shares: a normal band must not leave [0, 1]
            row["low"], row["high"] = max(0.0, row["low"]), min(1.0, row["high"])
        else:  # counts and spending cannot be negative either
            row["low"] = max(0.0, row["low"])
        rows.append(row)
    for name in ("online_spending", "farm_online_sales"):
        for y in years[1:]:
            now, before = per_rep[(y, name)], per_rep[(y - 1, name)]
            g = [a[0] / b[0] - 1 if b[0] > 0 else float("nan") for a, b in zip(now, before, strict=True)]
            # delta method, errors of the two years treated as independent (conservative)
            se = [
                (a[0] / b[0]) * math.hypot(a[1] / a[0] if a[0] else 0.0, b[1] / b[0]) if b[0] > 0 else float("nan")
                for a, b in zip(now, before, strict=True)
            ]
            rows.append(_band(y, f"{name}_growth", g, se))
    return pd.DataFrame(rows).sort_values(["indicator", "year"]).reset_index(drop=True)


def _band(year: int, name: str, estimates: list[float], ses: list[float]) -> dict[str, Any]:
    est = np.asarray(estimates, dtype=float)
    mean = float(np.mean(est))
    between = float(np.var(est, ddof=1)) if len(est) > 1 else 0.0
    se = math.sqrt(float(np.mean(np.square(ses))) + between)
    return {
        "year": year,
        "indicator": name,
        "mean": mean,
        "se": se,
        "low": mean - 1.96 * se,
        "high": mean + 1.96 * se,
        "replicates": len(est),
    }


def write_national(ensemble: dict[str, Any], base_dir: Path | None, folder: str | Path) -> pd.DataFrame:
    """Write ``counties.csv`` (label, stratum, weight) and ``national.csv`` for a finished ensemble.

    Args:
        ensemble: The spec's ``ensemble`` section (as validated data).
        base_dir: Folder of the spec file (its relative paths start there).
        folder: The experiment folder holding ``runs.parquet``.
    """
    from experiments.run.store import read_runs

    folder = Path(folder)
    cs = counties(parse_ensemble(ensemble, str(folder)), base_dir)
    pd.DataFrame(
        [{"base": c.label, "stratum": c.stratum, "weight": c.weight, "development": c.development} for c in cs]
    ).to_csv(folder / "counties.csv", index=False)
    table = national_indicators(read_runs(folder), {c.label: c.weight for c in cs}, {c.label: c.stratum for c in cs})
    table.to_csv(folder / "national.csv", index=False)
    from experiments.report.plots import save

    figures = folder / "figures"
    figures.mkdir(exist_ok=True)
    ens = parse_ensemble(ensemble, str(folder))
    official = None if ens.official is None else official_points(spec_path(ens.official, base_dir), str(folder))
    save(projection_figure(table, official), figures, "national_projection")
    return table


def official_points(csv: Path, source: str) -> pd.DataFrame:
    """The official values of the series the ensemble is compared with: year, indicator, value."""
    if not csv.is_file():
        raise InputError(f"ensemble.official: file not found: {csv}", source=source)
    df = pd.read_csv(csv)
    df = df[df["series"].isin(list(SERIES_INDICATOR))]
    return pd.DataFrame(
        {"year": df["year"].astype(int), "indicator": df["series"].map(SERIES_INDICATOR), "value": df["value"]}
    )


#: The plan's national 2025 targets the projection figure is set against: about 500
#: leading counties and 90% of counties at basic tier or better (Three-Year Action Plan,
#: 2023-07; DESIGN.md and issue 8).
PLAN_TARGETS: dict[str, float] = {"leading_counties": 500.0, "share_basic_or_better": 0.9}


def projection_figure(national: pd.DataFrame, official: pd.DataFrame | None = None) -> Any:
    """National indicators by year with 95% bands, against the plan's 2025 targets.

    Four panels: cumulative leading counties (target ~500), share of counties at basic
    tier or better (target 90%), express coverage of villages, and year-on-year growth of
    online spending and farm online sales; with ``official`` (see :func:`official_points`)
    the reported values as black marks beside the simulated ones.
    """
    import matplotlib.pyplot as plt

    from experiments.report.plots import configure_fonts

    configure_fonts()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    panels = [
        ("leading_counties", "Leading counties (cumulative, after November)", None),
        ("share_basic_or_better", "Share of counties at basic tier or better", None),
        ("express_village_coverage", "Express coverage of administrative villages", None),
        ("online_spending_growth", "Year-on-year growth", "farm_online_sales_growth"),
    ]
    for ax, (name, title, second) in zip(axes.flat, panels, strict=True):
        for ind, colour in ((name, "C0"), (second, "C1")):
            if ind is None:
                continue
            d = national[national["indicator"] == ind].sort_values("year")
            if d.empty:
                continue
            ax.fill_between(d["year"], d["low"], d["high"], color=colour, alpha=0.25, label=f"{ind} 95% band")
            ax.plot(d["year"], d["mean"], "o-", color=colour, label=ind)
            if official is not None:
                o = official[
                    (official["indicator"] == ind) & official["year"].between(d["year"].min(), d["year"].max())
                ]
                if not o.empty:
                    marker = "s" if colour == "C0" else "D"
                    ax.plot(o["year"], o["value"], marker, color="black", mfc="none", label=f"official: {ind}")
        if name in PLAN_TARGETS:
            ax.axhline(PLAN_TARGETS[name], color="red", ls="--", label=f"plan target 2025: {PLAN_TARGETS[name]:g}")
        ax.set_title(title, fontsize=10)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if ax.get_legend_handles_labels()[0]:  # a panel whose indicator was not computed stays empty
            ax.legend(fontsize=7)
    fig.suptitle("National ensemble projection against the plan's targets")
    fig.tight_layout()
    return fig
