"""A live page for one county: Mesa's SolaraViz with the county map, sliders for the main
levers, step / run / reset, and charts of the main indicators as the weeks go by.

Start it with ``countysim viz`` (or ``solara run experiments.viz.app``). Researchers use it to get a
feel for a county before they commit to a sweep, so it favours speed over fidelity: a
small county with several households per agent unless told otherwise.

SolaraViz rebuilds a model on Reset by calling the model class with the sliders' values
as keyword arguments, while :class:`~sim.model.CountyModel` takes a validated scenario.
:class:`CountyViz` is the adapter: a CountyModel whose keyword arguments are the levers,
applied on top of a base scenario. The base is the schema's defaults (small map, eight
households per agent), or a scenario file and overrides handed over by ``countysim viz``
in the environment variables :data:`ENV_SCENARIO` and :data:`ENV_OVERRIDES`.

Only ``sim`` is imported here (never ``experiments``); the drawings read the model's
public state and hold no model logic.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
from pathlib import Path
from typing import Any, get_args

import matplotlib

matplotlib.use("Agg")
import solara
from matplotlib import font_manager
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.config import Region, Scenario, apply_overrides, criteria_for, load_scenario, scenario_from_dict
from sim.errors import InputError
from sim.model import CountyModel
from sim.policy.indicators import BY_NAME

#: Scenario file the page starts from (set by ``countysim viz SCENARIO``).
ENV_SCENARIO = "COUNTYSIM_VIZ_SCENARIO"
#: JSON list of ``path=value`` overrides applied to it (``countysim viz --set``).
ENV_OVERRIDES = "COUNTYSIM_VIZ_SET"

#: What the page runs when no scenario is given: a small county, eight households per agent.
QUICK: dict[str, Any] = {
    "name": "live county",
    "map": {"size": "small"},
    "population": {"households_per_agent": 8},
    "outputs": {"figures": False, "progress": "off"},
}

#: Slider name → the scenario field it sets (dotted path).
SLIDER_LEVERS: dict[str, str] = {
    "store_upgrade_subsidy": "policy.store_upgrade_subsidy",
    "village_delivery_fee": "carriers.village_delivery_fee",
    "codistribution": "policy.codistribution.enabled",
    "training_capacity_per_month": "anchors.training_capacity_per_month",
    "region": "map.region",
    "households_per_agent": "population.households_per_agent",
}
#: The region presets the region selector offers.
REGION_CHOICES: tuple[str, ...] = get_args(Region)

#: Indicators on the live charts: (name, short label, line style, marker).
COVERAGE = (
    ("express_village_coverage", "express to villages", "-", "o"),
    ("store_village_coverage", "villages with a store", "--", "s"),
    ("township_center_coverage", "townships with a centre", ":", "^"),
    ("newtype_store_share", "new-type stores", "-.", "D"),
)
FLOWS = (
    ("online_share", "online share of spending", "-", "o"),
    ("codistribution_parcel_share", "co-distributed parcels", "--", "s"),
    ("service_point_share", "stores as parcel points", ":", "^"),
    ("village_door_parcel_share", "parcels to the village door", "-.", "D"),
)


def _register_cjk_font() -> None:
    """Use the bundled CJK font (package mplfonts) for Chinese terms in the drawings."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "NotoSansCJKsc-Regular.otf"
    if path.is_file():
        font_manager.fontManager.addfont(str(path))
        matplotlib.rcParams["font.family"] = ["DejaVu Sans", font_manager.FontProperties(fname=str(path)).get_name()]


_register_cjk_font()


# --- the model adapter -------------------------------------------------------------------------


def base_data(path: str | Path | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    """The base scenario as raw data: a scenario file with overrides, else QUICK with them.

    Args:
        path: Scenario file (default: :data:`ENV_SCENARIO`, if set).
        overrides: ``path=value`` strings (default: the JSON list in :data:`ENV_OVERRIDES`).

    Raises:
        InputError: The file or an override is invalid (``countysim viz`` checks this before
            it starts the server, so the page itself never sees a bad base).
    """
    if path is None and overrides is None:
        path = os.environ.get(ENV_SCENARIO) or None
        overrides = json.loads(os.environ.get(ENV_OVERRIDES) or "[]")
    overrides = overrides or []
    if path:
        scenario = load_scenario(path, overrides)
        data = scenario.canonical()
        data["_base_dir"] = str(Path(path).resolve().parent)
        return data
    return apply_overrides(copy.deepcopy(QUICK), overrides)


def scenario_for(base: dict[str, Any] | None = None, **levers: Any) -> Scenario:
    """The base scenario with the sliders' values applied.

    Args:
        base: Raw scenario data (default :func:`base_data`).
        **levers: Slider name → value (names in :data:`SLIDER_LEVERS`).
    """
    data = copy.deepcopy(base if base is not None else base_data())
    base_dir = data.pop("_base_dir", None)
    unknown = sorted(set(levers) - set(SLIDER_LEVERS))
    if unknown:
        raise InputError(f"unknown lever(s) {unknown}; the page has {sorted(SLIDER_LEVERS)}", source="live page")
    apply_overrides(data, {SLIDER_LEVERS[k]: v for k, v in levers.items()})
    return scenario_from_dict(data, source="live page", base_dir=Path(base_dir) if base_dir else None)


def lever_defaults(base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Each slider's starting value: the base scenario's value of its field."""
    flat = scenario_for(base).canonical()
    out = {}
    for name, path in SLIDER_LEVERS.items():
        node: Any = flat
        for key in path.split("."):
            node = node[key]
        out[name] = node
    return out


class CountyViz(CountyModel):
    """A CountyModel built from slider values, which is how SolaraViz makes models.

    Args:
        store_upgrade_subsidy: Share of a store upgrade paid by the programme.
        village_delivery_fee: Carriers' extra fee per parcel delivered into the village (yuan).
        codistribution: Whether co-distribution runs at the county logistics centre.
        training_capacity_per_month: Households the e-commerce centre trains per month.
        region: Region preset of the generated county.
        households_per_agent: Real households per household agent (more is faster).
        seed: The run seed.
    """

    def __init__(
        self,
        store_upgrade_subsidy: float | None = None,
        village_delivery_fee: float | None = None,
        codistribution: bool | None = None,
        training_capacity_per_month: int | None = None,
        region: str | None = None,
        households_per_agent: int | None = None,
        seed: int = 1,
    ):
        given = {
            "store_upgrade_subsidy": store_upgrade_subsidy,
            "village_delivery_fee": village_delivery_fee,
            "codistribution": codistribution,
            "training_capacity_per_month": training_capacity_per_month,
            "region": region,
            "households_per_agent": households_per_agent,
        }
        scenario = scenario_for(**{k: v for k, v in given.items() if v is not None})
        super().__init__(scenario, seed=int(seed))
        self.levers = given

    def step(self) -> None:
        """One week; the page's play button stops at the end of the timeline."""
        if self.steps > self.n_weeks:  # Mesa counts the step before calling this
            self.running = False
            return
        super().step()
        if self.steps >= self.n_weeks:
            self.running = False


# --- drawings ----------------------------------------------------------------------------------


def draw_map(model: CountyModel) -> Figure:
    """The county now: villages by store and express service, township centres, roads."""
    c = model.county
    fig = Figure(figsize=(7.0, 4.6), dpi=85)
    ax = fig.add_subplot()
    segs = [[(c.x_km[u], c.y_km[u]), (c.x_km[v], c.y_km[v])] for u, v in c.graph.edges()]
    ax.add_collection(LineCollection(segs, colors="0.75", linewidths=0.6, zorder=1))
    v = c.villages
    per_node = model.stores_per_node()
    newtype = model.newtype_at()
    door = model.logistics.door_share[v] > 0
    groups = (
        ("no store", per_node[v] == 0, "white", "X"),
        ("traditional store", (per_node[v] > 0) & ~newtype[v], "0.6", "o"),
        ("new-type store", newtype[v], "black", "s"),
    )
    for label, mask, color, marker in groups:
        idx = v[mask]
        ax.scatter(c.x_km[idx], c.y_km[idx], s=26, c=color, marker=marker, edgecolors="black", linewidths=0.6, zorder=3)
        ax.scatter([], [], s=26, c=color, marker=marker, edgecolors="black", label=f"{label} ({int(mask.sum())})")
    no_door = v[~door]
    ax.scatter(
        c.x_km[no_door],
        c.y_km[no_door],
        s=110,
        facecolors="none",
        edgecolors="black",
        linewidths=0.9,
        linestyle="--",
        zorder=2,
        label=f"no express into the village ({len(no_door)})",
    )
    t = c.townships
    centre = model.center_table.at_node[t] >= 0
    ax.scatter(c.x_km[t[centre]], c.y_km[t[centre]], s=90, marker="^", c="black", zorder=4, label="township centre")
    ax.scatter(
        c.x_km[t[~centre]], c.y_km[t[~centre]], s=90, marker="^", c="white", edgecolors="black", zorder=4,
        label="township, no centre",
    )  # fmt: skip
    town = "county town" + (" + logistics centre" if model.logistics.center else "")
    ax.scatter([c.x_km[0]], [c.y_km[0]], s=240, marker="*", c="black", zorder=5, label=town)
    ax.set_aspect("equal")
    ax.set_xlabel("km east")
    ax.set_ylabel("km north")
    ax.set_title(f"{model.config.map.region.replace('_', ' ')} county, {_when(model)}", fontsize=10)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def _when(model: CountyModel) -> str:
    if not model.rows:
        return "before week 1"
    return f"week {model.rows[-1]['step']} ({model.rows[-1]['date']:%Y-%m-%d})"


def reference_lines(model: CountyModel) -> dict[str, list[float]]:
    """Thresholds drawn on the charts: the scenario's criteria file's 2025 targets and basic
    tier (the same file that rates the county, so the page and the rating agree)."""
    crit = criteria_for(model.config).criteria
    out: dict[str, list[float]] = {}
    for item in (*crit.targets_2025.items, *crit.tiers.basic):
        if item.op == ">=" and item.threshold is not None:
            out.setdefault(item.indicator, []).append(float(item.threshold))
    return out


def draw_chart(model: CountyModel, series: tuple[tuple[str, str, str, str], ...], title: str) -> Figure:
    """Weekly indicators so far, with the 2025 lines where they apply."""
    fig = Figure(figsize=(6.4, 3.8), dpi=85)
    ax = fig.add_subplot()
    rows = model.rows
    lines = reference_lines(model)
    dates = [r["date"] for r in rows]
    for name, label, ls, marker in series:
        values = [r[name] for r in rows]
        ax.plot(dates, values, ls=ls, marker=marker, markevery=max(1, len(rows) // 8), ms=4, color="black",
                label=f"{label} ({BY_NAME[name].zh})")  # fmt: skip
        for value in lines.get(name, []):
            ax.axhline(value, color="0.5", lw=0.8, ls=ls)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlim(model.dates[0], model.dates[-1])
    ax.set_ylabel("share")
    ax.set_title(f"{title}, {_when(model)}", fontsize=10)
    ax.legend(loc="lower right", fontsize=6.5, framealpha=0.85)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


# --- page components -------------------------------------------------------------------------


@solara.component
def CountyMapView(model: CountyModel) -> None:  # noqa: N802 (Solara components are PascalCase)
    """The county map, redrawn after every step."""
    update_counter.get()
    with solara.Card("County map", classes=["countysim-map"]):
        solara.FigureMatplotlib(draw_map(model), format="png", dependencies=[update_counter.value, id(model)])


@solara.component
def CoverageChart(model: CountyModel) -> None:  # noqa: N802
    """Coverage indicators against their 2025 lines (grey)."""
    update_counter.get()
    with solara.Card("Coverage", classes=["countysim-coverage"]):
        solara.FigureMatplotlib(
            draw_chart(model, COVERAGE, "Coverage (grey: 2025 lines)"),
            format="png",
            dependencies=[update_counter.value, id(model)],
        )


@solara.component
def FlowChart(model: CountyModel) -> None:  # noqa: N802
    """Online buying and parcel flows."""
    update_counter.get()
    with solara.Card("Online buying and parcels", classes=["countysim-flows"]):
        solara.FigureMatplotlib(
            draw_chart(model, FLOWS, "Online buying and parcels"),
            format="png",
            dependencies=[update_counter.value, id(model)],
        )


@solara.component
def Numbers(model: CountyModel) -> None:  # noqa: N802
    """This week's values as a table (also what the browser test reads)."""
    update_counter.get()
    last = model.rows[-1] if model.rows else None
    levers = ", ".join(f"{k}={v}" for k, v in model.levers.items() if v is not None)
    rows = "".join(
        f"<tr><td>{label}</td><td class='countysim-{name}' style='text-align:right'>"
        f"{f'{last[name]:.3f}' if last else '–'}</td></tr>"
        for name, label, *_ in (*COVERAGE, *FLOWS)
    )
    body = (
        f"<p><b class='countysim-when'>{_when(model)}</b></p><p class='countysim-levers'>levers: {levers}</p>"
        f"<table><tr><th>indicator</th><th>now</th></tr>{rows}</table>"
    )
    with solara.Card("This week", classes=["countysim-numbers"]):
        # plain HTML: solara.Markdown would fetch a diagram library the page does not need
        solara.HTML(tag="div", unsafe_innerHTML=body)


def model_params(base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The sliders, starting at the base scenario's values."""
    d = lever_defaults(base)
    return {
        "store_upgrade_subsidy": {
            "type": "SliderFloat",
            "value": d["store_upgrade_subsidy"],
            "label": "Store subsidy (share)",
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
        },
        "village_delivery_fee": {
            "type": "SliderFloat",
            "value": d["village_delivery_fee"],
            "label": "Village fee (yuan/parcel)",
            "min": 0.0,
            "max": 3.0,
            "step": 0.1,
        },
        "codistribution": {"type": "Checkbox", "value": d["codistribution"], "label": "Co-distribution"},
        "training_capacity_per_month": {
            "type": "SliderInt",
            "value": d["training_capacity_per_month"],
            "label": "Training (hh/month)",
            "min": 0,
            "max": 500,
            "step": 10,
        },
        "region": {"type": "Select", "value": d["region"], "values": list(REGION_CHOICES), "label": "Region"},
        "households_per_agent": {
            "type": "SliderInt",
            "value": d["households_per_agent"],
            "label": "Households/agent",
            "min": 1,
            "max": 50,
            "step": 1,
        },
        "seed": {"type": "SliderInt", "value": 1, "label": "Seed", "min": 0, "max": 99, "step": 1},
    }


@solara.component
def Page() -> None:  # noqa: N802
    """The page: one model per browser session, built from the sliders' starting values."""
    params = solara.use_memo(model_params, [])
    model = solara.use_memo(lambda: CountyViz(**{k: p["value"] for k, p in params.items()}), [])
    SolaraViz(
        model,
        components=[(CountyMapView, 0), (CoverageChart, 0), (Numbers, 0), (FlowChart, 0)],
        model_params=params,
        name="countysim: one county under the Three-Year Action Plan",
        play_interval=150,
    )


page = Page
