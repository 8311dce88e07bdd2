"""Typed reads of a decoded JSON answer that name the wrong field by its path.

`Fields(answer, "GET /api/control/summary")` reads values like `f.integer(run, "gaps", "runs[3]")`
and raises ControlPlaneError("... GET /api/control/summary: runs[3].gaps: expected an
integer, got 'x'") when the platform answers something the contract does not allow.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tradeops.connectors._http import scrub
from tradeops.connectors.errors import ControlPlaneError

EPOCH_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)  # no platform event predates this
CLOCK_CEILING = datetime(2100, 1, 1, tzinfo=UTC)  # a platform clock beyond this is broken
MAX_MAGNITUDE = 1e15  # any figure the contract carries (counts, money) is far below

# RFC 3339 date-time (section 5.6): a full date, T (or t/space), a full time, an offset.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")


def _shown(value: object) -> str:
    """A value as the error shows it: JSON's null/true/false, else its repr, cut short."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Fields:
    """Reads fields out of one answer; every error starts with `prefix`."""

    def __init__(self, prefix: str, skew_s: float = 5.0) -> None:
        self.prefix = prefix
        self.skew_s = skew_s  # how far in the future an event's time may be

    def fail(self, path: str, wanted: str, value: object) -> ControlPlaneError:
        """The error for a field that is not what the contract says (never showing a token)."""
        return ControlPlaneError(
            scrub(f"{self.prefix}: {path}: expected {wanted}, got {_shown(value)}")
        )

    def missing(self, path: str) -> ControlPlaneError:
        """The error for a field the answer lacks."""
        return ControlPlaneError(f"{self.prefix}: {path}: missing")

    def _get(self, obj: dict[str, Any], key: str, where: str) -> tuple[Any, str]:
        path = f"{where}.{key}" if where else key
        if key not in obj:
            raise self.missing(path)
        return obj[key], path

    def obj(self, value: object, path: str) -> dict[str, Any]:
        """A JSON object (`path` names it; "" for the whole answer)."""
        if not isinstance(value, dict):
            raise self.fail(path or "the answer", "a JSON object", value)
        return value

    def sub(self, obj: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
        """A nested object field."""
        value, path = self._get(obj, key, where)
        return self.obj(value, path)

    def array(self, obj: dict[str, Any], key: str, where: str = "") -> list[Any]:
        """A JSON array field."""
        value, path = self._get(obj, key, where)
        if not isinstance(value, list):
            raise self.fail(path, "a list", value)
        return value

    def text(self, obj: dict[str, Any], key: str, where: str = "") -> str:
        """A string field, scrubbed of any token (a server may echo one into it)."""
        value, path = self._get(obj, key, where)
        if not isinstance(value, str):
            raise self.fail(path, "a string", value)
        return scrub(value)

    def integer(self, obj: dict[str, Any], key: str, where: str = "", lo: int = 0) -> int:
        """An integer field, at least `lo` (true/false are not integers)."""
        value, path = self._get(obj, key, where)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(path, "an integer", value)
        if not lo <= value < MAX_MAGNITUDE:
            raise self.fail(path, f"an integer from {lo} to {MAX_MAGNITUDE:g}", value)
        return value

    def number(
        self,
        obj: dict[str, Any],
        key: str,
        where: str = "",
        lo: float = -MAX_MAGNITUDE,
        hi: float = MAX_MAGNITUDE,
    ) -> float:
        """A finite number in [lo, hi] (an integer is accepted; NaN and Infinity are not)."""
        value, path = self._get(obj, key, where)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.fail(path, "a number", value)
        number = float(value)
        if not math.isfinite(number):
            raise self.fail(path, "a finite number", value)
        if not lo <= number <= hi:
            raise self.fail(path, f"a number from {lo:g} to {hi:g}", value)
        return number

    def flag(self, obj: dict[str, Any], key: str, where: str = "") -> bool:
        """A true/false field."""
        value, path = self._get(obj, key, where)
        if not isinstance(value, bool):
            raise self.fail(path, "true or false", value)
        return value

    def time(self, obj: dict[str, Any], key: str, where: str = "", clock: bool = False) -> datetime:
        """An RFC 3339 time, as an aware UTC datetime (see time_or_none)."""
        parsed = self.time_or_none(obj, key, where, clock)
        if parsed is None:
            raise self.fail(f"{where}.{key}" if where else key, "an RFC 3339 time", None)
        return parsed

    def time_or_none(
        self, obj: dict[str, Any], key: str, where: str = "", clock: bool = False
    ) -> datetime | None:
        """An RFC 3339 time or null, not before 2000.

        An event's time (a write, a heartbeat) is not in the future beyond the clock-skew
        tolerance; the platform's own clock (`clock=True`) may be: the clock_skew check
        judges it, so here it is only refused beyond 2100.
        """
        value, path = self._get(obj, key, where)
        if value is None:
            return None
        if not isinstance(value, str) or not _RFC3339.match(value):
            raise self.fail(path, "an RFC 3339 time", value)
        try:
            # 3.11's fromisoformat takes "Z" and any number of fractional digits
            # (OANDA-style nanoseconds are cut to microseconds).
            parsed = datetime.fromisoformat(value.upper().replace(" ", "T")).astimezone(UTC)
        except (ValueError, OverflowError):  # month 13; year 1 shifted before year 1
            raise self.fail(path, "an RFC 3339 time", value) from None
        return self.plausible(parsed, path, value, clock)

    def plausible(self, moment: datetime, path: str, value: object, clock: bool) -> datetime:
        """`moment` if it is after 2000 and not in the future (beyond skew, or 2100)."""
        if moment < EPOCH_FLOOR:
            raise self.fail(path, "a time after 2000", value)
        ceiling = CLOCK_CEILING
        if not clock:
            ceiling = datetime.now(UTC) + timedelta(seconds=self.skew_s)
        if moment > ceiling:
            limit = "before 2100" if clock else f"not more than {self.skew_s:g} s in the future"
            raise self.fail(path, f"a time {limit}", value)
        return moment
