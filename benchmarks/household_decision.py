"""The household weekly decision: vectorised (the model) against plain per-agent Mesa.

Usage: ``python -m benchmarks.household_decision [--sizes 10000 100000 1000000] [--repeats 5]``.

For each size a county is built with that many households (one agent per household), and
one weekly decision — channel choice and spending, farm sales, and the month's online
adoption — is timed in the model's vectorised form and in the plain per-agent Mesa form
of ``benchmarks/plain_mesa.py`` on the same inputs and the same random draws (warm-up
first, then repeats; medians and spread reported). The plain form is timed with fewer
repeats at the largest size because one pass takes tens of seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from benchmarks import write_results
from sim.config import Scenario
from sim.markets.adoption import adopt_month
from sim.markets.kinds import Channel
from sim.model import CountyModel

WEEK = 10  # a harvest-season week (mid-September 2023): farm sales are non-zero


def county_with(households: int) -> CountyModel:
    """A county whose population makes about ``households`` households (3 persons each)."""
    size = "small" if households <= 20_000 else ("median" if households <= 200_000 else "large")
    sc = Scenario.model_validate(
        {
            "map": {"size": size, "region": "central_hill", "population": int(households * 3)},
            "population": {"households_per_agent": 1, "household_size": 3.0},
            "outputs": {"figures": False, "progress": "off"},
        }
    )
    return CountyModel(sc, seed=1)


def vectorised(
    model: CountyModel, noise: np.ndarray, u_buy: np.ndarray, u_sell: np.ndarray
) -> tuple[dict[str, float], float]:
    """The model's own weekly household decision on the given draws.

    Returns the aggregates and the decision's time. As for the plain form, the time covers
    the households' decision only: the stores' and townships' channel attributes are worked
    out before the clock starts (the plain form gets them in its set-up), and the copy and
    restore of the state the decision changes (adoption, smoothed farm income, city volume,
    brand — so that repeats and the plain form start from the same state) happen outside it.
    """
    hh = model.households
    saved = (
        hh.online_buyer.copy(),
        hh.online_seller.copy(),
        hh.farm_revenue_avg.copy(),
        model.farm.last_online_value,
        model.farm.expected_parcels.copy(),
        model.anchors.reputation,
    )
    model.sellers.update_ratios()
    t0 = time.perf_counter()
    model._shop(WEEK, noise=noise)
    farm = model.farm.sell_week(WEEK, model.logistics.door_share)
    new_buy, new_sell = adopt_month(hh, model.config, model.logistics.door_share, None, uniforms=(u_buy, u_sell))
    elapsed = time.perf_counter() - t0
    hh.online_buyer[:], hh.online_seller[:], hh.farm_revenue_avg[:] = saved[0], saved[1], saved[2]
    model.farm.last_online_value, model.farm.expected_parcels, model.anchors.reputation = saved[3:]
    spend = model.week["spend"]
    w = hh.weight
    out = {
        "spend": float(spend.sum()),
        "online": float(spend[:, Channel.ONLINE].sum()),
        "instant": float(spend[:, Channel.INSTANT_RETAIL].sum()),
        "surplus": float(model.week["surplus"].sum()),
        "km": float(model.week["travel_km"].sum()),
        "farm_receipts": float(farm["receipts"]),
        "new_buyers": float(new_buy),
        "new_sellers": float(new_sell),
        "weights_checked": float(w.sum()),
    }
    return out, elapsed


def plain(
    model: CountyModel, noise: np.ndarray, u_buy: np.ndarray, u_sell: np.ndarray
) -> tuple[dict[str, float], float]:
    """The plain per-agent form; returns the aggregates and the decision time (set-up excluded)."""
    from benchmarks.plain_mesa import PlainModel

    pm = PlainModel(model, WEEK)
    t0 = time.perf_counter()
    out = pm.decide(noise, u_buy, u_sell)
    return out, time.perf_counter() - t0


def draws(model: CountyModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    n = len(model.households)
    sd = model.config.behaviour.spending_noise_sd
    return np.exp(rng.normal(-0.5 * sd**2, sd, n)), rng.random(n), rng.random(n)


def measure(households: int, repeats: int, plain_repeats: int) -> dict:
    model = county_with(households)
    noise, u_buy, u_sell = draws(model)
    vectorised(model, noise, u_buy, u_sell)  # warm-up
    times = [vectorised(model, noise, u_buy, u_sell)[1] for _ in range(repeats)]
    plain_times = []
    for _ in range(plain_repeats):
        _, t = plain(model, noise, u_buy, u_sell)
        plain_times.append(t)
    n = len(model.households)
    v, p = statistics.median(times), statistics.median(plain_times)
    return {
        "households": n,
        "vectorised_s_median": v,
        "vectorised_s_min": min(times),
        "vectorised_s_max": max(times),
        "plain_s_median": p,
        "plain_s_min": min(plain_times),
        "plain_s_max": max(plain_times),
        "decisions_per_s": n / v,
        "speedup": p / v,
        "repeats": repeats,
        "plain_repeats": plain_repeats,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default="benchmarks/results/household_decision.json")
    args = ap.parse_args(argv)
    rows = []
    for size in args.sizes:
        row = measure(size, args.repeats, 1 if size >= 500_000 else 3)
        rows.append(row)
        print(
            f"{row['households']:>9,d} households: vectorised {row['vectorised_s_median'] * 1000:8.1f} ms "
            f"({row['decisions_per_s'] / 1e6:6.2f} M decisions/s), plain Mesa {row['plain_s_median']:7.2f} s, "
            f"speed-up {row['speedup']:6.0f}x"
        )
    write_results(args.out, results=rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
