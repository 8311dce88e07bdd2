"""When the FX market is open: Sunday 17:00 to Friday 17:00, America/New_York.

Outside those hours OANDA's prices stop moving and are not tradeable: a price that old
is then expected, not a fault (but an API that does not answer still is).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
_CLOSE_HOUR = 17  # New York time, on Friday (close) and Sunday (open)
_FRIDAY, _SATURDAY, _SUNDAY = 4, 5, 6


def fx_market_open(instant: datetime) -> bool:
    """Is the FX market open at this aware instant?"""
    local = instant.astimezone(NEW_YORK)
    day = local.weekday()
    if day == _SATURDAY:
        return False
    if day == _FRIDAY:
        return local.hour < _CLOSE_HOUR
    if day == _SUNDAY:
        return local.hour >= _CLOSE_HOUR
    return True


def last_close(instant: datetime) -> datetime:
    """The most recent Friday 17:00 New York close at or before this instant."""
    local = instant.astimezone(NEW_YORK)
    days_back = (local.weekday() - _FRIDAY) % 7
    close = (local - timedelta(days=days_back)).replace(
        hour=_CLOSE_HOUR, minute=0, second=0, microsecond=0
    )
    if close > local:
        close -= timedelta(days=7)
    return close
