"""The plan's reference lines on a time axis: its phases, its 2025 targets and the
basic-tier thresholds, as figures and reports draw and check them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes

from sim.config import load_criteria
from sim.policy.catalogue import PHASES, Phase


@dataclass(frozen=True)
class TargetLine:
    """A threshold drawn on an indicator's series and checked in reports.

    Attributes:
        indicator: The indicator it applies to.
        value: The threshold.
        label: Short text for legends and tables.
        source: Where the number comes from (or why it is assumed).
        op: ``>=`` (reach at least) or ``<=`` (stay at most).
        kind: ``target`` (a 2025 target of the plan) or ``basic`` (a basic-tier criterion).
    """

    indicator: str
    value: float
    label: str
    source: str
    op: str = ">="
    kind: str = "target"

    def met(self, value: float) -> bool:
        return bool(value >= self.value) if self.op == ">=" else bool(value <= self.value)


def plan_phases() -> tuple[Phase, ...]:
    """The plan's phases (``sim.policy.catalogue.PHASES``, from the plan's annex), for shading time axes."""
    return tuple(PHASES)


def target_lines(criteria: str | Path | None = None) -> dict[str, list[TargetLine]]:
    """Reference lines by indicator: the 2025 targets and basic-tier thresholds.

    Read from a criteria file (:func:`sim.config.load_criteria`), so a change of criteria
    changes every figure and report. Only thresholds (``>=``/``<=``) become lines; "increase"
    targets have none.

    Args:
        criteria: A criteria file (default: the model's default, configs/criteria/national.yaml).
    """
    crit = load_criteria(criteria).criteria
    lines: list[TargetLine] = [
        TargetLine(t.indicator, float(t.threshold), f"2025 target: {t.goal}", t.source or t.reason or "", t.op)
        for t in crit.targets_2025.items
        if t.op in (">=", "<=") and t.threshold is not None
    ]
    lines += [
        TargetLine(
            c.indicator,
            float(c.threshold),
            f"basic tier (基本型): {c.op} {c.threshold:g}",
            c.source or c.reason or "",
            c.op,
            kind="basic",
        )
        for c in crit.tiers.basic
    ]
    out: dict[str, list[TargetLine]] = {}
    for line in lines:
        out.setdefault(line.indicator, []).append(line)
    return out


PHASE_SHADES = ("0.93", "0.86", "0.93")
TARGET_STYLE = {"target": {"color": "black", "ls": "--", "lw": 1.1}, "basic": {"color": "0.35", "ls": ":", "lw": 1.4}}


def shade_phases(ax: Axes, phases: Sequence[Phase] | None = None, labels: bool = True) -> None:
    """Shade the plan's phases behind a time axis (gray levels alternate; names written in)."""
    phases = plan_phases() if phases is None else phases
    for k, ph in enumerate(phases):
        ax.axvspan(
            pd.Timestamp(ph.start),
            pd.Timestamp(ph.end) + pd.Timedelta(days=1),
            color=PHASE_SHADES[k % len(PHASE_SHADES)],
            zorder=0,
            lw=0,
        )
        ax.axvline(pd.Timestamp(ph.start), color="0.6", lw=0.6, zorder=0)
        if labels:
            ax.text(
                pd.Timestamp(ph.start) + pd.Timedelta(days=8),
                0.98,
                f"{ph.name}\n{ph.zh}",
                transform=ax.get_xaxis_transform(),
                va="top",
                fontsize=6.5,
                color="0.25",
            )


def draw_targets(ax: Axes, lines: Iterable[TargetLine]) -> list[TargetLine]:
    """Draw reference lines across an axis (styled by kind: 2025 target or basic tier); returns them."""
    drawn = []
    for line in lines:
        ax.axhline(line.value, zorder=2, label=line.label, **TARGET_STYLE.get(line.kind, TARGET_STYLE["target"]))
        drawn.append(line)
    return drawn
