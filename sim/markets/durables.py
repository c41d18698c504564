"""Durable goods going to the countryside: appliances and new-energy vehicles (task group 4).

A rural household replaces its major appliance, and a vehicle owner the vehicle, when it
becomes due: the weekly purchase hazard rises with age as a logistic curve around the
lifetime, divided by the mean wait once due. Vouchers (以旧换新 trade-in subsidies) raise
the hazard while they run, so purchases are pulled forward: more during the window, fewer
after (those households have already bought). A replaced vehicle is new-energy with a
higher probability where the township has public charging.

Money is conserved: sellers receive the full price; the household pays the price less the
voucher; the government pays the voucher from the durable-voucher programme, as far as
its funds go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import CountyModel


def due_hazard(age: np.ndarray, lifetime: float, spread: float, wait_weeks: float) -> np.ndarray:
    """Weekly chance of buying for an item of the given age (years)."""
    return 1.0 / (1.0 + np.exp(-(age - lifetime) / spread)) / wait_weeks


def stationary_ages(rng: np.random.Generator, n: int, lifetime: float, spread: float, wait_weeks: float) -> np.ndarray:
    """Ages (years) drawn from the steady state of replacement under the due hazard.

    In a steady state the density of ages is proportional to the chance of an item
    surviving to that age, exp(-cumulated hazard); it is tabulated weekly and sampled.
    """
    weeks = np.arange(0.0, 10.0 * (lifetime + 5.0 * spread + wait_weeks / 52.0) * 52.0)
    hazard = due_hazard(weeks / 52.0, lifetime, spread, wait_weeks)
    survival = np.exp(-np.concatenate([[0.0], np.cumsum(hazard)[:-1]]))
    p = survival / survival.sum()
    return (rng.choice(len(weeks), size=n, p=p) + rng.random(n)) / 52.0


class DurablePurchases:
    """Weekly appliance and vehicle purchases of rural households, and charging access."""

    def __init__(self, model: CountyModel):
        self.model = model
        c = model.county
        d = model.config.durables
        rng = model.streams["durables_setup"]
        towns = c.townships
        k = round(d.initial_charging_share * len(towns))
        self.charging = np.zeros(c.n, dtype=bool)
        if k:
            self.charging[rng.choice(towns, size=k, replace=False)] = True
        self.week: dict[str, float] = {}

    def voucher_rate(self) -> float:
        """The voucher rate in force this week (0 outside the window or when funds are gone)."""
        gov = self.model.government
        if not gov.is_open("durable_vouchers") or not gov.can_pay("durable_vouchers"):
            return 0.0
        return self.model.config.policy.voucher_rate

    def buy_week(self, rng: np.random.Generator) -> dict[str, float]:
        """This week's purchases; returns counts (real households) and money flows."""
        m = self.model
        hh = m.households
        d = m.config.durables
        pol = m.config.policy
        rows = np.flatnonzero(hh.rural)
        u_app, u_veh, u_nev = rng.random(len(hh)), rng.random(len(hh)), rng.random(len(hh))
        hh.appliance_age[rows] += 1.0 / 52.0
        hh.vehicle_age[rows] += 1.0 / 52.0
        rate = self.voucher_rate()
        # the response follows the voucher as a share of the price, after the cap
        eff_app = min(rate * d.appliance_price, pol.voucher_cap) / d.appliance_price
        eff_veh = min(rate * d.vehicle_price, pol.voucher_cap) / d.vehicle_price
        h_app = due_hazard(
            hh.appliance_age[rows], d.appliance_lifetime_years, d.due_spread_years, d.wait_weeks_when_due
        )
        h_veh = due_hazard(hh.vehicle_age[rows], d.vehicle_lifetime_years, d.due_spread_years, d.wait_weeks_when_due)
        buy_app = u_app[rows] < np.minimum(1.0, h_app * (1.0 + d.voucher_response * eff_app))
        buy_veh = hh.vehicle[rows] & (u_veh[rows] < np.minimum(1.0, h_veh * (1.0 + d.voucher_response * eff_veh)))
        charging = self.charging[hh.township[rows]]
        nev_p = np.where(charging, d.nev_charging_share, d.nev_base_share)
        nev = buy_veh & (u_nev[rows] < nev_p)
        hh.appliance_age[rows[buy_app]] = 0.0
        hh.vehicle_age[rows[buy_veh]] = 0.0
        w = hh.weight[rows]
        n_app, n_veh = float(w[buy_app].sum()), float(w[buy_veh].sum())
        price = n_app * d.appliance_price + n_veh * d.vehicle_price
        wanted = (
            (
                n_app * min(rate * d.appliance_price, pol.voucher_cap)
                + n_veh * min(rate * d.vehicle_price, pol.voucher_cap)
            )
            if rate > 0
            else 0.0
        )
        voucher = m.government.pay_up_to("durable_vouchers", wanted)
        self.week = {
            "appliances": n_app,
            "vehicles": n_veh,
            "nev": float(w[nev].sum()),
            "sellers_receive": price,
            "households_pay": price - voucher,
            "vouchers": voucher,
        }
        return self.week

    def build_charging(self) -> bool:
        """The charging build-out: equip townships up to the target share as funds allow."""
        m = self.model
        p = m.config.policy.durables  # the charging build-out
        towns = m.county.townships
        target = round(p.charging_target_share * len(towns))
        missing = [int(t) for t in towns if not self.charging[t]]
        need = max(0, target - (len(towns) - len(missing)))
        built = 0
        for t in missing[:need]:
            if not m.government.pay("charging", p.charging_cost_per_township, place=t):
                break
            self.charging[t] = True
            built += 1
        if built:
            m.record_event("facilities", facility="charging", townships=built)
        return built == need
