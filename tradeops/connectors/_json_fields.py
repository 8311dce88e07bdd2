"""Typed reads of a decoded JSON answer that name the wrong field by its path.

`Fields(answer, "GET /api/control/summary")` reads values like `f.integer(run, "gaps", "runs[3]")`
and raises ControlPlaneError("... GET /api/control/summary: runs[3].gaps: expected an
integer, got 'x'") when the platform answers something the contract does not allow.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tradeops.connectors.errors import ControlPlaneError

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

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def fail(self, path: str, wanted: str, value: object) -> ControlPlaneError:
        """The error for a field that is not what the contract says."""
        return ControlPlaneError(f"{self.prefix}: {path}: expected {wanted}, got {_shown(value)}")

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
        """A string field."""
        value, path = self._get(obj, key, where)
        if not isinstance(value, str):
            raise self.fail(path, "a string", value)
        return value

    def integer(self, obj: dict[str, Any], key: str, where: str = "") -> int:
        """An integer field (true/false are not integers)."""
        value, path = self._get(obj, key, where)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(path, "an integer", value)
        return value

    def number(self, obj: dict[str, Any], key: str, where: str = "") -> float:
        """A number field (an integer is accepted)."""
        value, path = self._get(obj, key, where)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.fail(path, "a number", value)
        return float(value)

    def flag(self, obj: dict[str, Any], key: str, where: str = "") -> bool:
        """A true/false field."""
        value, path = self._get(obj, key, where)
        if not isinstance(value, bool):
            raise self.fail(path, "true or false", value)
        return value

    def time(self, obj: dict[str, Any], key: str, where: str = "") -> datetime:
        """An RFC 3339 time, as an aware UTC datetime."""
        parsed = self.time_or_none(obj, key, where)
        if parsed is None:
            raise self.fail(f"{where}.{key}" if where else key, "an RFC 3339 time", None)
        return parsed

    def time_or_none(self, obj: dict[str, Any], key: str, where: str = "") -> datetime | None:
        """An RFC 3339 time or null."""
        value, path = self._get(obj, key, where)
        if value is None:
            return None
        if not isinstance(value, str) or not _RFC3339.match(value):
            raise self.fail(path, "an RFC 3339 time", value)
        try:
            # 3.11's fromisoformat takes "Z" and any number of fractional digits
            # (OANDA-style nanoseconds are cut to microseconds).
            parsed = datetime.fromisoformat(value.upper().replace(" ", "T"))
        except ValueError:  # e.g. month 13: the shape was right, the date is not
            raise self.fail(path, "an RFC 3339 time", value) from None
        return parsed.astimezone(UTC)
