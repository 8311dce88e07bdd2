"""The broker simulator's market faults: quotes that stopped moving, and a price gap.

Pure price functions with an injected "now" (market hours testable any day), then the
simulator process reading both faults from sandbox.json and answering in OANDA's shape.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from tests.sandbox.conftest import (
    ACCOUNT_A,
    first_line,
    launch,
    sample_ledger,
    start_broker,
    write_sandbox,
)
from tradeops.sandbox.oanda._prices import market_open, quote
from tradeops.sandbox.oanda._render import Book

WEDNESDAY = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
GAP = Decimal("-0.0270")


def _spec(instrument: str = "EUR_USD") -> dict:
    return sample_ledger()["instruments"][instrument]


def _nanos(moment: datetime) -> str:
    """A UTC instant as OANDA's RFC 3339 with nanoseconds."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}000Z"


def test_frozen_prices_keep_the_quote_of_their_moment_and_stay_tradeable() -> None:
    frozen_at = WEDNESDAY - timedelta(minutes=10)
    later = quote("EUR_USD", _spec(), WEDNESDAY, frozen_at=frozen_at)
    much_later = quote("EUR_USD", _spec(), WEDNESDAY + timedelta(hours=1), frozen_at=frozen_at)
    assert later == much_later  # the quote no longer moves
    assert (later.time, later.tradeable) == (frozen_at, True)
    assert later == quote("EUR_USD", _spec(), frozen_at)  # what it was when it stopped


def test_over_a_weekend_frozen_prices_are_still_the_friday_close() -> None:
    frozen = quote("EUR_USD", _spec(), SATURDAY, frozen_at=SATURDAY - timedelta(minutes=10))
    assert frozen == quote("EUR_USD", _spec(), SATURDAY) and not frozen.tradeable


def test_a_price_gap_moves_the_quotes_and_the_accounts_valuation() -> None:
    plain, gapped = Book(sample_ledger()), Book(sample_ledger(), {"EUR_USD": GAP})
    before, after = plain.quotes(WEDNESDAY), gapped.quotes(WEDNESDAY)
    assert after["EUR_USD"].mid - before["EUR_USD"].mid == GAP
    assert after["EUR_GBP"] == before["EUR_GBP"]
    # Account A is long 10,000 EUR_USD: it loses 10,000 x 0.0270 = 270 USD, in NAV too.
    was, now = (b.summary(ACCOUNT_A, WEDNESDAY)["account"] for b in (plain, gapped))
    for field in ("unrealizedPL", "NAV"):
        assert Decimal(now[field]) - Decimal(was[field]) == 10_000 * GAP
    positions = gapped.open_positions(ACCOUNT_A, WEDNESDAY)["positions"]
    eur = next(p for p in positions if p["instrument"] == "EUR_USD")
    assert Decimal(eur["unrealizedPL"]) == 10_000 * (after["EUR_USD"].bid - Decimal("1.08000"))


def test_the_simulator_serves_frozen_and_gapped_prices_from_sandbox_json(
    tmp_path, broker_tokens, oracle
) -> None:
    now_ms = int(time.time() * 1000)
    faults = {"prices_frozen_s": 600, "price_gap": {"EUR_USD": str(GAP)}}
    sim = start_broker(tmp_path, sample_ledger(), {broker_tokens["a"]: [ACCOUNT_A]}, faults, now_ms)
    path = f"/v3/accounts/{ACCOUNT_A}/pricing?instruments=EUR_USD,GBP_USD"
    auth = {"Authorization": f"Bearer {broker_tokens['a']}"}
    try:
        first, second = (httpx.get(sim.url + path, headers=auth, timeout=5) for _ in range(2))
    finally:
        sim.stop()
    assert first.status_code == second.status_code == 200
    assert oracle.response_errors("/accounts/{accountID}/pricing", 200, first.json()) == []
    prices = first.json()["prices"]
    assert prices == second.json()["prices"]  # a frozen feed: the same quote every time
    eur = next(p for p in prices if p["instrument"] == "EUR_USD")
    mid = (Decimal(eur["bids"][0]["price"]) + Decimal(eur["asks"][0]["price"])) / 2
    assert abs(mid - (Decimal("1.08415") + GAP)) < Decimal("0.0003")  # +/- the 2-pip wiggle
    if market_open(datetime.now(UTC)):
        stopped = datetime.fromtimestamp(now_ms / 1000, UTC) - timedelta(seconds=600)
        assert {(p["time"], p["tradeable"]) for p in prices} == {(_nanos(stopped), True)}
    else:  # the weekend's answer is the Friday close, frozen feed or not
        assert {p["tradeable"] for p in prices} == {False}


@pytest.mark.parametrize(
    ("gap", "said"),
    [
        ({"EUR_XYZ": "-0.01"}, "broker.price_gap.EUR_XYZ: expected a listed instrument"),
        ({"EUR_USD": "lots"}, "broker.price_gap.EUR_USD: expected a listed instrument"),
        ({"EUR_USD": "-2"}, "broker.price_gap.EUR_USD: -2 takes the mid below 0"),
    ],
)
def test_a_price_gap_it_cannot_apply_stops_it_before_it_announces_a_port(
    tmp_path, gap, said
) -> None:
    process = launch(write_sandbox(tmp_path, sample_ledger(), {"price_gap": gap}), {})
    assert first_line(process) == ""
    assert process.wait(timeout=5) == 2
    assert said in (tmp_path / "broker.log").read_text()
