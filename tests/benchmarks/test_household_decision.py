"""The plain per-agent Mesa reference of the household decision gives the model's numbers.

The benchmark compares speed; this test makes sure it compares the same rules.
"""

from __future__ import annotations

import pytest

from benchmarks.household_decision import county_with, draws, plain, vectorised


def test_plain_mesa_reference_matches_the_vectorised_decision():
    model = county_with(3_000)
    noise, u_buy, u_sell = draws(model)
    fast, _ = vectorised(model, noise, u_buy, u_sell)
    slow, _ = plain(model, noise, u_buy, u_sell)
    for key in ("spend", "online", "instant", "surplus", "km", "farm_receipts"):
        assert slow[key] == pytest.approx(fast[key], rel=1e-9), key
    assert slow["new_buyers"] == fast["new_buyers"] and slow["new_sellers"] == fast["new_sellers"]
    assert fast["farm_receipts"] > 0 and fast["new_buyers"] > 0
