"""What an indicator is, and the helper functions that read indicators off the model,
behind the definitions table in :mod:`sim.policy.indicators`.

Each helper returns one number for the week just stepped (or, for the factories, a
function that does). Household readings are over rural households (those living in
administrative villages), weighted by the real households each agent stands for.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from sim.agents.store import NEWTYPE
from sim.markets.kinds import Channel, FarmChannel

if TYPE_CHECKING:
    from sim.model import CountyModel


@dataclass(frozen=True)
class Indicator:
    """One reported quantity.

    Attributes:
        name: Column name in every output.
        zh: The Chinese term.
        unit: Unit of measure.
        meaning: One line saying what it measures.
        summary: How the final-year summary is taken: ``last`` (a stock at the end),
            ``mean`` (a weekly rate averaged over the last 52 weeks) or ``sum`` (a weekly
            count added up over the last 52 weeks).
        compute: Reads the value off the model after a step.
    """

    name: str
    zh: str
    unit: str
    meaning: str
    summary: Literal["last", "mean", "sum"]
    compute: Callable[[CountyModel], float]

    @property
    def summary_unit(self) -> str:
        """Unit of the final-year summary (a weekly count added over a year is per year)."""
        return self.unit.replace("/week", "/year") if self.summary == "sum" else self.unit


def rural_weights(model: CountyModel) -> tuple[np.ndarray, float]:
    """Each row's weight among rural households (0 for the others) and their total.

    Place and weight never change during a run, so both are worked out once per run
    (six household indicators read them every week).
    """
    hh = model.households
    w = hh.derived(("rural_weights",), lambda: hh.weight * hh.rural)
    return w, hh.derived(("rural_weight_total",), lambda: float(w.sum()))


def rural_mean(model: CountyModel, values: np.ndarray) -> float:
    """Mean of a per-household value over rural households (weighted; 0 without any)."""
    w, total = rural_weights(model)
    return float((values * w).sum() / total) if total > 0 else 0.0


#: per model, each flag column's contents when its rural share was last read, and that share
_FLAG_SHARES: weakref.WeakKeyDictionary[CountyModel, dict[str, tuple[np.ndarray, float]]] = weakref.WeakKeyDictionary()


def rural_flag_share(column: str) -> Callable[[CountyModel], float]:
    """Reads the share of rural households (weighted) whose flag ``column`` is set.

    Who buys or sells online changes once a month, so the share is kept, per model,
    until the column's contents change: the same number as reading it every week.
    """

    def f(model: CountyModel) -> float:
        flag = getattr(model.households, column)
        kept = _FLAG_SHARES.setdefault(model, {})
        last = kept.get(column)
        if last is not None and np.array_equal(last[0], flag):
            return last[1]
        value = rural_mean(model, flag.astype(float))
        kept[column] = (flag.copy(), value)
        return value

    return f


def share_true(flags: list[bool]) -> float:
    """Share of true flags (0 for none)."""
    return float(np.mean(flags)) if flags else 0.0


def farm_receipts(model: CountyModel) -> np.ndarray:
    """This week's farm receipts per household row (zero for non-rural households)."""
    out = np.zeros(len(model.households))
    out[model.farm.rows] = model.farm.week["per_household"]
    return out


def farm_channel_share(k: FarmChannel) -> Callable[[CountyModel], float]:
    """Reads the share of this week's farm sales (farm-gate value) through channel ``k``."""

    def f(model: CountyModel) -> float:
        sold = model.farm.week["by_channel"]
        total = float(np.sum(sold))
        return float(sold[k] / total) if total > 0 else 0.0

    return f


def channel_share(i: Channel) -> Callable[[CountyModel], float]:
    """Reads the share of this week's rural everyday spending through channel ``i``."""

    def f(model: CountyModel) -> float:
        spend = model.week["channel_spend_rural"]
        total = spend.sum()
        return float(spend[i] / total) if total > 0 else 0.0

    return f


def villages_with_store(model: CountyModel) -> float:
    """Share of villages with at least one open store."""
    v = model.county.villages
    return float(np.mean(model.stores_per_node()[v] > 0)) if len(v) else 0.0


def open_store_share(model: CountyModel, column: str, value: object = True) -> float:
    """Share of open stores whose ``column`` equals ``value`` (0 without stores)."""
    t = model.store_table
    rows = t.open_rows()
    return float(np.mean(getattr(t, column)[rows] == value)) if len(rows) else 0.0


def newtype_share(model: CountyModel) -> float:
    """Share of open stores at the new-type standard."""
    return open_store_share(model, "kind", NEWTYPE)


def service_point_share(model: CountyModel) -> float:
    """Share of open stores that act as parcel service points: one per village with a
    store and door delivery (its first store)."""
    t = model.store_table
    rows = t.open_rows()
    if not len(rows):
        return 0.0
    first = t.first_rows(model.county.n)
    return float(np.count_nonzero((first >= 0) & (model.logistics.door_share > 0)) / len(rows))


def center_coverage(model: CountyModel) -> float:
    """Share of townships with a commerce centre."""
    t = model.county.townships
    return float(np.mean(model.center_table.at_node[t] >= 0)) if len(t) else 0.0


def villages_with_newtype(model: CountyModel) -> float:
    """Share of villages with at least one open new-type store."""
    v = model.county.villages
    if not len(v):
        return 0.0
    has = model.newtype_at()
    return float(has[v].mean())


def subsidy_spent(programme: str) -> Callable[[CountyModel], float]:
    """Reads what ``programme`` has paid out since the start."""
    return lambda m: m.government.spent[programme]


def criterion_level(name: str) -> Callable[[CountyModel], float]:
    """Reads this week's level on the criteria's thresholds for indicator ``name`` (3 when
    the criteria set none)."""
    return lambda m: float(m.evaluator.levels_now.get(name, 3))
