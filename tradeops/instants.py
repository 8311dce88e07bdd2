"""The instant `--ops-as-of` names: a past moment the store can speak for.

SLOs judged as of an instant with no data behind it are all "insufficient data", and a
gate that reads that as "nothing burned" would open on nothing. So the instant must be
an RFC 3339 time with its zone (`2026-11-20T09:00:00Z`, `...+01:00`), not in the
future, and not before the event store's first event. Each refusal is an
`AsOfError` naming the value, which the session turns into a usage error (exit 4).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from tradeops.connectors.errors import EventStoreError
from tradeops.connectors.event_store import EventStore

_BARE_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
EXAMPLE = "2026-11-20T09:00:00Z"


class AsOfError(ValueError):
    """--ops-as-of names no instant the suite can judge at; the message names the value."""


def parse_as_of(value: str, now_ms: int | None = None) -> int:
    """The instant as epoch ms; AsOfError for a bare date, no zone, or the future."""
    said = f"--ops-as-of {value!r}"
    if _BARE_DATE.match(value):
        raise AsOfError(f"{said}: a date, not an instant; give a time and zone like {EXAMPLE}")
    try:
        instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise AsOfError(f"{said}: expected an RFC 3339 time like {EXAMPLE}") from None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise AsOfError(f"{said}: no time zone; add Z or an offset, like {EXAMPLE}")
    as_of_ms = int(instant.timestamp() * 1000)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if as_of_ms > now_ms:
        raise AsOfError(f"{said}: in the future (now is {_utc(now_ms)}); name a past instant")
    return as_of_ms


def first_event_ms(store: EventStore) -> int | None:
    """The ts of the store's oldest event (None: an empty store); a read-only query."""
    rows = store._rows("SELECT MIN(ts) FROM events")  # events_ts index: one seek
    return rows[0][0] if rows and rows[0][0] is not None else None


def require_history(value: str, as_of_ms: int, store_path: str, busy_timeout_s: float) -> None:
    """AsOfError when the instant is before the store's first event (or the store is empty).

    A store that cannot be read is left to the checks, which report it as the platform's
    fault: this only refuses an instant the store can be seen to have no history for.
    """
    store = EventStore(store_path, busy_timeout_s)
    try:
        first = first_event_ms(store)
    except EventStoreError:
        return
    finally:
        store.close()
    said = f"--ops-as-of {value!r}"
    if first is None:
        raise AsOfError(f"{said}: the event store holds no events to judge at any instant")
    if as_of_ms < first:
        raise AsOfError(f"{said}: before the event store's first event ({_utc(first)})")


def _utc(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
