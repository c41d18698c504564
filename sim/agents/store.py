"""Village stores (村级便民商店): traditional shops and standardised new-type stores.

A store earns a gross margin on what the village's households spend with it, pays for
restocking (cheaper when a chain supplies it, and cheaper again with digital stock and
ordering tools) and its fixed costs, and keeps cash. Once a month it may join a chain's
supply (the chain_supply programme may pay part of the chain's fee), upgrade to the
new-type standard (with the store_upgrade subsidy), adopt digital tools (with the
sme_digital subsidy), or close after sustained losses; it closes at once if its cash
runs out, so negative cash never goes unrecorded.

As with households, the state of every store lives in one :class:`StoreTable` (a NumPy
column per attribute, one row per store that ever opened; closed rows stay, flagged), so
booking a week and the monthly decisions are array passes over all stores at once
(:mod:`sim.markets.sellers`, :mod:`sim.agents.store_month`). Each open store is still a
Mesa agent — :class:`VillageStore` — fixed to its village's cell, whose attributes read
and write its row, so Mesa's agent sets and the live page see stores.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np
from mesa.discrete_space import FixedAgent

from sim.geography import default_store_coverage

if TYPE_CHECKING:
    from sim.agents.retailer import ChainRetailer
    from sim.config.stores import StoresConfig
    from sim.model import CountyModel


class StoreKind(IntEnum):
    """A store's standard (the ``kind`` column)."""

    TRADITIONAL = 0
    NEWTYPE = 1

    @property
    def label(self) -> str:
        """The kind's name in outputs (``traditional``, ``newtype``)."""
        return self.name.lower()


TRADITIONAL, NEWTYPE = StoreKind.TRADITIONAL, StoreKind.NEWTYPE
STORE_KINDS = tuple(StoreKind)

#: The table's columns and their types (see :class:`StoreTable`).
COLUMNS: dict[str, Any] = {
    "node": np.int64,
    "serial": np.int64,
    "key": np.uint64,
    "kind": np.int8,
    "chain": np.int64,
    "digital": bool,
    "cash": float,
    "hurdle": float,
    "revenue_week": float,
    "service_income_week": float,
    "profit_week": float,
    "month_profit": float,
    "loss_months": np.int64,
    "open": bool,
    "opened_step": np.int64,
}


class StoreTable:
    """Every village store that opened during a run, one row each, in opening order.

    Columns are attributes of length ``len(table)`` (views onto buffers that grow by
    doubling as stores enter, so an entrant costs amortised constant time); rows of
    closed stores stay, with ``open`` false. Values derived from the open rows and their
    kinds are kept (:meth:`cached`), so whoever writes ``kind`` calls :meth:`changed`.

    Attributes:
        node: The village's settlement index.
        serial: How many stores the village had had before this one (with ``node``, the
            store's identity for its random draws).
        key: The hash of (run seed, stream, node, serial) its draws start from
            (:func:`store_key`, :func:`store_uniforms`).
        kind: :class:`StoreKind` value.
        chain: Index of the supplying chain retailer, -1 for none.
        digital: Uses digital stock and ordering tools (lower restocking cost).
        cash: Cash on hand (yuan).
        hurdle: The owner's required return multiplier (1 = invests when payback is met).
        revenue_week, service_income_week, profit_week: Last week's books (yuan).
        month_profit: Profit so far this month; loss_months: consecutive loss months.
        open: False once the store has exited.
        opened_step: Model step at which it opened (0 for the starting network).
    """

    node: np.ndarray
    serial: np.ndarray
    key: np.ndarray
    kind: np.ndarray
    chain: np.ndarray
    digital: np.ndarray
    cash: np.ndarray
    hurdle: np.ndarray
    revenue_week: np.ndarray
    service_income_week: np.ndarray
    profit_week: np.ndarray
    month_profit: np.ndarray
    loss_months: np.ndarray
    open: np.ndarray
    opened_step: np.ndarray

    def __init__(self, capacity: int = 64):
        self._buffers = {name: np.zeros(max(capacity, 1), dtype=dt) for name, dt in COLUMNS.items()}
        self._n = 0
        self._version = 0  # bumped whenever the set of open rows changes
        self._cache: dict[str, tuple[int, Any]] = {}
        self._bind()

    def __len__(self) -> int:
        return self._n

    def _bind(self) -> None:
        for name, buf in self._buffers.items():
            setattr(self, name, buf[: self._n])

    def add(
        self,
        node: np.ndarray,
        serial: np.ndarray,
        key: np.ndarray,
        kind: np.ndarray,
        cash: float,
        hurdle: np.ndarray,
        step: int,
    ) -> np.ndarray:
        """Append open stores (all other columns start at zero, unchained, not digital).

        Returns:
            The new rows.
        """
        k = len(node)
        need = self._n + k
        cap = len(self._buffers["node"])
        if need > cap:
            cap = max(need, 2 * cap)
            for name, buf in self._buffers.items():
                grown = np.zeros(cap, dtype=buf.dtype)
                grown[: self._n] = buf[: self._n]
                self._buffers[name] = grown
        rows = np.arange(self._n, need)
        self._n = need
        self._bind()
        self.node[rows] = node
        self.serial[rows] = serial
        self.key[rows] = key
        self.kind[rows] = kind
        self.chain[rows] = -1
        self.cash[rows] = cash
        self.hurdle[rows] = hurdle
        self.open[rows] = True
        self.opened_step[rows] = step
        self._version += 1
        return rows

    def changed(self) -> None:
        """Say that a column the cached values read (``kind``) was written."""
        self._version += 1

    def close(self, rows: np.ndarray) -> None:
        """Flag stores as closed and out of their chain."""
        self.open[rows] = False
        self.chain[rows] = -1
        self._version += 1

    def cached(self, key: str, make: Any) -> Any:
        """A value derived from the open rows and their kinds, kept until a store opens,
        closes or changes kind (:meth:`changed`)."""
        hit = self._cache.get(key)
        if hit is None or hit[0] != self._version:
            hit = self._cache[key] = (self._version, make())
        return hit[1]

    def open_rows(self) -> np.ndarray:
        """Rows of the open stores, in opening order (read only; valid until a store opens or closes)."""

        def make() -> np.ndarray:
            rows = np.flatnonzero(self.open)
            rows.flags.writeable = False
            return rows

        return self.cached("open_rows", make)

    def per_node(self, n_nodes: int) -> np.ndarray:
        """Open stores in each settlement."""
        return np.bincount(self.node[self.open_rows()], minlength=n_nodes)

    def first_rows(self, n_nodes: int) -> np.ndarray:
        """Per settlement, the row of its first open store (its parcel service point), -1 for none."""

        def make() -> np.ndarray:
            rows = self.open_rows()
            first = np.full(n_nodes, -1, dtype=np.int64)
            nodes, at = np.unique(self.node[rows], return_index=True)
            first[nodes] = rows[at]
            first.flags.writeable = False
            return first

        return self.cached(f"first_rows{n_nodes}", make)

    def slots(self) -> np.ndarray:
        """Per open store (in :meth:`open_rows` order), its place among its village's open
        stores in opening order (0 = first)."""

        def make() -> np.ndarray:
            rows = self.open_rows()
            node = self.node[rows]
            order = np.argsort(node, kind="stable")
            sorted_node = node[order]
            starts = np.flatnonzero(np.r_[True, sorted_node[1:] != sorted_node[:-1]])
            counts = np.diff(np.r_[starts, len(rows)])
            slot = np.empty(len(rows), dtype=np.int64)
            slot[order] = np.arange(len(rows)) - np.repeat(starts, counts)
            slot.flags.writeable = False
            return slot

        return self.cached("slots", make)


def weekly_profit(
    s: StoresConfig,
    revenue: np.ndarray | float,
    kind: np.ndarray | int,
    chained: np.ndarray | bool,
    digital: np.ndarray | bool,
    fee_relief: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Profit of a week with this revenue, for stores as they are or as they might be (yuan).

    Args:
        s: The scenario's store parameters.
        revenue: The week's sales (yuan).
        kind, chained, digital: The stores as they are or might be.
        fee_relief: Part of the chain fee the chain_supply programme pays (yuan/week).
    """
    restock = np.where(chained, s.chain_restock_cost_share, s.restock_cost_share)
    restock = np.where(digital, restock * (1.0 - s.digital_restock_saving), restock)
    fixed = s.fixed_cost_week + np.where(np.asarray(kind) == NEWTYPE, s.newtype_extra_fixed_cost_week, 0.0)
    fixed = fixed + np.where(digital, s.digital_fee_week, 0.0)
    fee = np.where(chained, s.chain_fee_week - fee_relief, 0.0)
    return revenue * (s.gross_margin - restock) - fixed - fee


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective scrambling of 64-bit words."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def store_key(seed: int, stream: int, node: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """The start of each store's draws: a hash of (run seed, stream, village, serial),
    worked out once when the store opens."""
    with np.errstate(over="ignore"):
        h = np.full(len(node), _mix(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0])
        for key in (np.uint64(stream), np.asarray(node, dtype=np.uint64), np.asarray(serial, dtype=np.uint64)):
            h = _mix(h ^ key)
    return h


def store_uniforms(key: np.ndarray, step: int, draw: int) -> np.ndarray:
    """Uniform numbers in [0, 1) for stores with these keys (:func:`store_key`) at this
    step, draw number ``draw``: a counter-based generator (SplitMix64's finaliser over the
    key, step and draw), so a store's draws depend on its identity and the date only,
    never on which other stores exist (common random numbers), and all stores' draws
    come in one array operation."""
    with np.errstate(over="ignore"):
        h = _mix(key ^ np.uint64(step))
        h = _mix(h ^ np.uint64(draw))
    return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53


def place_initial_stores(model: CountyModel) -> None:
    """The starting network: for each village in index order, a fixed number of draws from
    the ``stores`` stream decides its stores, their kinds, chains and owners' hurdles (ODD 5.4)."""
    s = model.config.stores
    rng = model.streams["stores"]
    coverage = s.initial_village_coverage
    if coverage is None:
        coverage = default_store_coverage(model.config.map.region)
    k = s.max_stores_per_village
    nodes, kinds, hurdles, chained = [], [], [], []
    for v in model.county.villages.tolist():
        # a fixed number of draws per village, so one village's draws never shift another's
        has, extra = rng.random(), rng.random(k - 1)
        kind_u, chain_u, hurdle = rng.random(k), rng.random(k), np.exp(rng.normal(0.0, s.owner_hurdle_sd, k))
        if has >= coverage:
            continue
        count = 1 + int(np.sum(np.cumprod(extra < s.second_store_probability)))
        for j in range(count):
            kind = NEWTYPE if kind_u[j] < s.initial_newtype_share else TRADITIONAL
            nodes.append(v)
            kinds.append(kind)
            hurdles.append(float(hurdle[j]))
            chained.append(kind == NEWTYPE or chain_u[j] < s.initial_chain_share)
    rows = model.new_stores(np.array(nodes, dtype=np.int64), np.array(kinds, dtype=np.int8), np.array(hurdles))
    if model.has_chains:
        model.assign_chains(rows[np.array(chained, dtype=bool)])


def _column(name: str, cast: Any, doc: str, writable: bool = True) -> property:
    def get(self: VillageStore) -> Any:
        return cast(getattr(self.model.store_table, name)[self.row])

    def put(self: VillageStore, value: Any) -> None:
        getattr(self.model.store_table, name)[self.row] = value

    return property(get, put if writable else None, doc=doc)


class VillageStore(FixedAgent):
    """One village store as a Mesa agent fixed to its village's cell: a handle onto one
    row of the store table, holding no state of its own (so the array decisions and the
    agent view never disagree). Created when the store opens, removed when it exits."""

    def __init__(self, model: CountyModel, row: int):
        super().__init__(model)
        self.row = row
        self.cell = model.space[self.node]

    node = _column("node", int, "The village's settlement index.", writable=False)
    digital = _column("digital", bool, "Uses digital stock and ordering tools.")
    cash = _column("cash", float, "Cash on hand (yuan).")
    hurdle = _column("hurdle", float, "The owner's required return multiplier.")
    revenue_week = _column("revenue_week", float, "Last week's sales (yuan).")
    service_income_week = _column("service_income_week", float, "Last week's service-point fees (yuan).")
    profit_week = _column("profit_week", float, "Last week's profit, fees included (yuan).")
    month_profit = _column("month_profit", float, "Profit so far this month (yuan).")
    loss_months = _column("loss_months", int, "Consecutive loss-making months.")
    is_open = _column("open", bool, "False once the store has exited.", writable=False)
    opened_step = _column("opened_step", int, "Model step at which it opened.", writable=False)

    @property
    def kind(self) -> StoreKind:
        """The store's standard."""
        return StoreKind(int(self.model.store_table.kind[self.row]))

    @kind.setter
    def kind(self, value: StoreKind) -> None:
        self.model.store_table.kind[self.row] = int(value)
        self.model.store_table.changed()

    @property
    def chain(self) -> ChainRetailer | None:
        """The chain retailer supplying it, if any."""
        c = int(self.model.store_table.chain[self.row])
        return self.model.retailers[c] if c >= 0 else None

    @property
    def basket_ratio(self) -> float:
        """The store's price and range as a cost per yuan of basket (see markets)."""
        return float(self.model.sellers.kind_ratios[int(self.model.store_table.kind[self.row])])

    @property
    def is_service_point(self) -> bool:
        """Whether it takes parcels for the village (first open store of a village with door delivery)."""
        m = self.model
        first = m.store_table.first_rows(m.county.n)[self.node]
        return bool(first == self.row and m.logistics.door_share[self.node] > 0)

    def weekly_profit(self, revenue: float) -> float:
        """Profit of a week with this revenue for the store as it is (no fee relief)."""
        t = self.model.store_table
        r = self.row
        return float(weekly_profit(self.model.config.stores, revenue, t.kind[r], t.chain[r] >= 0, t.digital[r]))
