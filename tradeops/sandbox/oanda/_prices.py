"""The simulator's market: FX trading hours, deterministic quotes, home-currency conversion.

Pure functions of (ledger data, now): the broker process passes the wall clock, tests pass
any instant they like, so market hours are testable without freezegun. Standard library only.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
# The FX week: opens Sunday 17:00 and closes Friday 17:00, New York time.
_ROLLOVER_HOUR = 17
_SUNDAY, _FRIDAY, _SATURDAY = 6, 4, 5

# The wiggle: a few pips around the ledger's mid, so prices move but stay reproducible.
_WIGGLE_PIPS = 2.0
_WIGGLE_PERIOD_S = 120.0
_HALF_SPREAD_PIPS = Decimal("0.7")
# Liquidity of the two price buckets OANDA-style quotes carry on each side.
LIQUIDITY = (1_000_000, 5_000_000)


# A deliberate copy of the suite's market hours (tradeops/market.py): the sandbox is an
# independent platform and must not import the suite it is judged by (see ../__init__.py).
def market_open(now: datetime) -> bool:
    """True while the FX market trades: Sunday 17:00 to Friday 17:00 America/New_York."""
    local = now.astimezone(NEW_YORK)
    day, hour = local.weekday(), local.hour
    if day == _SATURDAY:
        return False
    if day == _SUNDAY:
        return hour >= _ROLLOVER_HOUR
    if day == _FRIDAY:
        return hour < _ROLLOVER_HOUR
    return True


def last_close(now: datetime) -> datetime:
    """The most recent Friday 17:00 New York close at or before `now`, in UTC."""
    local = now.astimezone(NEW_YORK)
    days_back = (local.weekday() - _FRIDAY) % 7
    friday = (local - timedelta(days=days_back)).date()
    close = _close_on(friday)
    if close > local:  # a Friday before 17:00: the close that counts is last week's
        close = _close_on(friday - timedelta(days=7))
    return close.astimezone(UTC)


def _close_on(day: date) -> datetime:
    # Built in New York time so daylight saving moves the UTC instant (21:00 or 22:00).
    return datetime(day.year, day.month, day.day, _ROLLOVER_HOUR, tzinfo=NEW_YORK)


@dataclass(frozen=True)
class Quote:
    """One instrument's price at one instant, as the simulator quotes it."""

    instrument: str
    time: datetime
    tradeable: bool
    bid: Decimal
    ask: Decimal
    bid_deep: Decimal  # the second, deeper bucket; also the closeout bid
    ask_deep: Decimal

    @property
    def mid(self) -> Decimal:
        """Halfway between the best bid and ask."""
        return (self.bid + self.ask) / 2


def quote(
    instrument: str,
    spec: dict,
    now: datetime,
    *,
    gap: Decimal = Decimal(0),
    frozen_at: datetime | None = None,
) -> Quote:
    """The quote for `instrument` (ledger spec: mid, pip, precision) at `now`.

    While the market is closed the quote is frozen at the last Friday close, with that
    close as its time and `tradeable` false, as OANDA quotes over a weekend. Two faults:
    `gap` moves the mid by that much; `frozen_at` (while the market is open) serves the
    quote of that earlier instant, still tradeable, as a price feed that stopped updating.
    """
    is_open = market_open(now)
    at = now.astimezone(UTC) if is_open else last_close(now)
    if is_open and frozen_at is not None and frozen_at < at:
        at = frozen_at.astimezone(UTC)
    pip = Decimal(spec["pip"])
    tick = Decimal(1).scaleb(-int(spec["precision"]))
    # A stable per-instrument phase (crc32, not hash(): hash() is salted per process).
    phase = (zlib.crc32(instrument.encode()) % 360) * math.pi / 180
    offset = _WIGGLE_PIPS * math.sin(2 * math.pi * at.timestamp() / _WIGGLE_PERIOD_S + phase)
    mid = Decimal(spec["mid"]) + gap + pip * Decimal(f"{offset:.3f}")
    half = pip * _HALF_SPREAD_PIPS
    bid = (mid - half).quantize(tick, rounding=ROUND_FLOOR)
    ask = (mid + half).quantize(tick, rounding=ROUND_CEILING)
    return Quote(instrument, at, is_open, bid, ask, bid - 2 * tick, ask + 2 * tick)


class ConversionError(ValueError):
    """No instrument in the ledger converts a currency to the home currency."""


# A deliberate copy of the suite's conversion (tradeops/exposure.py `home_rate`): OANDA
# converts the same way, and the sandbox must not import the suite it is judged by.
def home_factor(currency: str, home: str, mids: dict[str, Decimal]) -> Decimal:
    """How many units of `home` one unit of `currency` is worth, from the instruments' mids.

    GBP -> USD via GBP_USD's mid; JPY -> USD via 1 / USD_JPY's mid.
    """
    if currency == home:
        return Decimal(1)
    if f"{currency}_{home}" in mids:
        return mids[f"{currency}_{home}"]
    if f"{home}_{currency}" in mids:
        return 1 / mids[f"{home}_{currency}"]
    raise ConversionError(f"no instrument converts {currency} to {home} (need {currency}_{home})")


def quote_currency(instrument: str) -> str:
    """EUR_GBP -> GBP."""
    return instrument.rpartition("_")[2]
