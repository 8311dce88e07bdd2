"""The numbers a check judged, kept for the report's pictures.

A check calls `record(request, nav=..., peak=..., limit=...)` with plain numbers (Decimal
is fine). They travel as the user property `tradeops_figures` (a JSON object; it crosses
xdist like every user property) and the verdict document carries them as the check's
`figures`. Recording never fails a check: a value JSON cannot hold is left out.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

PROPERTY = "tradeops_figures"


def record(request, **figures: object) -> None:
    """Attach this check's figures (numbers, strings, None) to its report."""
    clean = {k: _plain(v) for k, v in figures.items()}
    clean = {k: v for k, v in clean.items() if v is not _DROP}
    request.node.user_properties.append((PROPERTY, json.dumps(clean)))


def read(user_properties) -> dict:
    """The figures recorded on a report's user_properties (merged), {} when none."""
    out: dict = {}
    for key, value in user_properties or ():
        if key == PROPERTY:
            try:
                found = json.loads(value) if isinstance(value, str) else dict(value)
            except (TypeError, ValueError):
                continue
            if isinstance(found, dict):
                out.update(found)
    return out


_DROP = object()


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Decimal | int | float):
        number = float(value)
        return number if math.isfinite(number) else _DROP
    return _DROP
