"""The county government: receives the programmes' funds, pays subsidies, is audited.

Each calendar year the county receives central funds plus its local match
(``policy.annual_budget`` × (1 + ``policy.local_cofunding_rate``)), prorated in a first
year that starts mid-year, and splits them into programme pots by the scenario's
allocation rule (:meth:`Government.allocation_shares`). A subsidy is paid only while its
programme's window is open and only when the pot can cover it in full, so spending can
never exceed funds.

Leakage (plan section 4(2) asks for audits because funds go astray): a share
``policy.leakage_share`` of what is paid out does not reach its purpose, so a subsidy of
``s`` costs the pot ``s / (1 - share)``. Quarterly audits (and dated spot checks) find the
leaked funds not yet recovered with probability ``policy.audit_intensity``; found funds
are clawed back (returned to the province, so they leave the county's budget) and the
county is flagged (通报) for ``policy.flag_months`` when the finding is a major problem
(at least ``policy.flag_threshold`` of what was paid out since the previous audit).

Every yuan received is in exactly one place at any time::

    received = spent + leaked (not recovered) + clawed back + lapsed + available

where ``available`` is what the pots hold now (including what rolled over from earlier
years). :meth:`Government.ledger` reports the identity; a test checks it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from sim.policy.catalogue import BY_PROGRAMME, PROGRAMMES, lever_value, window_end, window_start
from sim.policy.demand import programme_need

if TYPE_CHECKING:
    from sim.model import CountyModel

__all__ = ["PROGRAMMES", "Government"]

#: Tolerance (yuan) of the pay rule's comparison: floating-point sums of many small
#: payments must not refuse a payment the pot covers exactly.
TOLERANCE = 1e-9


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


class Government(mesa.Agent):
    """One per county. Holds the programme pots and the record of where every yuan went.

    Attributes:
        pots: Funds each programme may pay to any place (yuan).
        remote_pots: Funds held for remote places under ``remote_first`` (yuan).
        spent: Cumulative subsidy that reached its purpose, by programme (yuan).
        leaked: Leaked funds not (yet) recovered, by programme (yuan).
        leaked_total: All funds that leaked, recovered or not, by programme (yuan).
        clawed_back: Leaked funds recovered by audits and returned, by programme (yuan).
        lapsed: Funds unspent at a year's end that lapsed, by programme (yuan).
        received: Cumulative funds received, central and local (yuan).
        received_central, received_local: The two parts of ``received`` (yuan).
        rolled_over: Cumulative funds carried from one year into the next (yuan; part of
            the pots, counted once more here only as a flow).
        flagged_until: Day until which an audit finding flags the county (None: never flagged).
    """

    def __init__(self, model: CountyModel):
        super().__init__(model)
        self.pots = dict.fromkeys(PROGRAMMES, 0.0)
        self.remote_pots = dict.fromkeys(PROGRAMMES, 0.0)
        self.spent = dict.fromkeys(PROGRAMMES, 0.0)
        self.leaked = dict.fromkeys(PROGRAMMES, 0.0)
        self.leaked_total = dict.fromkeys(PROGRAMMES, 0.0)
        self.clawed_back = dict.fromkeys(PROGRAMMES, 0.0)
        self.lapsed = dict.fromkeys(PROGRAMMES, 0.0)
        self.received = 0.0
        self.received_central = 0.0
        self.received_local = 0.0
        self.rolled_over = 0.0
        self.flagged_until: dt.date | None = None
        self.paid_since_audit = 0.0

    # --- windows and status ------------------------------------------------------------

    def is_open(self, programme: str, day: dt.date | None = None) -> bool:
        """Whether the programme pays on ``day`` (default: the current week's start)."""
        pol = self.model.config.policy
        if not pol.enabled:
            return False
        day = self.model.today if day is None else day
        w = getattr(pol.windows, programme)
        start, end = window_start(w.start), window_end(w.end)
        return (start is None or day >= start) and (end is None or day <= end)

    def open_between(self, programme: str, first: dt.date, last: dt.date) -> bool:
        """Whether the programme's window overlaps ``first``..``last``."""
        pol = self.model.config.policy
        if not pol.enabled:
            return False
        w = getattr(pol.windows, programme)
        start, end = window_start(w.start), window_end(w.end)
        return (start is None or start <= last) and (end is None or end >= first)

    @property
    def flagged(self) -> bool:
        """Whether an audit finding flags the county now."""
        return self.flagged_until is not None and self.model.today < self.flagged_until

    # --- funds arriving ------------------------------------------------------------------

    def split(self, funds: float, first: dt.date, last: dt.date) -> dict[str, float]:
        """How funds arriving now are shared between programme pots, for use until ``last``.

        * ``weights``: by ``policy.budget_weights`` normalised over the programmes whose
          window is open in the period (a closed programme's weight would only sit idle);
        * ``shares``: by ``policy.budget_weights`` as given, open or not;
        * ``by_demand`` and ``remote_first``: by unmet fundable demand (each programme's
          :func:`sim.policy.demand.programme_need`, grossed up for leakage, less what its pots
          already hold). Dated
          facility projects are indivisible, so they are funded in full first, earliest
          date first, while funds last; the rest is shared in proportion to the other
          programmes' unmet demand. With no unmet demand left, the weights decide.
        """
        pol = self.model.config.policy
        if pol.allocation == "shares":
            return {p: funds * w for p, w in pol.budget_weights.model_dump().items()}
        live = [p for p in PROGRAMMES if self.open_between(p, first, last)] or list(PROGRAMMES)
        weights = pol.budget_weights.model_dump()
        amounts = dict.fromkeys(PROGRAMMES, 0.0)
        rest = {p: weights[p] for p in live}
        left = funds
        if pol.allocation in ("by_demand", "remote_first"):
            gross = 1.0 / (1.0 - pol.leakage_share)  # the pot pays leaked funds too
            unmet = {
                p: max(0.0, programme_need(self.model, p, first, last) * gross - self.pots[p] - self.remote_pots[p])
                for p in live
            }
            projects = sorted(
                (p for p in live if BY_PROGRAMME[p].date_lever and unmet[p] > 0),
                key=lambda p: (lever_value(self.model.config, BY_PROGRAMME[p].date_lever), PROGRAMMES.index(p)),
            )
            for p in projects:
                amounts[p] = min(unmet[p], left)
                left -= amounts[p]
            others = {p: unmet[p] for p in live if p not in projects}
            if sum(others.values()) > 0:
                rest = others
        total = sum(rest.values())
        if total <= 0:
            rest, total = weights, sum(weights.values())
        for p, w in rest.items():
            amounts[p] += left * w / total
        return amounts

    def _allocate(self, funds: float, first: dt.date, last: dt.date, programme: str | None = None) -> None:
        pol = self.model.config.policy
        amounts = {programme: funds} if programme else self.split(funds, first, last)
        for prog, amount in amounts.items():
            held = 0.0
            if pol.allocation == "remote_first" and BY_PROGRAMME[prog].place is not None:
                held = amount * pol.remote_fund_share
            self.remote_pots[prog] += held
            self.pots[prog] += amount - held

    def new_year(self, today: dt.date, first: bool) -> None:
        """Close the old year (roll over or lapse) and receive this year's funds (prorated
        in a first, partial year; cut while flagged; raised while a leading county)."""
        p = self.model.config.policy
        if not first:
            if p.unspent_rolls_over:
                self.rolled_over += self.funds_available
            else:
                for prog in PROGRAMMES:
                    self.lapsed[prog] += self.pots[prog] + self.remote_pots[prog]
                    self.pots[prog] = self.remote_pots[prog] = 0.0
        if not p.enabled:
            return
        fraction = 1.0
        year_end = dt.date(today.year, 12, 31)
        if first:
            fraction = ((year_end - today).days + 1) / (366 if today.year % 4 == 0 else 365)
        central = p.annual_budget * fraction
        if self.flagged:
            central *= 1.0 - p.flag_funding_cut
        if self.model.evaluator.leading:
            central += p.leading_county_bonus * p.annual_budget * fraction
        local = central * p.local_cofunding_rate
        self.received_central += central
        self.received_local += local
        self.received += central + local
        self._allocate(central + local, today, year_end)
        self.model.record_event("budget", funds="annual", central=central, local=local)

    def grant(self, amount: float, programme: str | None = None, note: str = "") -> None:
        """A one-off grant (counted as central funds, without local match), into one pot or
        shared by the allocation rule over the rest of the year."""
        if not self.model.config.policy.enabled:
            return
        today = self.model.today
        self.received_central += amount
        self.received += amount
        self._allocate(amount, today, dt.date(today.year, 12, 31), programme)
        self.model.record_event("budget", funds="grant", central=amount, local=0.0, programme=programme, note=note)

    # --- paying ----------------------------------------------------------------------------

    def pay(self, programme: str, amount: float, place: int | None = None) -> bool:
        """Pay a one-off subsidy in full, or nothing.

        Args:
            programme: The paying programme.
            amount: What reaches the project (yuan); the pot pays it grossed up for leakage.
            place: The settlement the project is in; remote places may also draw on the
                funds held for them under ``remote_first``.

        Returns:
            True when paid (or nothing was due while the programme is open); False when
            the programme is closed or its funds cannot cover the payment.
        """
        if not self.is_open(programme):
            return False
        if amount <= 0:
            return True
        cost = amount / (1.0 - self.model.config.policy.leakage_share)
        remote = place is not None and bool(self.model.remote[place])
        reserved = self.remote_pots[programme] if remote else 0.0
        if reserved + self.pots[programme] + TOLERANCE < cost:
            return False
        from_reserve = min(reserved, cost)
        self.remote_pots[programme] -= from_reserve
        self.pots[programme] = max(0.0, self.pots[programme] - (cost - from_reserve))
        self._book(programme, amount, cost)
        return True

    def pay_up_to(self, programme: str, amount: float) -> float:
        """Pay as much of a running subsidy (per parcel, per week) as the pot holds.

        Returns:
            What reached its purpose (yuan); 0 while the programme is closed.
        """
        if amount <= 0 or not self.is_open(programme):
            return 0.0
        keep = 1.0 - self.model.config.policy.leakage_share
        cost = min(amount / keep, self.pots[programme])
        if cost <= 0:
            return 0.0
        self.pots[programme] -= cost
        paid = cost * keep
        self._book(programme, paid, cost)
        return paid

    def pay_up_to_each(self, programme: str, amount: float, count: int) -> np.ndarray:
        """``pay_up_to(programme, amount)`` for ``count`` claimants in turn, in one step:
        each is paid in full until the pot runs short, the next gets what is left, the rest
        nothing (a cumulative sum instead of a loop).

        Returns:
            What reached each claimant (yuan), in claim order.
        """
        if amount <= 0 or count == 0 or not self.is_open(programme):
            return np.zeros(count)
        keep = 1.0 - self.model.config.policy.leakage_share
        want = amount / keep
        before = want * np.arange(count)  # what the earlier claimants took, had they been paid in full
        cost = np.clip(self.pots[programme] - before, 0.0, want)
        total = float(cost.sum())
        if total <= 0:
            return np.zeros(count)
        self.pots[programme] = max(0.0, self.pots[programme] - total)
        paid = cost * keep
        self._book(programme, float(paid.sum()), total)
        return paid

    def can_pay(self, programme: str) -> bool:
        """Whether the programme is open and has any funds (what a firm checks before
        counting on a running subsidy)."""
        return self.is_open(programme) and self.pots[programme] > 0

    def _book(self, programme: str, reached: float, cost: float) -> None:
        self.paid_since_audit += cost
        self.spent[programme] += reached
        self.leaked[programme] += cost - reached
        self.leaked_total[programme] += cost - reached

    # --- audits ----------------------------------------------------------------------------

    def audit(self, certain: bool = False) -> float:
        """A quarterly audit (or, with ``certain``, a dated spot check): finds and claws back
        every leaked yuan not yet recovered, and flags the county if the finding is at least
        ``policy.flag_threshold`` of the funds paid out since the previous audit.

        One uniform number is drawn from the ``audits`` stream every time, whether or not
        the audit happens, so the draws line up across lever settings.

        Returns:
            Leaked funds found and clawed back (yuan).
        """
        m = self.model
        draw = m.streams["audits"].random()
        if not certain and draw >= m.config.policy.audit_intensity:
            return 0.0
        pol = m.config.policy
        found = sum(self.leaked.values())
        major = found > 0 and found >= pol.flag_threshold * self.paid_since_audit - TOLERANCE
        for prog in PROGRAMMES:
            self.clawed_back[prog] += self.leaked[prog]
            self.leaked[prog] = 0.0
        if major:
            self.flagged_until = add_months(m.today, pol.flag_months)
        m.record_event(
            "audits",
            certain=certain,
            found=found,
            paid_since_last_audit=self.paid_since_audit,
            flagged_until=self.flagged_until.isoformat() if major and self.flagged_until else None,
        )
        self.paid_since_audit = 0.0
        return found

    # --- totals ----------------------------------------------------------------------------

    @property
    def total_spent(self) -> float:
        return sum(self.spent.values())

    @property
    def funds_available(self) -> float:
        return sum(self.pots.values()) + sum(self.remote_pots.values())

    def ledger(self) -> dict[str, Any]:
        """Where every yuan received has gone, by programme, and the accounting identity's gap."""
        by = {
            prog: {
                "spent": self.spent[prog],
                "leaked": self.leaked[prog],
                "leaked_total": self.leaked_total[prog],
                "clawed_back": self.clawed_back[prog],
                "lapsed": self.lapsed[prog],
                "available": self.pots[prog] + self.remote_pots[prog],
            }
            for prog in PROGRAMMES
        }
        totals = {k: sum(v[k] for v in by.values()) for k in next(iter(by.values()))}
        accounted = totals["spent"] + totals["leaked"] + totals["clawed_back"] + totals["lapsed"] + totals["available"]
        return {
            "received": self.received,
            "received_central": self.received_central,
            "received_local": self.received_local,
            "rolled_over": self.rolled_over,
            **totals,
            "unaccounted": self.received - accounted,
            "by_programme": by,
        }
