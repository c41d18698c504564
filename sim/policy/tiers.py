"""The tiers of county commerce (县域商业建设分级): one vocabulary for the model and its reports.

A county is rated 0 (none) to 3 (advanced) by :mod:`sim.policy.evaluation`; the number is
the ``county_tier`` indicator, the criteria file names the rated tiers ``basic``,
``enhanced`` and ``advanced``, and reports print the Chinese names. Every one of those
spellings is read off :class:`Tier`, so the numbering and the names cannot drift apart.
A leaf module: the schema, the evaluation and the experiments all import it.
"""

from __future__ import annotations

from enum import IntEnum


class Tier(IntEnum):
    """A county's tier; the value is the ``county_tier`` indicator's code."""

    NONE = 0
    BASIC = 1
    ENHANCED = 2
    ADVANCED = 3

    @property
    def label(self) -> str:
        """English name, as the criteria file and outputs spell it (``none``, ``basic``, ...)."""
        return self.name.lower()

    @property
    def zh(self) -> str:
        """The Chinese name of the tier (未达标 for none)."""
        return _ZH[self]


_ZH = {Tier.NONE: "未达标", Tier.BASIC: "基本型", Tier.ENHANCED: "增强型", Tier.ADVANCED: "提升型"}

#: The tiers a criteria file defines criteria for, lowest first: a county is at tier k when
#: it passes the criteria of the first k of them.
RATED_TIERS: tuple[Tier, ...] = (Tier.BASIC, Tier.ENHANCED, Tier.ADVANCED)

#: Names of the rated tiers, lowest first (the keys of a criteria file's ``tiers``).
TIERS: tuple[str, ...] = tuple(t.label for t in RATED_TIERS)

#: English name of each tier code.
TIER_LABELS: dict[int, str] = {int(t): t.label for t in Tier}

#: Chinese name of each tier code.
TIER_ZH: dict[int, str] = {int(t): t.zh for t in Tier}
