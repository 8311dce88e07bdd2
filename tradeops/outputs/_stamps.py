"""Times as the outputs read them: the document's RFC 3339 stamps, and operators' durations."""

from __future__ import annotations

from datetime import datetime

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def epoch(stamp: object) -> float | None:
    """An RFC 3339 UTC stamp ("2026-12-01T22:30:00.123Z") as Unix seconds, else None."""
    if not isinstance(stamp, str) or not stamp.endswith("Z"):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def seconds(duration: str) -> int:
    """A Prometheus-style duration ("90m", "2h", "1d") in seconds; ValueError otherwise."""
    text = duration.strip()
    if text[-1:] in _UNITS and text[:-1].isdigit() and int(text[:-1]) > 0:
        return int(text[:-1]) * _UNITS[text[-1]]
    raise ValueError(f"not a duration like 90m, 2h or 1d: {duration!r}")
