"""Net exposure per currency, hand-computed."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradeops.exposure import conversion_pairs, net_exposure

MIDS = {"EUR_USD": D("1.10"), "USD_JPY": D("150"), "EUR_GBP": D("0.85"), "GBP_USD": D("1.25")}


def test_a_long_eurusd_position_is_long_euro_and_short_dollars():
    exposure = net_exposure({"EUR_USD": 1000}, MIDS)
    assert exposure == {"EUR": D("1100.00"), "USD": D("-1100.00")}


def test_a_cross_is_valued_in_dollars_through_the_majors():
    exposure = net_exposure({"EUR_GBP": 1000}, MIDS)
    assert exposure["EUR"] == D("1100.00")
    assert exposure["GBP"] == D("-850.00") * D("1.25")


def test_yen_is_valued_through_the_inverse_pair():
    exposure = net_exposure({"USD_JPY": -1000}, MIDS)
    assert exposure["USD"] == D(-1000)
    assert exposure["JPY"] == pytest.approx(D(1000))


def test_offsetting_positions_cancel_out():
    exposure = net_exposure({"EUR_USD": 1000, "EUR_GBP": -1000}, MIDS)
    assert "EUR" not in exposure
    assert exposure == {"USD": D("-1100.00"), "GBP": D("850.00") * D("1.25")}


def test_the_conversion_pairs_cover_every_currency():
    assert conversion_pairs(["EUR_GBP", "USD_JPY"]) == ["EUR_GBP", "EUR_USD", "GBP_USD", "USD_JPY"]
