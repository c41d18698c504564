"""CountyModel: builds one county's world from a scenario and fixes the weekly step order.

The model is a function of (scenario, seed): every random draw comes from a named
stream spawned from the seed (``numpy.random.SeedSequence``), so changing a policy lever
does not shift the draws of unrelated parts (common random numbers), and the same inputs
give the same numbers in any process.

Step order (one week): dated policy events that fall before the week, run from Mesa's
event list (the year's funds first, then facility builds — logistics centre, cold storage,
county centre, livestream base, charging — quarterly audits, grants and spot checks, the
November tier review) → households choose channels and spend → stores, centres and chain
outlets book sales → farm households sell their harvest (traders, markets, anchors,
online) → households buy durables → parcels move (down from online buying, up from farm
sales) and service points are paid → stores out of cash close → on the last week of a
month: training and adoption, budgets follow farm income, months are closed, stores
decide (join a chain, upgrade, go digital, exit after sustained losses), would-be owners
enter, chains open township centres, the station programme funds township stations →
carriers re-plan on their dates (co-distribution is settled on its own) → indicators
collected (the county's state first, then the tier it would be rated at, see
:mod:`sim.policy.evaluation`).

:meth:`CountyModel.step` reads in that order. The pieces it calls live with their
subject: the event calendar in :mod:`sim.policy.events`, what sellers offer and earn
(basket ratios, booking the week's spending, firms' expected revenues) in
:mod:`sim.markets.sellers`, the channel choice in :mod:`sim.markets.channels`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.discrete_space import Network
from tqdm.auto import tqdm

from sim.agents import store_month
from sim.agents.anchor import Anchors
from sim.agents.government import Government
from sim.agents.household import create_household_agents, create_households
from sim.agents.retailer import CenterTable, ChainRetailer, TownshipCenter, monthly_centers
from sim.agents.store import NEWTYPE, StoreTable, VillageStore, place_initial_stores, store_key, store_uniforms
from sim.config import Scenario, criteria_for
from sim.geography import CountyMap, build_map
from sim.logistics.parcels import Logistics
from sim.markets import calendar
from sim.markets.adoption import adopt_month
from sim.markets.channels import Market
from sim.markets.durables import DurablePurchases
from sim.markets.farm import FarmSales
from sim.markets.kinds import Channel
from sim.markets.sellers import Sellers
from sim.policy import evaluation
from sim.policy.demand import remote_places
from sim.policy.events import schedule_facilities, schedule_policy_events
from sim.policy.indicators import BASE_INDICATORS, EVALUATION_INDICATORS, INDICATORS, collect, summarise

#: Named random streams; the position in this tuple is the stream's spawn key, so new
#: streams must be appended to keep existing ones unchanged.
#: ("decisions" is no longer drawn from — stores have their own keyed draws — but keeps
#: its place so that the later streams keep their keys.)
STREAMS = (
    "households",
    "stores",
    "spending",
    "decisions",
    "entry",
    "centers",
    "audits",
    "farm",
    "adoption",
    "durables",
    "training",
    "durables_setup",
)

#: Kinds of dated event a run records (:meth:`CountyModel.record_event`), in the order of
#: ``RunResult.events``.
EVENT_KINDS = (
    "exits",
    "entries",
    "upgrades",
    "digital",
    "centers",
    "stations",
    "codistribution",
    "facilities",
    "budget",
    "audits",
    "evaluations",
)


@dataclass
class RunResult:
    """What one run returns: the weekly series, the final-year summary and timings."""

    timeseries: pd.DataFrame
    summary: dict[str, float]
    seed: int
    scenario_hash: str
    wall_seconds: float
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    carriers: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The tier reviews and leading-county status (:meth:`sim.policy.evaluation.Evaluator.summary`).
    evaluation: dict[str, Any] = field(default_factory=dict)
    #: Where every yuan of the programmes went (:meth:`Government.ledger`).
    budget: dict[str, Any] = field(default_factory=dict)
    #: County facts for turning indicators into county totals (villages, rural households).
    facts: evaluation.RunFacts | None = None


class CountyModel(mesa.Model):
    """One county under one policy mix.

    Args:
        scenario: The validated scenario.
        seed: Overrides ``scenario.seed`` when given.
        county: A prebuilt map (saves rebuilding it in sweeps over non-map levers);
            built from ``scenario.map`` when omitted.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None, county: CountyMap | None = None):
        run_seed = int(scenario.seed if seed is None else seed)
        super().__init__(rng=run_seed)
        self.seed = run_seed
        self.config = scenario
        children = np.random.SeedSequence(run_seed).spawn(len(STREAMS))
        self.streams = {name: np.random.default_rng(ss) for name, ss in zip(STREAMS, children, strict=True)}
        self._build_county(county)
        self._build_households()
        self._build_institutions()
        self._place_initial_stores()
        self._place_initial_centers()
        self.today = self.dates[0]
        self.week: dict[str, Any] = {}
        self.rows: list[dict[str, Any]] = []
        self.carrier_rows: list[dict[str, Any]] = []
        self.anchors = Anchors(self)
        self.farm = FarmSales(self)
        self.durables = DurablePurchases(self)
        self.logistics = Logistics(self)
        schedule_facilities(self)
        schedule_policy_events(self)
        self.evaluator.schedule()
        self.sellers = Sellers(self)
        self.logistics.replan(weeks_since=0.0)

    # --- set-up ----------------------------------------------------------------------

    def _build_county(self, county: CountyMap | None) -> None:
        """The map, Mesa's network space on it, and the calendar of simulated weeks."""
        scenario = self.config
        self.county = county if county is not None else build_map(scenario.map, scenario._base_dir)
        self.space = Network(self.county.graph, layout=self.county.positions(), random=self.random)
        self.dates = calendar.week_starts(scenario.timeline.start, scenario.timeline.end)
        self.n_weeks = len(self.dates)
        self.season = calendar.spending_season(self.dates, scenario.behaviour.spring_festival_uplift)
        self.month_end = np.append(calendar.month_starts(self.dates)[1:], True)
        self.year_start = calendar.year_starts(self.dates)

    def _build_households(self) -> None:
        """The household table, one Mesa agent per row, and the market they shop in."""
        self.households = create_households(self.config, self.county, self.streams["households"])
        self.household_agents = create_household_agents(self, len(self.households))
        self.market = Market(self.config, self.county, self.households)
        self._rural_mask = self.households.rural.astype(float)
        # one array of (channels, households) reused every week by _shop: the costs, turned
        # into the shares and then into the spending in place (see Market.costs on why; one
        # array rather than two saves 5 MB for a median county)
        self._week_buffer = np.empty((len(Channel), len(self.households)))

    def _build_institutions(self) -> None:
        """The government and its tier review, the chain retailers, an empty store register
        and the event records."""
        scenario = self.config
        self.keep_alive: list[Any] = []  # Mesa holds event callables weakly
        self.remote = remote_places(self)
        self.county_center_m2 = scenario.retailers.county_center_m2
        self.government = Government(self)
        self.evaluator = evaluation.Evaluator(self, criteria_for(scenario))
        self.retailers = [ChainRetailer(self, i, cash=0.0) for i in range(scenario.retailers.count)]
        #: every village store (a row each, :class:`StoreTable`), the Mesa agents of the
        #: open ones by row, and how many stores each village has had (their serials)
        self.store_table = StoreTable()
        self.store_agents: dict[int, VillageStore] = {}
        self._store_serial = np.zeros(self.county.n, dtype=np.int64)
        #: the stream number in the stores' own draws (:func:`sim.agents.store.store_key`)
        self.store_stream = STREAMS.index("stores")
        self.center_table = CenterTable(self.county.n)
        self.center_agents: dict[int, TownshipCenter] = {}
        self.events: dict[str, list[dict[str, Any]]] = {k: [] for k in EVENT_KINDS}

    # --- set-up ----------------------------------------------------------------------

    def new_stores(self, nodes: np.ndarray, kinds: np.ndarray, hurdles: np.ndarray) -> np.ndarray:
        """Open stores (a row each and a Mesa agent on it). A store's identity for its
        draws is (village, how many stores the village has had before it), so its draws do
        not depend on what other stores do; stores of the starting network may already be
        digital, entrants are not.

        Returns:
            The new rows.
        """
        s = self.config.stores
        nodes = np.asarray(nodes, dtype=np.int64)
        serial = np.empty(len(nodes), dtype=np.int64)
        for i, v in enumerate(nodes.tolist()):
            serial[i] = self._store_serial[v]
            self._store_serial[v] += 1
        t = self.store_table
        key = store_key(self.seed, self.store_stream, nodes, serial)
        rows = t.add(nodes, serial, key, kinds, s.initial_cash_weeks * s.fixed_cost_week, hurdles, self.steps)
        if self.steps == 0:
            draw = store_uniforms(key, 0, 0)
            t.digital[rows] = draw < s.initial_digital_share
        for r in rows.tolist():
            self.store_agents[r] = VillageStore(self, r)
        return rows

    def _place_initial_stores(self) -> None:
        """The starting network of village stores (:func:`sim.agents.store.place_initial_stores`)."""
        place_initial_stores(self)

    def _place_initial_centers(self) -> None:
        r = self.config.retailers
        if not self.retailers:
            return
        rng = self.streams["centers"]
        towns = self.county.townships
        k = round(r.initial_center_share * len(towns))
        if k == 0:
            return
        p = self.county.population[towns] / self.county.population[towns].sum()
        chosen = rng.choice(towns, size=k, replace=False, p=p)
        for node in sorted(chosen.tolist()):
            self.open_center(int(node), int(rng.integers(len(self.retailers))))

    def open_center(self, node: int, owner: int) -> TownshipCenter:
        """Open a township centre owned by chain ``owner`` (a row and a Mesa agent on it);
        centres present at the start (step 0) count against no year's capacity."""
        year = self.dates[self.steps - 1].year if self.steps > 0 else -1
        row = self.center_table.add(node, owner, self.steps, year)
        center = self.center_agents[row] = TownshipCenter(self, row)
        return center

    def try_upgrade_county_center(self) -> bool:
        """Upgrade the county commerce service centre to the target floor area if the
        programme can pay its share (the operator pays the rest); nothing to do if it is
        already as large."""
        pol = self.config.policy
        target = pol.county_center_target_m2
        if self.county_center_m2 >= target:
            return True
        cost = (target - self.county_center_m2) * self.config.retailers.county_center_cost_per_m2
        subsidy = pol.county_center_subsidy * cost
        if not self.government.pay("county_center", subsidy):
            return False
        self.county_center_m2 = target
        self.record_event("facilities", facility="county_center", subsidy=subsidy, floor_m2=target)
        return True

    # --- queries used by agents -----------------------------------------------------

    @property
    def has_chains(self) -> bool:
        return bool(self.retailers)

    @property
    def stores_by_node(self) -> Mapping[int, list[VillageStore]]:
        """Open stores (their agents) of each village that has any, in opening order
        (built on demand from the table: for inspection, not for weekly work)."""
        out: dict[int, list[VillageStore]] = {}
        t = self.store_table
        for r in t.open_rows().tolist():
            out.setdefault(int(t.node[r]), []).append(self.store_agents[r])
        return out

    def open_stores(self) -> list[VillageStore]:
        """The open stores' agents, in opening order."""
        return [self.store_agents[r] for r in self.store_table.open_rows().tolist()]

    def stores_at(self, node: int) -> list[VillageStore]:
        """The open stores' agents of a village, in opening order."""
        t = self.store_table
        rows = t.open_rows()
        return [self.store_agents[r] for r in rows[t.node[rows] == node].tolist()]

    def stores_per_node(self) -> np.ndarray:
        return self.store_table.per_node(self.county.n)

    def newtype_at(self) -> np.ndarray:
        """Per settlement, whether it has an open new-type store."""
        t = self.store_table
        rows = t.open_rows()
        return np.bincount(t.node[rows], weights=t.kind[rows] == NEWTYPE, minlength=self.county.n) > 0

    def center_at(self, node: int) -> TownshipCenter | None:
        row = int(self.center_table.at_node[node])
        return self.center_agents[row] if row >= 0 else None

    def assign_chains(self, rows: np.ndarray) -> None:
        """Put stores, in the given order, under the supply of the chain with the fewest
        members at the time (ties: lowest index)."""
        if not self.retailers or len(rows) == 0:
            return
        t = self.store_table
        chain = t.chain[t.open_rows()]
        counts = np.bincount(chain[chain >= 0], minlength=len(self.retailers))
        for r in np.asarray(rows).tolist():
            c = int(np.argmin(counts))
            t.chain[r] = c
            counts[c] += 1

    # --- records ---------------------------------------------------------------------

    def _event(self, kind: str, **data: Any) -> None:
        self.events[kind].append({"step": self.steps, "date": self.today.isoformat(), **data})

    def record_event(self, kind: str, **data: Any) -> None:
        """Record a dated event (facility built, carrier joined co-distribution, ...)."""
        self._event(kind, **data)

    def close_stores(self, rows: np.ndarray, reasons: list[str]) -> None:
        """Close stores for good: their rows are flagged closed and out of their chain,
        their agents leave the cell and the model, and each exit is recorded."""
        t = self.store_table
        for r, reason in zip(np.asarray(rows).tolist(), reasons, strict=True):
            self._event("exits", village=self.county.ids[int(t.node[r])], reason=reason, cash=float(t.cash[r]))
            self.store_agents.pop(r).remove()
        t.close(rows)
        self.week["exits"] += len(reasons)

    def record_upgrade(self, row: int, subsidy: float) -> None:
        self.week["upgrades"] += 1
        self._event("upgrades", village=self.county.ids[int(self.store_table.node[row])], subsidy=subsidy)

    def record_center(self, node: int, subsidy: float) -> None:
        self._event("centers", township=self.county.ids[node], subsidy=subsidy)

    # --- the week --------------------------------------------------------------------

    def step(self) -> None:
        """One week, in the order given in the module docstring."""
        i = self.steps - 1  # Mesa counts the step before calling this
        today = self.today = self.dates[i]
        self.week = {"exits": 0, "entries": 0, "upgrades": 0}
        self.sellers.update_ratios()
        self._shop(i)
        self._book()
        self.farm.sell_week(i, self.logistics.door_share)
        self.durables.buy_week(self.streams["durables"])
        self._ship()
        self._close_broke_stores()
        if self.month_end[i]:
            self._monthly_decisions()
        every = self.config.carriers.replan_every_weeks
        if (i + 1) % every == 0:
            self.sellers.update_ratios()
            self.logistics.replan(weeks_since=float(every))
        values = collect(self, BASE_INDICATORS)
        self.evaluator.observe(values)
        values.update(collect(self, EVALUATION_INDICATORS))
        self.rows.append({"step": self.steps, "date": today, **values})
        self._collect_carriers()

    def _ship(self) -> None:
        """Parcels from this week's online buying; service-point fees go to village stores."""
        hh = self.households
        online = np.bincount(hh.node, weights=self.week["spend"][:, Channel.ONLINE], minlength=self.county.n)
        week = self.logistics.ship_week(online, self.farm.week["parcels_by_node"])
        fees = week["point_fees"]
        nodes = np.flatnonzero(fees)
        rows = self.store_table.first_rows(self.county.n)[nodes]
        got = rows >= 0
        rows, amount = rows[got], fees[nodes[got]]
        t = self.store_table  # the village's first store is its service point (一点多能)
        t.service_income_week[rows] = amount
        t.cash[rows] += amount
        t.profit_week[rows] += amount
        t.month_profit[rows] += amount

    def _close_broke_stores(self) -> None:
        """A store that cannot pay its way closes at once: negative cash is never left standing."""
        t = self.store_table
        rows = t.open_rows()
        broke = rows[t.cash[rows] < 0]
        if len(broke):
            self.close_stores(broke, ["out_of_cash"] * len(broke))

    def _collect_carriers(self) -> None:
        cons = self.logistics.consortium
        for car in self.logistics.carriers:
            self.carrier_rows.append(
                {
                    "step": self.steps,
                    "date": self.today,
                    "carrier": car.name,
                    "kind": car.kind,
                    "member": car.member,
                    "villages_served": len(cons.served() if (car.member and cons) else car.served()),
                    "shapley_cost_share": cons.cost_shares.get(car.name, float("nan")) if cons else float("nan"),
                    "nev_share": car.nev_share,
                    **car.books,
                }
            )

    def spending_noise(self) -> np.ndarray:
        """This week's random multiplier on each household's budget (mean one)."""
        sd = self.config.behaviour.spending_noise_sd
        return np.exp(self.streams["spending"].normal(-0.5 * sd**2, sd, len(self.households)))

    def _shop(self, i: int, noise: np.ndarray | None = None) -> None:
        """Every household's channel choice and spending this week, in one pass over arrays."""
        hh = self.households
        m = self.market
        noise = self.spending_noise() if noise is None else noise
        budget = m.base_budget * self.season[i] * noise
        vr, tr, cr, orr = self.sellers.ratios
        cost = m.costs(budget, vr, tr, cr, orr, self.logistics.door_share, out=self._week_buffer)
        shares, surplus = m.choose(cost, overwrite=True)
        self.week["travel_km"] = m.travel_km(shares, self.logistics.door_share)
        m.last_budget = budget
        # the shares are done with: the spending takes their place (channel-major, read per household)
        spend = np.multiply(shares.T, budget * hh.weight, out=shares.T).T
        self.week["spend"] = spend
        self.week["channel_spend_rural"] = spend.T @ self._rural_mask
        self.week["surplus"] = surplus

    def _book(self) -> None:
        """Hand every yuan households spent to a seller; keep the ledger for conservation checks."""
        spend = self.week["spend"]
        self.week["ledger"] = self.sellers.book_week(spend)
        self.week["household_spend_total"] = float(spend.sum())

    def _monthly_households(self) -> None:
        """Training, adoption, and budgets that follow the month's farm income."""
        self.anchors.monthly(self.streams["training"])
        adopt_month(self.households, self.config, self.logistics.door_share, self.streams["adoption"])
        hh = self.households
        hh.income = hh.nonfarm_income + 52.0 * hh.farm_revenue_avg
        self.market.update_budgets()

    def _monthly_decisions(self) -> None:
        """The month's turn: households, then stores, would-be owners, chains and stations."""
        self._monthly_households()
        self._monthly_store_reviews()
        self._monthly_entry()
        self.sellers.update_ratios()
        self._monthly_centers()
        self.logistics.fund_stations()

    def _monthly_store_reviews(self) -> None:
        """Stores close the month, the failing ones exit, and a random share of the others
        review joining a chain, upgrading and going digital (:mod:`sim.agents.store_month`)."""
        store_month.close_month(self)
        store_month.review_stores(self)

    def _monthly_entry(self) -> None:
        """Would-be owners open stores where it pays (:func:`sim.agents.store_month.monthly_entry`)."""
        store_month.monthly_entry(self)

    def _monthly_centers(self) -> None:
        """Chains look at the townships still without a centre (:func:`sim.agents.retailer.monthly_centers`)."""
        monthly_centers(self)

    # --- running ---------------------------------------------------------------------

    def run(self, progress: bool | None = None) -> RunResult:
        """Run the whole timeline and return the series and the final-year summary.

        Args:
            progress: Show a progress bar (tqdm). ``None`` follows the scenario's
                ``outputs.progress`` (``auto``: only on a terminal).
        """
        start = time.perf_counter()
        bar = None
        if _want_progress(self.config.outputs.progress, progress):
            bar = tqdm(total=self.n_weeks, desc=self.config.name, unit="week", mininterval=2.0, delay=2.0)
        while self.steps < self.n_weeks:
            self.step()
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        ts = self.timeseries()
        summary = summarise({c: ts[c].to_numpy() for c in ts.columns if c not in ("step", "date")})
        return RunResult(
            timeseries=ts,
            summary=summary,
            seed=self.seed,
            scenario_hash=self.config.digest(),
            wall_seconds=time.perf_counter() - start,
            events=self.events,
            carriers=self.carrier_table(),
            evaluation=self.evaluator.summary(),
            budget=self.government.ledger(),
            facts=self.facts(),
        )

    def facts(self) -> evaluation.RunFacts:
        """County totals that turn per-village and per-household indicators into county numbers."""
        hh = self.households
        return evaluation.RunFacts(
            villages=len(self.county.villages),
            townships=len(self.county.townships),
            rural_households=float((hh.weight * hh.rural).sum()),
        )

    def carrier_table(self) -> pd.DataFrame:
        """Weekly books of every carrier: parcels, revenue, cost, profit, villages served,
        co-distribution membership and Shapley cost share."""
        df = pd.DataFrame(self.carrier_rows)
        if len(df):
            df["date"] = pd.to_datetime(df["date"])
        return df

    def timeseries(self) -> pd.DataFrame:
        """The weekly indicators so far, one row per week."""
        cols = ["step", "date"] + [i.name for i in INDICATORS]
        df = pd.DataFrame(self.rows, columns=cols)
        df["date"] = pd.to_datetime(df["date"])
        return df


def _want_progress(setting: str, override: bool | None) -> bool:
    if override is not None:
        return override
    if setting == "on":
        return True
    if setting == "off":
        return False
    return sys.stderr.isatty()


__all__ = ["CountyModel", "RunResult", "TownshipCenter"]
