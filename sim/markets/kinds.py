"""The markets' two vocabularies: where households buy, and where farm households sell.

Each is an ``IntEnum`` whose value is the row (or column) of that channel in the
markets' arrays, so an array is indexed by name (``spend[:, Channel.ONLINE]``) and one
name means one channel everywhere. The settlement kinds have their own numbering
(:class:`sim.geography.SettlementKind`): ``Channel.COUNTY_TOWN`` is buying in the county
town, not the county town's settlement kind.

A leaf module (it imports nothing of the model), so households, the market, the farm
sales and the indicators can all read the vocabulary without importing one another.
"""

from __future__ import annotations

from enum import IntEnum


class Channel(IntEnum):
    """Where a household buys everyday goods (:mod:`sim.markets.channels`).

    The value is the channel's column in every (households, channels) array and its row
    in the channel-major ones.
    """

    VILLAGE_STORE = 0
    TOWNSHIP = 1
    COUNTY_TOWN = 2
    ONLINE = 3
    INSTANT_RETAIL = 4

    @property
    def label(self) -> str:
        """The channel's name in outputs (``village_store``, ..., ``instant_retail``)."""
        return self.name.lower()


class FarmChannel(IntEnum):
    """Where a farm household sells its harvest (:mod:`sim.markets.farm`).

    The value is the channel's row in the farm sales' channel-major arrays.
    """

    TRADER = 0
    MARKET = 1
    ANCHOR = 2
    SELF_ONLINE = 3

    @property
    def label(self) -> str:
        """The channel's name in outputs (``trader``, ``market``, ``anchor``, ``self_online``)."""
        return self.name.lower()
