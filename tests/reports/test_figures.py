"""A check's figures reach its report as one JSON user property, and back."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from tradeops import figures


def request() -> SimpleNamespace:
    return SimpleNamespace(node=SimpleNamespace(user_properties=[]))


def test_figures_are_recorded_as_plain_json_numbers_and_read_back_merged():
    r = request()
    figures.record(r, nav=Decimal("98200.50"), peak=100_000, limit=Decimal("0.05"))
    figures.record(r, run="r-17", age_s=12.5)
    r.node.user_properties.append(("other", "x"))
    assert r.node.user_properties[0][0] == "tradeops_figures"
    assert figures.read(r.node.user_properties) == {
        "nav": 98200.5,
        "peak": 100000.0,
        "limit": 0.05,
        "run": "r-17",
        "age_s": 12.5,
    }


def test_a_value_json_cannot_hold_is_left_out_and_never_fails_the_check():
    r = request()
    figures.record(r, nav=Decimal("NaN"), peak=float("inf"), odd=object(), ok=None)
    assert figures.read(r.node.user_properties) == {"ok": None}
    assert figures.read([("tradeops_figures", "not json")]) == {}
    assert figures.read(None) == {}
