"""FX market hours, across the week and across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tradeops.market import fx_market_open, last_close


@pytest.mark.parametrize(
    ("utc", "is_open"),
    [
        ("2026-11-24T09:00:00", True),  # Tuesday
        ("2026-11-27T21:59:00", True),  # Friday 16:59 New York (EST, UTC-5)
        ("2026-11-27T22:00:00", False),  # Friday 17:00 New York: closed
        ("2026-11-28T12:00:00", False),  # Saturday
        ("2026-11-29T21:59:00", False),  # Sunday 16:59 New York
        ("2026-11-29T22:00:00", True),  # Sunday 17:00 New York: open
        ("2026-07-03T20:59:00", True),  # Friday 16:59 New York in summer (EDT, UTC-4)
        ("2026-07-03T21:00:00", False),
    ],
)
def test_the_market_is_open_sunday_to_friday_at_five_new_york(utc, is_open):
    assert fx_market_open(datetime.fromisoformat(utc).replace(tzinfo=UTC)) is is_open


def test_the_last_close_is_the_previous_friday_at_five_new_york():
    saturday = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert last_close(saturday) == datetime(2026, 11, 27, 22, tzinfo=UTC)
    friday_close = datetime(2026, 11, 27, 22, tzinfo=UTC)
    assert last_close(friday_close) == friday_close
    tuesday = datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert last_close(tuesday) == datetime(2026, 11, 20, 22, tzinfo=UTC)
