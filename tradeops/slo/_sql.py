"""SQL building blocks shared by the SLIs: guarded payload fields and the window aggregate.

Every SLI is computed where the data is: one SQL statement per SLI reads the window's rows
through the contract's indexes (events_type_ts for one type in a time range, events_run
for one run) and returns counts, never rows. Judged events are a derived table
`(t, bad)`: `t` is the instant the event's outcome became known, `bad` 0 or 1; one
aggregate then counts them for the SLO window and for every burn-rate alert window.
"""

from __future__ import annotations

from tradeops._record import frozen_record
from tradeops.slo.budget import ALERT_WINDOWS, DAY_MS, Counts

# json_type values each kind of payload field accepts.
_KINDS = {
    "text": ("text",),
    "integer": ("integer",),
    "id": ("text", "integer"),
}


def field(name: str, kind: str, column: str = "payload") -> str:
    """A payload field's value, or NULL when the payload is not JSON or the type is wrong.

    The CASE evaluates its branches in order, so json_extract never sees malformed JSON
    (a guard in WHERE would not help: the planner may reorder it).
    """
    accepted = ", ".join(f"'{k}'" for k in _KINDS[kind])
    path = f"'$.{name}'"
    return (
        f"(CASE WHEN json_valid({column}) THEN CASE WHEN json_type({column}, {path}) "
        f"IN ({accepted}) THEN json_extract({column}, {path}) END END)"
    )


def json_type(name: str, column: str = "payload") -> str:
    """The JSON type of a payload field ('true', 'false', 'text', ...), NULL if unreadable."""
    return f"(CASE WHEN json_valid({column}) THEN json_type({column}, '$.{name}') END)"


def window_param(name: str) -> str:
    """The bind-parameter name of an alert window's start."""
    return "w_" + name


@frozen_record
class Window:
    """An SLO window ending at `now_ms` (inclusive) and starting after `start_ms`."""

    now_ms: int
    days: float

    @property
    def start_ms(self) -> int:
        """Events strictly after this instant are in the window."""
        return self.now_ms - round(self.days * DAY_MS)

    def alert_start(self, name: str) -> int:
        """Start of one alert window, never before the SLO window's own start."""
        return max(self.start_ms, self.now_ms - ALERT_WINDOWS[name])

    def params(self, **extra: object) -> dict[str, object]:
        """Bind parameters: :now, :start, one :w_<name> per alert window, and `extra`."""
        params: dict[str, object] = {"now": self.now_ms, "start": self.start_ms}
        params.update({window_param(n): self.alert_start(n) for n in ALERT_WINDOWS})
        params.update(extra)
        return params


def aggregate(judged: str) -> str:
    """Count a `(t, bad)` derived table over the SLO window and every alert window.

    Columns: eligible, bad, then (eligible, bad) per alert window in ALERT_WINDOWS order.
    """
    columns = ["COUNT(*)", "COALESCE(SUM(bad), 0)"]
    for name in ALERT_WINDOWS:
        start = ":" + window_param(name)
        columns += [f"COALESCE(SUM(t > {start}), 0)", f"COALESCE(SUM(bad AND t > {start}), 0)"]
    # Materialized: each judged row is computed once, not once per aggregate column.
    return (
        f"WITH judged AS MATERIALIZED ({judged}) "
        f"SELECT {', '.join(columns)} FROM judged WHERE t > :start AND t <= :now"
    )


def counts_of(row: tuple) -> tuple[Counts, dict[str, Counts]]:
    """The aggregate's one row as (SLO window counts, alert window name -> counts)."""
    values = [int(v or 0) for v in row]
    window = Counts(values[0], values[1])
    alerts = {
        name: Counts(values[2 + 2 * i], values[3 + 2 * i]) for i, name in enumerate(ALERT_WINDOWS)
    }
    return window, alerts
