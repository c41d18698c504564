"""Profile of one full run by the phases of the model's weekly step.

Usage::

    python -m benchmarks.phases [--size small] [--region central_hill] [--households-per-agent 1]
                                [--end 2025-12-31]

prints where the time of one run (model construction plus the whole horizon) goes.
``python -m benchmarks.presets --profile`` runs :func:`profile_run` in a subprocess for
every preset and stores the result in ``benchmarks/results/presets.json`` (a ``phases``
dict per row).

How it measures, without touching ``sim/``: the model is built first (that is the
``construction`` phase, which includes the first re-planning of the carriers), then the
methods that make up the weekly step are replaced *on the instance* (and, for the
indicator functions that ``sim.model`` calls by name, in that module for the duration of
the run) by wrappers that time each call. Times are exclusive: a phase called inside
another (for instance ``choice_inputs`` inside the monthly decisions, or a re-plan inside a
policy event) is counted in its own phase and not in the caller's. ``policy_events`` is
the time Mesa spends in its event list outside the week's step: the year's funds,
facility builds, audits, grants and the tier review, plus Mesa's own scheduling. ``other``
is everything not in a named phase (the step's own bookkeeping, the run loop), so the
phases add up to the measured total exactly. A wrapper costs about a microsecond per
call, a few thousand calls in a run: well under 1% of it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

#: Phases in the order of the weekly step, with what each covers. ``construction``
#: and ``other`` are measured by :func:`profile_run` itself.
PHASES: dict[str, str] = {
    "construction": "CountyModel(...): map, households, stores, schedules, first carrier plans",
    "policy_events": "Mesa event list: funds, facility builds, audits, grants, tier review",
    "choice_inputs": "channel attributes of stores, townships, county town and online (sellers.update_ratios)",
    "shop": "households' channel choice and spending (_shop)",
    "book": "every yuan spent handed to a seller (_book)",
    "farm_sales": "farm households sell their harvest (farm.sell_week)",
    "durables": "households buy durables (durables.buy_week)",
    "ship": "parcels move, service points are paid (_ship)",
    "close_stores": "stores out of cash close (_close_broke_stores)",
    "monthly_households": "month end: training, adoption, budgets (_monthly_households)",
    "monthly_store_decisions": "month end: stores close the month, exit, join chains, upgrade, go digital",
    "monthly_entry": "month end: would-be owners' expected revenue and entry (_monthly_entry)",
    "monthly_centers": "month end: chains value and open township centres (_monthly_centers)",
    "monthly_stations": "month end: township station programme (logistics.fund_stations)",
    "replan": "carriers' re-planning and co-distribution settlement (logistics.replan)",
    "indicators": "indicators collected (sim.policy.indicators.collect)",
    "evaluation": "tier the county would be rated at (evaluator.observe)",
    "carrier_records": "carriers' weekly books recorded (_collect_carriers)",
    "results": "end of run: time series, summary, carrier table, evaluation, budget ledger",
    "other": "everything else: the step's own bookkeeping, the run loop",
}

#: (object path on the model, attribute, phase). The path is resolved with getattr from
#: the model ("" is the model itself); a "*" path means every chain retailer.
TARGETS: tuple[tuple[str, str, str], ...] = (
    ("", "step", "policy_events"),
    ("", "_user_step", "other"),
    ("sellers", "update_ratios", "choice_inputs"),
    ("", "_shop", "shop"),
    ("", "_book", "book"),
    ("farm", "sell_week", "farm_sales"),
    ("durables", "buy_week", "durables"),
    ("", "_ship", "ship"),
    ("", "_close_broke_stores", "close_stores"),
    ("", "_monthly_decisions", "monthly_store_decisions"),
    ("", "_monthly_households", "monthly_households"),
    ("", "_monthly_entry", "monthly_entry"),
    ("", "_monthly_centers", "monthly_centers"),
    ("logistics", "fund_stations", "monthly_stations"),
    ("logistics", "replan", "replan"),
    ("evaluator", "observe", "evaluation"),
    ("", "_collect_carriers", "carrier_records"),
    ("", "timeseries", "results"),
    ("", "carrier_table", "results"),
    ("", "facts", "results"),
    ("evaluator", "summary", "results"),
    ("government", "ledger", "results"),
)

#: Functions that ``sim.model`` calls by their module-level name.
MODULE_TARGETS: tuple[tuple[str, str], ...] = (("collect", "indicators"), ("summarise", "results"))


class PhaseTimer:
    """Exclusive wall time and number of calls per phase, for nested calls.

    Attributes:
        seconds: Exclusive seconds per phase (time in nested phases is not counted twice).
        calls: Number of calls per phase.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list[Any]] = []  # [phase, start, time spent in nested phases]

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the body of the ``with`` block as phase ``name``."""
        frame = [name, self.clock(), 0.0]
        self._stack.append(frame)
        try:
            yield
        finally:
            elapsed = self.clock() - frame[1]
            self._stack.pop()
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed - frame[2]
            self.calls[name] = self.calls.get(name, 0) + 1
            if self._stack:
                self._stack[-1][2] += elapsed

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` with every call timed as phase ``name``."""

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.phase(name):
                return fn(*args, **kwargs)

        return timed


def _targets(model: Any, path: str) -> list[Any]:
    if path == "":
        return [model]
    if path.startswith("*"):
        return list(getattr(model, path[1:], []) or [])
    obj = getattr(model, path, None)
    return [] if obj is None else [obj]


def instrument(model: Any, timer: PhaseTimer) -> list[str]:
    """Replace the step's phase methods on ``model`` (and its parts) by timed wrappers.

    Args:
        model: A built :class:`sim.model.CountyModel`.
        timer: Where the times go.

    Returns:
        The targets that were not found (``path.attribute``): the model changed and the
        profile should be updated; their time then shows up in the caller's phase.
    """
    missing = []
    for path, attr, name in TARGETS:
        objs = _targets(model, path)
        found = False
        for obj in objs:
            fn = getattr(obj, attr, None)
            if callable(fn):
                setattr(obj, attr, timer.wrap(name, fn))
                found = True
        # a county without chain retailers has nothing to wrap, which is not a change
        empty_list = path.startswith("*") and hasattr(model, path[1:]) and not objs
        if not found and not empty_list:
            missing.append(f"{path.lstrip('*') or 'model'}.{attr}")
    return missing


@contextlib.contextmanager
def module_timers(timer: PhaseTimer) -> Iterator[list[str]]:
    """Time the module-level functions ``sim.model`` calls by name, restoring them after.

    Yields:
        The names that were not found in ``sim.model``.
    """
    import sim.model as sim_model

    saved: dict[str, Any] = {}
    missing = []
    for attr, name in MODULE_TARGETS:
        fn = getattr(sim_model, attr, None)
        if callable(fn):
            saved[attr] = fn
            setattr(sim_model, attr, timer.wrap(name, fn))
        else:
            missing.append(f"sim.model.{attr}")
    try:
        yield missing
    finally:
        for attr, fn in saved.items():
            setattr(sim_model, attr, fn)


def profile_run(scenario: Any, seed: int | None = None) -> dict[str, Any]:
    """Build and run one county, timing every phase of the weekly step.

    Args:
        scenario: A validated :class:`sim.config.Scenario`.
        seed: Overrides the scenario's seed.

    Returns:
        ``households``, ``weeks``, ``total_s`` (construction plus run), ``build_s``,
        ``run_s``, ``phases`` — for each phase of :data:`PHASES` that took time or was
        called, ``{"seconds", "share", "calls"}`` (share of ``total_s``; the seconds add
        up to ``total_s``) — and ``not_instrumented`` (targets the model no longer has).
    """
    from sim.model import CountyModel

    timer = PhaseTimer()
    t0 = time.perf_counter()
    model = CountyModel(scenario, seed=seed)
    t1 = time.perf_counter()
    missing = instrument(model, timer)
    with module_timers(timer) as missing_module:
        model.run(progress=False)
    t2 = time.perf_counter()
    total = t2 - t0
    seconds = {"construction": t1 - t0, **{k: v for k, v in timer.seconds.items() if k != "other"}}
    seconds["other"] = total - sum(seconds.values())
    calls = {"construction": 1, **timer.calls}
    phases = {}
    for name in [*PHASES, *sorted(set(seconds) - set(PHASES))]:
        if name in seconds:
            phases[name] = {
                "seconds": seconds[name],
                "share": seconds[name] / total if total > 0 else 0.0,
                "calls": calls.get(name, 0),
            }
    return {
        "households": len(model.households),
        "weeks": model.n_weeks,
        "total_s": total,
        "build_s": t1 - t0,
        "run_s": t2 - t1,
        "phases": phases,
        "not_instrumented": missing + missing_module,
    }


def format_phases(phases: dict[str, dict[str, float]], total: float) -> str:
    """The phases as a table, largest first, with a total line."""
    lines = [f"  {'phase':26s} {'seconds':>9s} {'share':>7s} {'calls':>7s}"]
    for name, p in sorted(phases.items(), key=lambda kv: -kv[1]["seconds"]):
        lines.append(f"  {name:26s} {p['seconds']:9.3f} {p['share']:7.1%} {int(p['calls']):7d}")
    lines.append(f"  {'total':26s} {total:9.3f} {sum(p['share'] for p in phases.values()):7.1%}")
    return "\n".join(lines)


def scenario_for(size: str, region: str, per_agent: int, end: str | None = None) -> Any:
    """The preset benchmark's scenario: a generated county, no figures, no progress bar."""
    from sim.config import Scenario

    data: dict[str, Any] = {
        "map": {"size": size, "region": region},
        "population": {"households_per_agent": per_agent},
        "outputs": {"figures": False, "progress": "off"},
    }
    if end is not None:
        data["timeline"] = {"end": end}
    return Scenario.model_validate(data)


def main(argv: list[str] | None = None) -> int:
    """Profile one run and print the table (``--json`` prints the raw result instead)."""
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="small", choices=["small", "median", "large"])
    ap.add_argument("--region", default="central_hill")
    ap.add_argument("--households-per-agent", type=int, default=1)
    ap.add_argument("--end", default=None, help="last day of the timeline (default: the scenario's, 2025-12-31)")
    ap.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = ap.parse_args(argv)
    res = profile_run(scenario_for(args.size, args.region, args.households_per_agent, args.end))
    if args.json:
        print(json.dumps(res))
        return 0
    print(f"{args.size}: {res['households']:,d} households, {res['weeks']} weeks, total {res['total_s']:.2f} s")
    print(format_phases(res["phases"], res["total_s"]))
    if res["not_instrumented"]:
        print("not instrumented (the model changed): " + ", ".join(res["not_instrumented"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
