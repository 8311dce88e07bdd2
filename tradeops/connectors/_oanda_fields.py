"""Typed reading of OANDA JSON: every missing or mistyped field is named by its path.

`Fields(body, "account").decimal("NAV")` returns a Decimal or raises
`Malformed("account.NAV: expected a decimal string, got None")`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from tradeops.connectors._http import scrub

EPOCH_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)  # OANDA's v20 API is younger than this
MAX_MAGNITUDE = Decimal("1e15")  # money, units and prices are far below


class Malformed(ValueError):
    """An OANDA answer lacks a field or has it in the wrong type; the message names it."""


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _joined(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


class Fields:
    """A JSON object from an OANDA answer, read field by field with clear failures."""

    __slots__ = ("_data", "skew_s", "where")

    def __init__(self, data: object, where: str = "", skew_s: float = 5.0) -> None:
        if not isinstance(data, dict):
            raise Malformed(f"{where or 'answer'}: expected an object, got {_shown(data)}")
        self._data = data
        self.where = where
        self.skew_s = skew_s  # how far in the future a transaction or price may be

    def has(self, key: str) -> bool:
        """True if the field is present and not null."""
        return self._data.get(key) is not None

    def _fail(self, key: str, expected: str) -> Malformed:
        shown = _shown(self._data.get(key))
        return Malformed(scrub(f"{_joined(self.where, key)}: expected {expected}, got {shown}"))

    def text(self, key: str) -> str:
        """A string field (ids, names), scrubbed of any token a server echoed into it."""
        value = self._data.get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return scrub(value)

    def decimal(self, key: str, lo: Decimal | int | None = None) -> Decimal:
        """A money/price/units field: a decimal string as OANDA sends it, never a float;
        finite, below 1e15 in size, and at least `lo` when given."""
        value = self._data.get(key)
        if isinstance(value, str) and len(value) <= 64:
            try:
                number = Decimal(value)
            except InvalidOperation:
                number = None
            if number is not None and number.is_finite():
                if abs(number) >= MAX_MAGNITUDE:
                    raise self._fail(key, f"a figure below {MAX_MAGNITUDE:g} in size")
                if lo is not None and number < lo:
                    raise self._fail(key, f"a decimal string of at least {lo}")
                return number
        raise self._fail(key, "a decimal string")

    def integer(self, key: str) -> int:
        """A count field: a JSON integer, not negative (true/false are not counts)."""
        value = self._data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "an integer")
        if not 0 <= value < MAX_MAGNITUDE:
            raise self._fail(key, "a count from 0 to 1e15")
        return value

    def boolean(self, key: str) -> bool:
        """A true/false field."""
        value = self._data.get(key)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def time(self, key: str) -> datetime:
        """An RFC 3339 time (up to nanoseconds, kept to microseconds) as an aware UTC datetime,
        after 2000 and not in the future beyond the clock-skew tolerance."""
        value = self._data.get(key)
        moment = None
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value).astimezone(UTC)
            except (ValueError, OverflowError):
                moment = None
            if moment is not None and datetime.fromisoformat(value).tzinfo is None:
                moment = None
        if moment is None:
            raise self._fail(key, "an RFC 3339 time with a UTC offset")
        if moment < EPOCH_FLOOR:
            raise self._fail(key, "a time after 2000")
        if moment > datetime.now(UTC) + timedelta(seconds=self.skew_s):
            raise self._fail(key, f"a time not more than {self.skew_s:g} s in the future")
        return moment

    def object(self, key: str) -> Fields:
        """A nested object field."""
        if not isinstance(self._data.get(key), dict):
            raise self._fail(key, "an object")
        return Fields(self._data[key], _joined(self.where, key), self.skew_s)

    def objects(self, key: str) -> list[Fields]:
        """A list-of-objects field, each item named by its index."""
        items = self._data.get(key)
        if not isinstance(items, list):
            raise self._fail(key, "a list")
        where = _joined(self.where, key)
        return [Fields(item, _joined(where, i), self.skew_s) for i, item in enumerate(items)]

    def texts(self, key: str) -> list[str]:
        """A list-of-strings field (e.g. page URLs)."""
        items = self._data.get(key)
        if not isinstance(items, list):
            raise self._fail(key, "a list")
        for i, item in enumerate(items):
            if not isinstance(item, str):
                where = _joined(_joined(self.where, key), i)
                raise Malformed(f"{where}: expected a string, got {_shown(item)}")
        return list(items)
